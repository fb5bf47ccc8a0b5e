/**
 * The repository extension over an in-process engine (local mode, the model container): the index
 * from the repository and the engine's states, load and unload of ONNX models and pipelines, and the
 * discovery of a model added to the repository after start.
 */
import { InvalidInput, ModelNotFound } from "../errors";
import { quote } from "../protocol/quote";
import { isValidModelName } from "../repository/names";
import { RateLimitedScan } from "../repository/rescan";
import type { ModelRepository } from "../repository/types";
import type { LogSink } from "../telemetry/logger";
import type { Backend } from "./contract";
import type { EngineBackend } from "./engine-backend";

/** One row of the index, in Triton's shape; `version`, `state` and `reason` when known. */
export interface IndexEntry {
  name: string;
  version?: string;
  /** Triton's states: READY, LOADING, UNAVAILABLE. */
  state?: string;
  reason?: string;
}

/** What the repository routes act on. Every method throws the errors of layers/errors.ts. */
export interface RepositoryControl {
  /** Every model of the repository, one row per version known (Triton's index). */
  index(): Promise<IndexEntry[]>;
  /** Reads the model again and serves its newest version, loaded and warmed up, from now on. */
  load(model: string): Promise<void>;
  /** Stops serving the model (404) until it is loaded again. */
  unload(model: string): Promise<void>;
  /**
   * On a request for a model the catalog does not hold: looks in the repository (rate limited) and
   * adds it to the catalog if it is there; true when it was added.
   */
  discover?(model: string): Promise<boolean>;
}

/** A backend that loads on request (PipelineBackend, EngineBackend). */
type Loading = Backend & { load(model: string): Promise<unknown> };

/** What an EngineControl acts on. */
export interface EngineControlOptions {
  repo: ModelRepository;
  engine: EngineBackend;
  /** The catalog the protocol routes serve: models are added to it and removed from it. */
  catalog: Map<string, Backend>;
  /** What serves an ONNX model in the catalog (the engine, or a wrapper counting its runs). @default engine */
  served?: Backend;
  /** The one model this server may serve (the model container); others are not found. @default any */
  only?: string;
  /** Time between two listings of the repository for a model it has not seen (ms). @default 2000 */
  rescanIntervalMs?: number;
  logger?: LogSink;
}

const NOT_LOADED = "not loaded (POST /v2/repository/models/<name>/load serves it)";

/** The repository extension over an in-process engine and its catalog. */
export class EngineControl implements RepositoryControl {
  /** Models unloaded on request: not served, nor discovered again, until loaded. */
  private readonly unloaded = new Set<string>();
  /** Pipelines unloaded on request, kept to be served again by a load (their steps are wired at start). */
  private readonly parked = new Map<string, Backend>();
  private readonly scans: RateLimitedScan;

  constructor(private readonly options: EngineControlOptions) {
    this.scans = new RateLimitedScan(options.rescanIntervalMs);
  }

  async index(): Promise<IndexEntry[]> {
    const { catalog, engine } = this.options;
    const names = this.mine(await this.options.repo.listModels());
    const rows = await Promise.all(
      names.map(async (name): Promise<IndexEntry[]> => {
        const backend = catalog.get(name);
        if (this.unloaded.has(name)) return [{ name, state: "UNAVAILABLE", reason: "unloaded" }];
        if (backend === undefined) return [{ name, state: "UNAVAILABLE", reason: NOT_LOADED }];
        if (!this.isOnnx(backend)) {
          const ready = await backend.ready(name, undefined).catch(() => false);
          return [{ name, state: ready ? "READY" : "UNAVAILABLE", reason: ready ? "" : "not ready" }];
        }
        const versions = await engine.engine.versionStates(name);
        if (versions.length === 0) return [{ name, state: "UNAVAILABLE", reason: NOT_LOADED }];
        return versions.map(({ version, state }) => ({
          name,
          version: String(version),
          state: state === "FAILED" ? "UNAVAILABLE" : state,
          reason: state === "FAILED" ? "failed to load (the server log says why)" : "",
        }));
      }),
    );
    return rows.flat();
  }

  async load(model: string): Promise<void> {
    const { catalog, engine, repo } = this.options;
    this.assertMine(model);
    const existing = catalog.get(model) ?? this.parked.get(model);
    if (existing !== undefined && !this.isOnnx(existing)) {
      await (existing as Loading).load(model);
      this.unloaded.delete(model);
      this.parked.delete(model);
      catalog.set(model, existing);
      return;
    }
    const config = await repo.readConfig(model);
    if (config.platform === "ensemble" && existing === undefined) {
      throw new InvalidInput(
        `pipeline ${quote(model)} was not served at start: a new pipeline is served after a restart`,
      );
    }
    engine.addModel(model);
    await engine.reload(model);
    this.unloaded.delete(model);
    catalog.set(model, this.options.served ?? engine);
    this.options.logger?.info("model loaded on request", { model });
  }

  async unload(model: string): Promise<void> {
    const { catalog, engine } = this.options;
    this.assertMine(model);
    const backend = catalog.get(model);
    if (backend === undefined && !(await this.options.repo.listModels()).includes(model)) {
      throw new ModelNotFound(`unknown model ${quote(model)}`);
    }
    this.unloaded.add(model);
    catalog.delete(model);
    if (backend !== undefined && this.isOnnx(backend)) await engine.unloadModel(model);
    else if (backend !== undefined) this.parked.set(model, backend);
    this.options.logger?.info("model unloaded on request", { model });
  }

  /** A model added to the repository after start: added to the catalog on its first request. */
  async discover(model: string): Promise<boolean> {
    if (this.unloaded.has(model) || !isValidModelName(model) || this.mine([model]).length === 0) return false;
    // One listing per interval, whatever the names asked for: a 404 flood is not a listing flood.
    const names = await this.scans.run("", () => this.options.repo.listModels()).catch((): string[] => []);
    if (!names.includes(model) || this.options.catalog.has(model)) return this.options.catalog.has(model);
    const config = await this.options.repo.readConfig(model).catch(() => undefined);
    // A new pipeline needs its step models wired at start; an unreadable config is the engine's to report.
    if (config?.platform === "ensemble") return false;
    this.options.engine.addModel(model);
    this.options.catalog.set(model, this.options.served ?? this.options.engine);
    this.options.logger?.info("model found in the repository after start", { model });
    return true;
  }

  private isOnnx(backend: Backend): boolean {
    return backend === this.options.engine || backend === this.options.served;
  }

  private mine(names: string[]): string[] {
    const { only } = this.options;
    return only === undefined ? names : names.filter((n) => n === only);
  }

  private assertMine(model: string): void {
    if (this.mine([model]).length === 0) {
      throw new ModelNotFound(
        `unknown model ${quote(model)}: this server serves ${quote(this.options.only ?? "")}`,
      );
    }
  }
}
