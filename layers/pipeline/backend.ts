/**
 * PipelineBackend: serves `platform: "ensemble"` models through the same Backend contract as the
 * engine, so the gateway's validation, result cache, metrics and limits apply to a pipeline as to
 * any model. Step models are called through their own backends (local mode: the in-process
 * engine with its batcher), so they stay individually addressable. A version is ready only after
 * its first sample ran and agreed with the expected outputs.
 */

import { type Backend, type InferResult, type ModelDescription, validateFor } from "../backend/contract";
import { defaultVersion, servableVersions } from "../engine/versions";
import { ModelNotFound, ModelNotReady } from "../errors";
import { tensorFromJSON } from "../protocol/json";
import { quote } from "../protocol/quote";
import type { Tensor } from "../protocol/types";
import { DEFAULT_RELEASE } from "../repository/release";
import { disagreements, parseSample, type Sample, SampleError } from "../repository/samples";
import type { ModelConfig, StepModel } from "../repository/types";
import type { LogSink as Logger } from "../telemetry/logger";
import type { PipelineFiles } from "./files";
import { type Pipeline, preparePipeline } from "./pipeline";
import type { ProcessorRegistry } from "./processor";
import { BUILTIN_PROCESSORS } from "./processors";

/** What a PipelineBackend is built from. */
export interface PipelineBackendOptions {
  /** The pipelines served (models whose config.json says `platform: "ensemble"`). */
  models: readonly string[];
  readConfig(model: string): Promise<ModelConfig>;
  files: PipelineFiles;
  /** The backend serving a step model (undefined: unknown model). */
  stepBackend(model: string): Backend | undefined;
  /** @default BUILTIN_PROCESSORS */
  registry?: ProcessorRegistry;
  /** @default silent */
  logger?: Logger;
}

/** A loaded, warmed pipeline version. */
interface Loaded {
  version: number;
  description: ModelDescription;
  pipeline: Pipeline;
}

/** Serves pipelines in this process. */
export class PipelineBackend implements Backend {
  private readonly models: ReadonlySet<string>;
  private readonly loads = new Map<string, Promise<Loaded>>();
  private readonly warm = new Set<string>();
  /** Config and servable versions per pipeline, read once (a failed read is tried again). */
  private readonly catalog = new Map<string, Promise<{ config: ModelConfig; servable: number[] }>>();

  constructor(private readonly options: PipelineBackendOptions) {
    this.models = new Set(options.models);
  }

  /** Loads and warms a version (the default one when none is named). */
  async load(model: string, version?: number): Promise<Loaded> {
    const { config, servable, v } = await this.resolve(model, version);
    const k = `${model}\u0000${v}`;
    let p = this.loads.get(k);
    if (p === undefined) {
      p = this.prepare(config, servable, v).then(
        (loaded) => {
          this.warm.add(k);
          return loaded;
        },
        (e: unknown) => {
          // A failed load is tried again by the next request (a step model may have come up since).
          this.loads.delete(k);
          this.options.logger?.warn("pipeline version failed to load", {
            model,
            version: v,
            error: String(e),
          });
          throw e;
        },
      );
      this.loads.set(k, p);
    }
    return p;
  }

  /** Metadata (from config.json: a pipeline has no ONNX file) and config of the version. */
  async describe(model: string, version: number | undefined): Promise<ModelDescription> {
    return (await this.load(model, version)).description;
  }

  /** True once the version ran its sample and agreed with it; never starts a load. */
  async ready(model: string, version: number | undefined): Promise<boolean> {
    const { v } = await this.resolve(model, version);
    return this.warm.has(`${model}\u0000${v}`);
  }

  /** Runs every step; `timing.steps` has each step's duration for Server-Timing. */
  async infer(...[model, version, request, signal]: Parameters<Backend["infer"]>): Promise<InferResult> {
    const loaded = await this.load(model, version);
    const requested = request.outputs?.map((o) => o.name).filter((n) => n !== "");
    const names = requested !== undefined && requested.length > 0 ? requested : undefined;
    // Validated by the caller (once per process) against describe()'s signature.
    const { metadata } = loaded.description;
    const started = performance.now();
    const { outputs, steps } = await loaded.pipeline.run(
      request.inputs,
      (m, inputs) => this.call(m, inputs, signal),
      signal,
    );
    const wanted = names ?? metadata.outputs.map((o) => o.name);
    return {
      version: String(loaded.version),
      outputs: wanted.map((n) => outputs.get(n)).filter((t): t is Tensor => t !== undefined),
      timing: { inferMs: performance.now() - started, steps },
    };
  }

