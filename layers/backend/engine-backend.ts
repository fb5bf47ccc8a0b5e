/**
 * Backend over a ModelEngine in this process: what the Lambda handler and the container server run,
 * and what local mode's gateway calls directly (no serialisation on that path). Models whose
 * config.json enables `dynamic_batching` have their concurrent requests stacked by a DynamicBatcher.
 */
import {
  type BatcherStats,
  type BatchInfo,
  batcherOptionsOf,
  batchingEnabled,
  DynamicBatcher,
} from "../batching";
import type { ModelEngine } from "../engine";
import { HybridModel } from "../engine/hybrid-model";
import type { LoadedModel } from "../engine/types";
import { WorkerModel } from "../engine/worker-model";
import { WorkerPool } from "../engine/worker-pool";
import { ModelNotFound } from "../errors";
import { quote } from "../protocol/quote";
import type { Tensor } from "../protocol/types";
import { applyClassification } from "../validation/classification";
import { requestedOutputs, type ValidatedRequest } from "../validation/request";
import type { Backend, InferResult, ModelDescription } from "./contract";

/** Options of EngineBackend. */
export interface EngineBackendOptions {
  /** The only models served; others are ModelNotFound. @default every model of the repository */
  models?: readonly string[];
  /**
   * The live version per model, answering unversioned requests (a model function's configured
   * version). @default the highest version the model's version_policy serves
   */
  liveVersions?: ReadonlyMap<string, number>;
  /**
   * Honour `dynamic_batching.enabled` in config.json; false runs every request on its own (the
   * bench's comparison, or a host where latency matters more than throughput). @default true
   */
  batching?: boolean;
  /** Called at each batch dispatch (batch size, queue times), for metrics; a throw is ignored. */
  onBatch?: (model: string, version: number, info: BatchInfo) => void;
}

/** The batcher of one loaded model version; replaced when the engine hands out a new load. */
interface BatcherEntry {
  loaded: LoadedModel;
  batcher: DynamicBatcher;
}

const ms = (micros: number): number => micros / 1000;

/** Serves models from an in-process ModelEngine; pinned versions load on demand. */
export class EngineBackend implements Backend {
  private readonly models: Set<string> | undefined;
  private readonly live: ReadonlyMap<string, number>;
  private readonly batching: boolean;
  private readonly onBatch: EngineBackendOptions["onBatch"];
  private readonly batchers = new Map<string, BatcherEntry>();

  constructor(
    readonly engine: ModelEngine,
    options: EngineBackendOptions = {},
  ) {
    this.models = options.models === undefined ? undefined : new Set(options.models);
    this.live = options.liveVersions ?? new Map();
    this.batching = options.batching ?? true;
    this.onBatch = options.onBatch;
  }

  /** Loads and warms a version (the live one by default); resolves once it is ready. */
  load(model: string, version?: number): Promise<LoadedModel> {
    return this.engine.load(model, this.resolve(model, version));
  }

  /** Metadata and config of the version, loading it if needed. */
  async describe(model: string, version: number | undefined): Promise<ModelDescription> {
    const v = this.resolve(model, version);
    const loaded = await this.engine.load(model, v);
    const metadata = await this.engine.metadata(model, loaded.version);
    return { version: String(loaded.version), metadata, config: loaded.config };
  }

  /** True once the version is loaded and warmed up; never starts a load. */
  async ready(model: string, version: number | undefined): Promise<boolean> {
    return this.engine.isReady(model, this.resolve(model, version));
  }

