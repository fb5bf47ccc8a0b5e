/**
 * ModelEngine: loads model versions from a repository into ONNX Runtime sessions on demand, warms
 * them up, keeps them while the version policy and the per-model limit allow, and runs requests.
 */
import { InferenceError, ModelNotFound, ModelNotReady } from "../errors";
import type { ModelMetadataResponse, Tensor } from "../protocol/types";
import type { ModelConfig, ModelRepository } from "../repository/types";
import { createModel } from "./load";
import type { ServedModel } from "./loaded";
import type { EngineLogger, EngineOptions, LoadedModel, ModelState } from "./types";
import { defaultVersion, policyCount, servableVersions } from "./versions";

interface ModelInfo {
  config: ModelConfig;
  /** Versions the policy serves among those in the repository, ascending. */
  servable: number[];
  defaultVersion: number;
}

interface Entry {
  model: string;
  version: number;
  state: Exclude<ModelState, "UNAVAILABLE">;
  promise: Promise<ServedModel>;
  loaded?: ServedModel;
  failedAt: number;
  /** Logical clock of the last use, for least-recently-used eviction. */
  lastUsed: number;
}

const key = (model: string, version: number): string => `${model}\u0000${version}`;
const noop = (): void => undefined;

/** Serves the models of one repository with onnxruntime-node. */
export class ModelEngine {
  private readonly entries = new Map<string, Entry>();
  private readonly infos = new Map<string, Promise<ModelInfo>>();
  /** Default version of each model whose info was read: lets hot paths skip the repository. */
  private readonly defaults = new Map<string, number>();
  private readonly log: EngineLogger;
  private clock = 0;
  private closed = false;

  constructor(
    private readonly repo: ModelRepository,
    private readonly options: EngineOptions = {},
  ) {
    this.log = options.logger ?? noop;
  }

  /**
   * The model version loaded and warmed up (the default version when `version` is undefined).
   * Concurrent calls share one load; a failed load is retried by a call after `retryFailedAfterMs`.
   */
  async load(model: string, version?: number): Promise<LoadedModel> {
    const ready = this.readyModel(model, version);
    if (ready !== undefined) return ready;
    this.assertOpen();
    const info = await this.info(model);
    const v = version ?? info.defaultVersion;
    if (!info.servable.includes(v)) throw new ModelNotFound(`model '${model}' has no version ${v}`);
    return this.loadVersion(model, v, info);
  }

  /** State of a version (of the default version when known, if `version` is undefined). */
  state(model: string, version?: number): ModelState {
    const v = version ?? this.defaults.get(model);
    if (v === undefined) return "UNAVAILABLE";
    return this.entries.get(key(model, v))?.state ?? "UNAVAILABLE";
  }

  /** True when the version is loaded and warmed up. */
  isReady(model: string, version?: number): boolean {
    return this.state(model, version) === "READY";
  }

  /** The protocol's model metadata; loads the version so that the signature is the served one. */
  async metadata(model: string, version?: number): Promise<ModelMetadataResponse> {
    const loaded = await this.load(model, version);
    const info = await this.info(model);
    const copy = (t: { name: string; datatype: Tensor["datatype"]; shape: number[] }) => ({
      name: t.name,
      datatype: t.datatype,
      shape: [...t.shape],
    });
    return {
      name: model,
      versions: info.servable.map(String),
      platform: loaded.config.platform,
      inputs: loaded.signature.inputs.map(copy),
      outputs: loaded.signature.outputs.map(copy),
    };
  }

  /** Forgets a version; its session is released once the runs in flight are done. */
  async unload(model: string, version: number): Promise<void> {
    const k = key(model, version);
    const entry = this.entries.get(k);
    if (entry === undefined) return;
    this.entries.delete(k);
    this.log("info", `unloaded model '${model}' version ${version}`, { model, version });
    // A version still loading is released by loadVersion when it finds its entry gone.
    if (entry.loaded !== undefined) await entry.loaded.release();
  }

  /**
   * Re-reads the model's config and versions (e.g. after a new version was published) and unloads
   * the loaded versions the policy no longer serves.
   */
  async refresh(model: string): Promise<void> {
    this.infos.delete(model);
    this.defaults.delete(model);
    const info = await this.info(model);
    const stale = this.entriesOf(model).filter((e) => !info.servable.includes(e.version));
    for (const e of stale) {
      this.log("info", `model '${model}' version ${e.version} is no longer served by the version policy`, {
        model,
        version: e.version,
      });
    }
    await Promise.all(stale.map((e) => this.unload(model, e.version)));
  }

  /** Every version the engine holds, with its state. */
  loaded(): Array<{ model: string; version: number; state: ModelState }> {
    return [...this.entries.values()].map(({ model, version, state }) => ({ model, version, state }));
  }

  /** Unloads everything; the engine refuses further work. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    await Promise.all(all.map((e) => this.unload(e.model, e.version)));
    this.infos.clear();
    this.defaults.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new ModelNotReady("the inference engine is shut down");
  }

  /** The READY version without touching the repository (the hot path), or undefined. */
  private readyModel(model: string, version: number | undefined): ServedModel | undefined {
    const v = version ?? this.defaults.get(model);
    if (v === undefined) return undefined;
    const entry = this.entries.get(key(model, v));
    if (entry?.state !== "READY" || entry.loaded === undefined) return undefined;
    entry.lastUsed = ++this.clock;
    return entry.loaded;
  }

