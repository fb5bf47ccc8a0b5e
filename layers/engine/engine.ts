/**
 * ModelEngine: loads model versions from a repository into ONNX Runtime sessions on demand, warms
 * them up, keeps them while the version policy and the per-model limit allow, and runs requests.
 */
import { ModelNotFound, ModelNotReady } from "../errors";
import type { ModelMetadataResponse, Tensor } from "../protocol/types";
import { RateLimitedScan } from "../repository/rescan";
import type { ModelConfig, ModelRepository } from "../repository/types";
import { createModel, type Placement, placementOf } from "./load";
import type { ServedModel } from "./loaded";
import { type ModelInfo, readModelInfo } from "./model-info";
import { preloadOrt } from "./ort";
import type { EngineLogger, EngineOptions, LoadedModel, ModelState } from "./types";
import { policyCount } from "./versions";

interface Entry {
  model: string;
  version: number;
  state: Exclude<ModelState, "UNAVAILABLE">;
  promise: Promise<ServedModel>;
  loaded?: ServedModel;
  failedAt: number;
  /** Where and how its session was opened (placementOf, with the info it was loaded with). */
  placement: Placement;
  /** The config.json it was opened with: a reload that reads another one opens it again. */
  config: ModelConfig;
  /** A reopening under way (reopened). */
  reopening?: Promise<ServedModel>;
  /** Logical clock of the last use, for least-recently-used eviction. */
  lastUsed: number;
}

const key = (model: string, version: number): string => `${model}\u0000${version}`;
const samePlacement = (a: Placement, b: Placement): boolean =>
  a.thread === b.thread && a.workers === b.workers && a.lowPriority === b.lowPriority;
/**
 * Two parsed config.json files alike for a session (compared once per reload and version, never per
 * request): `live_version` and `shadow` name roles, which the placement follows, so a new shadow
 * percent or live version alone opens nothing again.
 */
const sameConfig = (a: ModelConfig, b: ModelConfig): boolean => {
  const session = ({ live_version, shadow, ...rest }: ModelConfig) => JSON.stringify(rest);
  return session(a) === session(b);
};
const noop = (): void => undefined;

/** Why a version is opened again: a role moves its thread or priority; anything else is its config.json. */
function reopenReason(before: Placement, after: Placement, live: boolean): string {
  if (before.thread === after.thread && before.lowPriority === after.lowPriority)
    return "its config.json changed";
  if (after.lowPriority) return "it only answers mirrors now";
  return live ? "it is live now" : "its role changed";
}

/** Serves the models of one repository with onnxruntime-node. */
export class ModelEngine {
  private readonly entries = new Map<string, Entry>();
  private readonly infos = new Map<string, Promise<ModelInfo>>();
  /** Default version of each model whose info was read: lets hot paths skip the repository. */
  private readonly defaults = new Map<string, number>();
  private readonly log: EngineLogger;
  /** Looks for versions added after start, at most once per interval per model. */
  private readonly rescans: RateLimitedScan;
  private clock = 0;
  private closed = false;

  constructor(
    private readonly repo: ModelRepository,
    private readonly options: EngineOptions = {},
  ) {
    this.log = options.logger ?? noop;
    this.rescans = new RateLimitedScan(options.rescanIntervalMs);
    // Sessions on this thread need ORT: its load overlaps the first model's download. A worker
    // (INFERENCE_THREAD=worker) loads its own.
    if (options.inferenceThread !== "worker") preloadOrt();
  }

  /**
   * The model version loaded and warmed up (the default version when `version` is undefined).
   * Concurrent calls share one load; a failed load is retried by a call after `retryFailedAfterMs`.
   */
  async load(model: string, version?: number): Promise<LoadedModel> {
    const ready = this.readyModel(model, version);
    if (ready !== undefined) return ready;
    this.assertOpen();
    let info = await this.info(model);
    const v = version ?? info.defaultVersion;
    if (!info.servable.includes(v)) info = await this.rescan(model, v, info);
    return this.loadVersion(model, v, info);
  }

  /**
   * Makes the model's newest servable version its default and loads it (Triton's load): re-reads
   * the config and versions, loads and warms the new default before any request is moved to it,
   * then opens again the other loaded versions whose role or config changed (the former live
   * version, now the shadow: in its worker only, at low priority; placed), and unloads the versions
   * the policy no longer serves.
   */
  async reload(model: string): Promise<LoadedModel> {
    this.assertOpen();
    const info = await this.readInfo(model);
    const loaded = await this.placed(model, info.defaultVersion, info);
    this.infos.set(model, Promise.resolve(info));
    this.defaults.set(model, info.defaultVersion);
    const others = this.entriesOf(model).filter(
      (e) => e.state === "READY" && e.version !== info.defaultVersion && info.servable.includes(e.version),
    );
    // A failed reopening (logged as a failed load) leaves that version serving as it was.
    await Promise.all(others.map((e) => this.placed(model, e.version, info).catch(noop)));
    await this.refreshStale(model, info);
    return loaded;
  }

  /** Unloads every version of the model and forgets what was read of it (Triton's unload). */
  async unloadModel(model: string): Promise<void> {
    this.infos.delete(model);
    this.defaults.delete(model);
    await Promise.all(this.entriesOf(model).map((e) => this.unload(model, e.version)));
  }