  private async call(m: StepModel, inputs: Tensor[], signal?: AbortSignal): Promise<Tensor[]> {
    const backend = this.stepOf(m.model_name);
    const version = m.model_version === -1 ? undefined : m.model_version;
    // A step's request is a new request to that model: validated once, against its signature.
    const description = await backend.describe(m.model_name, version, signal);
    return (await backend.infer(m.model_name, version, validateFor({ inputs }, description), signal)).outputs;
  }

  private stepOf(model: string): Backend {
    const backend = this.options.stepBackend(model);
    if (backend === undefined || backend === this)
      throw new ModelNotFound(`unknown step model ${quote(model)}`);
    return backend;
  }

  private async prepare(config: ModelConfig, servable: number[], version: number): Promise<Loaded> {
    const { files } = this.options;
    const model = config.name;
    const pipeline = await preparePipeline(config, {
      registry: this.options.registry ?? BUILTIN_PROCESSORS,
      readFile: (path) => files.read(model, version, path),
      describe: async (m) => {
        const d = await this.stepOf(m.model_name).describe(
          m.model_name,
          m.model_version === -1 ? undefined : m.model_version,
        );
        return {
          inputs: d.metadata.inputs.map((t) => t.name),
          outputs: d.metadata.outputs.map((t) => t.name),
          maxBatchSize: d.config.max_batch_size,
        };
      },
    });
    const description: ModelDescription = {
      version: String(version),
      config,
      metadata: {
        name: model,
        versions: servable.map(String),
        platform: config.platform,
        inputs: config.inputs ?? [],
        outputs: config.outputs ?? [],
      },
    };
    const loaded = { version, description, pipeline };
    await this.warmUp(loaded, model);
    return loaded;
  }

  /** Runs the version's first sample (samples/*.json, by name); not ready unless the answer agrees. */
  private async warmUp(loaded: Loaded, model: string): Promise<void> {
    const { files } = this.options;
    const where = `model '${model}' version ${loaded.version}`;
    const [first] = (await files.list(model, loaded.version, "samples")).filter((n) => n.endsWith(".json"));
    if (first === undefined) {
      throw new ModelNotReady(`${where}: a pipeline needs a sample (samples/<name>.json) to warm up with`);
    }
    const text = new TextDecoder().decode(await files.read(model, loaded.version, `samples/${first}`));
    const inputs = sampleInputs(text, `${model}/${loaded.version}/samples/${first}`);
    const { outputs } = await loaded.pipeline.run(inputs.tensors, (m, i) => this.call(m, i));
    const [why] = disagreements(
      inputs.sample.expected,
      [...outputs.values()],
      inputs.sample.tolerance ?? DEFAULT_RELEASE.tolerance,
    );
    if (why !== undefined) throw new ModelNotReady(`${where} disagrees with sample '${first}': ${why}`);
    this.options.logger?.info(`pipeline ${where} is ready`, {
      model,
      version: loaded.version,
      sample: first,
    });
  }

  private async resolve(model: string, version: number | undefined) {
    if (!this.models.has(model)) throw new ModelNotFound(`unknown model ${quote(model)}`);
    let entry = this.catalog.get(model);
    if (entry === undefined) {
      entry = (async () => {
        const config = await this.options.readConfig(model);
        return {
          config,
          servable: servableVersions(config.version_policy, await this.options.files.versions(model)),
        };
      })();
      entry.catch(() => this.catalog.delete(model));
      this.catalog.set(model, entry);
    }
    const { config, servable } = await entry;
    const v = version === undefined ? defaultVersion(servable) : version;
    if (v === undefined) throw new ModelNotReady(`model ${quote(model)} has no version directory`);
    if (!servable.includes(v)) throw new ModelNotFound(`model ${quote(model)} has no version ${v}`);
    return { config, servable, v };
  }
}

/** The sample file's request as tensors; ModelNotReady naming the file when it cannot be used. */
function sampleInputs(text: string, name: string): { sample: Sample; tensors: Tensor[] } {
  try {
    const sample = parseSample(text, name, DEFAULT_RELEASE.tolerance);
    return { sample, tensors: sample.request.inputs.map((t) => tensorFromJSON(t, "input")) };
  } catch (e) {
    const why = e instanceof SampleError ? e.message : `sample '${name}': ${(e as Error).message}`;
    throw new ModelNotReady(why, { cause: e });
  }
}
