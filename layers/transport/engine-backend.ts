/**
 * Backend over a ModelEngine in this process: what the Lambda handler and the container server run,
 * and what local mode's gateway calls directly (no serialisation on that path).
 */
import type { ModelEngine } from "../engine";
import type { LoadedModel } from "../engine/types";
import { ModelNotFound } from "../errors";
import type { DecodedInferRequest } from "../protocol/types";
import type { Backend, InferResult, ModelDescription } from "./backend";
import { quote } from "./quote";
import { parseVersion } from "./version";

/** Options of EngineBackend. */
export interface EngineBackendOptions {
  /** The only models served; others are ModelNotFound. @default every model of the repository */
  models?: readonly string[];
  /**
   * The live version per model, answering unversioned requests (a model function's configured
   * version). @default the highest version the model's version_policy serves
   */
  liveVersions?: ReadonlyMap<string, number>;
}

/** Serves models from an in-process ModelEngine; pinned versions load on demand. */
export class EngineBackend implements Backend {
  private readonly models: ReadonlySet<string> | undefined;
  private readonly live: ReadonlyMap<string, number>;

  constructor(
    readonly engine: ModelEngine,
    options: EngineBackendOptions = {},
  ) {
    this.models = options.models === undefined ? undefined : new Set(options.models);
    this.live = options.liveVersions ?? new Map();
  }

  /** Loads and warms a version (the live one by default); resolves once it is ready. */
  load(model: string, version?: string): Promise<LoadedModel> {
    return this.engine.load(model, this.resolve(model, version));
  }

  /** Metadata and config of the version, loading it if needed. */
  async describe(model: string, version: string | undefined): Promise<ModelDescription> {
    const v = this.resolve(model, version);
    const loaded = await this.engine.load(model, v);
    const metadata = await this.engine.metadata(model, loaded.version);
    return { version: String(loaded.version), metadata, config: loaded.config };
  }

  /** True once the version is loaded and warmed up; never starts a load. */
  async ready(model: string, version: string | undefined): Promise<boolean> {
    return this.engine.isReady(model, this.resolve(model, version));
  }

  /** Runs the request on the version (loading a pinned one on demand). */
  async infer(
    model: string,
    version: string | undefined,
    request: DecodedInferRequest,
  ): Promise<InferResult> {
    const names = request.outputs?.map((o) => o.name);
    const result = await this.engine.infer(
      model,
      this.resolve(model, version),
      request.inputs,
      names !== undefined && names.length > 0 ? names : undefined,
    );
    return { version: String(result.version), outputs: result.outputs };
  }

  /** Unloads every model. */
  close(): Promise<void> {
    return this.engine.close();
  }

  private resolve(model: string, version: string | undefined): number | undefined {
    if (this.models !== undefined && !this.models.has(model)) {
      throw new ModelNotFound(`unknown model ${quote(model)}`);
    }
    return version === undefined ? this.live.get(model) : parseVersion(version);
  }
}