  /** The versions the model serves (as last read), with their states; [] when it was not read. */
  async versionStates(model: string): Promise<Array<{ version: number; state: ModelState }>> {
    const info = this.infos.get(model);
    const servable = info === undefined ? [] : await info.then((i) => i.servable).catch(() => []);
    return servable.map((version) => ({ version, state: this.state(model, version) }));
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
    await this.refreshStale(model, await this.info(model));
  }

  private async refreshStale(model: string, info: ModelInfo): Promise<void> {
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

  /**
   * A pinned version the model does not serve as last read: looks in the repository again (rate
   * limited), adding the versions found there. The default version stays until a reload.
   */
  private async rescan(model: string, version: number, info: ModelInfo): Promise<ModelInfo> {
    const before = this.infos.get(model);
    const fresh = await this.rescans.run(model, () => this.readInfo(model)).catch(() => undefined);
    if (fresh === undefined || !fresh.servable.includes(version)) {
      throw new ModelNotFound(`model '${model}' has no version ${version}`);
    }
    const servable = [...new Set([...info.servable, ...fresh.servable])].sort((a, b) => a - b);
    const merged: ModelInfo = { ...info, servable };
    if (this.infos.get(model) === before) this.infos.set(model, Promise.resolve(merged));
    this.log("info", `model '${model}' version ${version} found in the repository`, { model, version });
    return merged;
  }

  private readInfo(model: string): Promise<ModelInfo> {
    return readModelInfo(this.repo, model, this.options.liveVersions?.get(model), this.log);
  }

  private loadVersion(model: string, version: number, info: ModelInfo): Promise<ServedModel> {
    const k = key(model, version);
    const existing = this.entries.get(k);
    if (existing !== undefined) {
      existing.lastUsed = ++this.clock;
      const retryAfter = this.options.retryFailedAfterMs ?? 1000;
      if (existing.state !== "FAILED" || Date.now() - existing.failedAt < retryAfter) return existing.promise;
    }
    const placement = this.placementFor(info, version);
    const loading = this.open(model, version, info, placement);
    const entry: Entry = {
      model,
      version,
      state: "LOADING",
      promise: loading,
      failedAt: 0,
      placement,
      config: info.config,
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
        loaded.onFailure?.((e) => this.failReady(entry, loaded, e));
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

  /**
   * loadVersion, except that a READY version is opened again when `info` places it otherwise than
   * it was opened (a shadow made live moves from its low-priority worker to both threads; a live
   * version made the shadow, the other way) or brings another config.json (Triton's load applies
   * an edited config). The old session serves until the new one is warm, then is released (its
   * runs in flight finish first); a failed reopening leaves it serving.
   */
  private placed(model: string, version: number, info: ModelInfo): Promise<ServedModel> {
    const existing = this.entries.get(key(model, version));
    const placement = this.placementFor(info, version);
    if (
      existing?.state !== "READY" ||
      (samePlacement(existing.placement, placement) && sameConfig(existing.config, info.config))
    )
      return this.loadVersion(model, version, info);
    existing.reopening ??= this.reopened(existing, info, placement).finally(() => {
      existing.reopening = undefined;
    });
    return existing.reopening;
  }

  private async reopened(entry: Entry, info: ModelInfo, placement: Placement): Promise<ServedModel> {
    const { model, version } = entry;
    const where = { model, version };
    const { thread, workers, lowPriority } = placement;
    const why = reopenReason(entry.placement, placement, version === info.defaultVersion);
    const workerCount = workers === 1 ? "1 worker" : `${workers} workers`;
    const low = lowPriority ? ", at the lowest CPU priority" : "";
    this.log(
      "info",
      `reopening model '${model}' version ${version} on thread '${thread}' (${workerCount}${low}): ${why}`,
      {
        ...where,
        ...placement,
      },
    );
    const loaded = await this.open(model, version, info, placement);
    const old = entry.loaded;
    if (this.entries.get(key(model, version)) !== entry || entry.state !== "READY" || old === undefined) {
      loaded.release().catch(noop);
      throw new ModelNotReady(`model '${model}' version ${version} was unloaded while loading`);
    }
    entry.loaded = loaded;
    entry.promise = Promise.resolve(loaded);
    entry.placement = placement;
    entry.config = info.config;
    loaded.onFailure?.((e) => this.failReady(entry, loaded, e));
    old.release().catch(noop);
    this.log("info", `model '${model}' version ${version} is ready`, where);
    return loaded;
  }

  /** Where the version's session opens in this engine's mode, by its role in `info` (load.ts). */
  private placementFor(info: ModelInfo, version: number): Placement {
    return placementOf(this.options.inferenceThread ?? "main", info, version);
  }

  /** Loads and warms a session of the version where `placement` says. */
  private open(model: string, version: number, info: ModelInfo, placement: Placement): Promise<ServedModel> {
    return createModel(this.repo, { model, version, config: info.config }, this.log, {
      warmup: this.options.warmup ?? true,
      ...placement,
    });
  }

  /** A READY version that broke on its own (its worker died): FAILED, so a later load retries it. */
  private failReady(entry: Entry, broken: ServedModel, e: Error): void {
    if (this.entries.get(key(entry.model, entry.version)) !== entry || entry.state !== "READY") return;
    // A session already replaced (reopened) is no news for the entry.
    if (entry.loaded !== broken) return;
    entry.state = "FAILED";
    entry.failedAt = Date.now();
    entry.loaded = undefined;
    entry.promise = Promise.reject(e);
    entry.promise.catch(noop);
    // What still works of it (the main-thread session beside a dead worker, a pool's other
    // workers) is released once its runs in flight are done: a later load opens it all again.
    broken.release().catch(noop);
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