  private entriesOf(model: string): Entry[] {
    return [...this.entries.values()].filter((e) => e.model === model);
  }

  private info(model: string): Promise<ModelInfo> {
    const cached = this.infos.get(model);
    if (cached !== undefined) return cached;
    const p = this.readInfo(model);
    this.infos.set(model, p);
    p.then(
      (info) => this.defaults.set(model, info.defaultVersion),
      () => {
        // Not cached: the next call reads the repository again.
        if (this.infos.get(model) === p) this.infos.delete(model);
      },
    );
    return p;
  }

  private async readInfo(model: string): Promise<ModelInfo> {
    let config: ModelConfig;
    let available: number[];
    try {
      [config, available] = await Promise.all([this.repo.readConfig(model), this.repo.listVersions(model)]);
    } catch (e) {
      if (e instanceof InferenceError) throw e;
      this.log("error", `model '${model}' cannot be read from the repository`, {
        model,
        error: e instanceof Error ? e.message : String(e),
      });
      throw new ModelNotReady(`model '${model}' cannot be read from the repository`, { cause: e });
    }
    const policy = servableVersions(config.version_policy, available);
    const live = this.options.liveVersions?.get(model) ?? config.live_version;
    if (live !== undefined && !available.includes(live)) {
      throw new ModelNotFound(
        `model '${model}' live version ${live} is not in the repository (available: ${available.join(", ") || "none"})`,
      );
    }
    // The live version and a shadow present in the repository are served whatever the policy says.
    const extra = [live, config.shadow?.version].filter(
      (v): v is number => v !== undefined && available.includes(v) && !policy.includes(v),
    );
    const servable = extra.length === 0 ? policy : [...new Set([...policy, ...extra])].sort((a, b) => a - b);
    const dv = live ?? defaultVersion(servable);
    if (dv === undefined) {
      throw new ModelNotFound(
        available.length === 0
          ? `model '${model}' has no versions`
          : `model '${model}' has no version allowed by its version_policy (available: ${available.join(", ")})`,
      );
    }
    return { config, servable, defaultVersion: dv };
  }

  private loadVersion(model: string, version: number, info: ModelInfo): Promise<ServedModel> {
    const k = key(model, version);
    const existing = this.entries.get(k);
    if (existing !== undefined) {
      existing.lastUsed = ++this.clock;
      const retryAfter = this.options.retryFailedAfterMs ?? 1000;
      if (existing.state !== "FAILED" || Date.now() - existing.failedAt < retryAfter) return existing.promise;
    }
    const loading = createModel(this.repo, { model, version, config: info.config }, this.log, {
      warmup: this.options.warmup ?? true,
      thread: this.options.inferenceThread ?? "main",
    });
    const entry: Entry = {
      model,
      version,
      state: "LOADING",
      promise: loading,
      failedAt: 0,
      lastUsed: ++this.clock,
    };
    entry.promise = loading.then(
      (loaded) => {
        if (this.entries.get(k) !== entry) {
          loaded.release().catch(noop);
          throw new ModelNotReady(`model '${model}' version ${version} was unloaded while loading`);
        }
        entry.state = "READY";
        entry.loaded = loaded;
        loaded.onFailure?.((e) => this.failReady(entry, e));
        this.log("info", `model '${model}' version ${version} is ready`, { model, version });
        this.enforceLimit(model, info, version);
        return loaded;
      },
      (e: unknown) => {
        if (this.entries.get(k) === entry) {
          entry.state = "FAILED";
          entry.failedAt = Date.now();
        }
        throw e;
      },
    );
    this.entries.set(k, entry);
    return entry.promise;
  }

  /** A READY version that broke on its own (its worker died): FAILED, so a later load retries it. */
  private failReady(entry: Entry, e: Error): void {
    if (this.entries.get(key(entry.model, entry.version)) !== entry || entry.state !== "READY") return;
    entry.state = "FAILED";
    entry.failedAt = Date.now();
    entry.loaded = undefined;
    entry.promise = Promise.reject(e);
    entry.promise.catch(noop);
  }

  /** Keeps at most maxVersionsPerModel versions: unloads the least recently used non-default ones. */
  private enforceLimit(model: string, info: ModelInfo, justLoaded: number): void {
    const limit = this.options.maxVersionsPerModel ?? 2 + policyCount(info.config.version_policy);
    const live = this.entriesOf(model).filter((e) => e.state !== "FAILED");
    let excess = live.length - limit;
    const candidates = live
      .filter((e) => e.state === "READY" && e.version !== info.defaultVersion && e.version !== justLoaded)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const e of candidates) {
      if (excess <= 0) break;
      excess--;
      this.log("info", `evicting model '${model}' version ${e.version} (least recently used)`, {
        model,
        version: e.version,
        limit,
      });
      this.unload(model, e.version).catch(noop);
    }
  }
}