  /**
   * Runs the request on the version (loading a pinned one on demand); the caller validated it
   * against this version's description. `signal` takes a request out of the batcher's queue; a run
   * already started finishes.
   */
  async infer(...[model, version, request, signal]: Parameters<Backend["infer"]>): Promise<InferResult> {
    const loaded = await this.engine.load(model, this.resolve(model, version));
    const names = requestedOutputs(request);
    const answered = String(loaded.version);
    if (this.batching && batchingEnabled(loaded.config)) {
      // A version on both threads sends a batch to its worker while other requests wait.
      const hybrid = loaded instanceof HybridModel ? loaded : undefined;
      if (hybrid !== undefined) hybrid.waiting++;
      try {
        const r = await this.batcherOf(loaded).submit(
          request,
          names,
          signal === undefined ? undefined : { signal },
        );
        return {
          version: answered,
          outputs: classified(request, r.outputs, loaded),
          timing: { queueMs: ms(r.queueMicros), inferMs: ms(r.runMicros) },
        };
      } finally {
        if (hybrid !== undefined) hybrid.waiting--;
      }
    }
    const started = performance.now();
    const outputs = await loaded.run(request.inputs, names);
    const inferMs = performance.now() - started;
    return { version: answered, outputs: classified(request, outputs, loaded), timing: { inferMs } };
  }

  /** Counters of the version's batcher (undefined when none was created for it). */
  batcherStats(model: string, version: number): BatcherStats | undefined {
    return this.batchers.get(key(model, version))?.batcher.stats();
  }

  /** Unloads a version: its queued requests are refused (ModelNotReady), its running batch finishes. */
  async unload(model: string, version: number): Promise<void> {
    const k = key(model, version);
    const entry = this.batchers.get(k);
    this.batchers.delete(k);
    if (entry !== undefined) await entry.batcher.close();
    await this.engine.unload(model, version);
  }

  /** Serves `model` too (one found in the repository after start). */
  addModel(model: string): void {
    this.models?.add(model);
  }

  /** Makes the model's newest version its live one, loaded and warmed up (the repository's `load`). */
  async reload(model: string): Promise<void> {
    this.resolve(model, undefined);
    await this.engine.reload(model);
  }

  /** Unloads every version of the model (the repository's `unload`); a later request loads it again. */
  async unloadModel(model: string): Promise<void> {
    const versions = this.engine.loaded().filter((e) => e.model === model);
    await Promise.all(versions.map((e) => this.unload(model, e.version)));
    await this.engine.unloadModel(model);
  }

  /** Closes every batcher (as `unload` does), then unloads every model. */
  async close(): Promise<void> {
    const entries = [...this.batchers.values()];
    this.batchers.clear();
    await Promise.all(entries.map((e) => e.batcher.close()));
    await this.engine.close();
  }

  /**
   * The version's batcher, created on first use. The engine may unload a version and load it again
   * (eviction, refresh): a new LoadedModel gets a new batcher and the old one is closed.
   */
  private batcherOf(loaded: LoadedModel): DynamicBatcher {
    const k = key(loaded.name, loaded.version);
    const entry = this.batchers.get(k);
    if (entry?.loaded === loaded) return entry.batcher;
    if (entry !== undefined) void entry.batcher.close();
    const hook = this.onBatch;
    const { name, version } = loaded;
    // A version that runs in a worker gets its next full batch queued beside the running one: the
    // worker then goes on at once instead of idling while the answer crosses back to this thread.
    // One on both threads computes two batches at once (HybridModel sends the second here); each
    // worker of an instance_group one more.
    const instances = loaded.concurrency ?? 1;
    const offThread =
      loaded instanceof HybridModel || loaded instanceof WorkerModel || loaded instanceof WorkerPool;
    const batcher = new DynamicBatcher(
      batcherOptionsOf(loaded.config, (inputs, outputs) => loaded.run(inputs, outputs), {
        maxConcurrentBatches: instances + (offThread ? 1 : 0),
        instances,
        ...(hook === undefined ? {} : { onBatch: (info) => hook(name, version, info) }),
      }),
    );
    this.batchers.set(k, { loaded, batcher });
    return batcher;
  }

  private resolve(model: string, version: number | undefined): number | undefined {
    if (this.models !== undefined && !this.models.has(model)) {
      throw new ModelNotFound(`unknown model ${quote(model)}`);
    }
    return version ?? this.live.get(model);
  }
}

/** The outputs with the classification extension applied where the request asks for it. */
function classified(request: ValidatedRequest, outputs: Tensor[], loaded: LoadedModel): Tensor[] {
  return applyClassification(request.outputs, outputs, loaded.labels, loaded.config.max_batch_size > 0);
}

function key(model: string, version: number): string {
  return `${model}\u0000${version}`;
}
