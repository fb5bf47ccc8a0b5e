/**
 * config.json → ModelConfig: validation and defaults, independent of where the file is stored
 * (file:// and s3:// repositories share it).
 */
import { ModelNotReady } from "../errors";
import { DATATYPES, type Datatype } from "../protocol/types";
import { FieldReader } from "./config-fields";
import { ensembleScheduling } from "./ensemble";
import { parseLimits } from "./limits";
import { parseReleaseConfig } from "./release";
import { parseShadowFields } from "./shadow";
import type {
  ConfigTensor,
  DynamicBatching,
  InstanceGroup,
  ModelConfig,
  SessionOptions,
  VersionPolicy,
} from "./types";

/** The platform of an ONNX model (the default). */
export const PLATFORM = "onnxruntime_onnx";
/** The platform of a pipeline (Triton's name). */
export const ENSEMBLE = "ensemble";

const TOP_LEVEL = [
  "name",
  "platform",
  "backend",
  "max_batch_size",
  "inputs",
  "outputs",
  "version_policy",
  "cache",
  "dynamic_batching",
  "optimization",
  "instance_group",
  "release",
  "limits",
  "ensemble_scheduling",
  "shadow",
  "live_version",
] as const;
const GRAPH_LEVELS = ["disabled", "basic", "extended", "all"] as const;
const PROVIDERS = ["cuda", "cpu"] as const;

/**
 * Most sessions of one version (`instance_group[0].count`): each holds the model and its runs'
 * memory, and a version takes at most this many cores' worth of runs at once.
 */
export const MAX_INSTANCES = 16;

/** Defaults of the `cache` section. */
export const DEFAULT_CACHE = { enabled: true, ttl_seconds: 3600 } as const;

/** Defaults of the `dynamic_batching` section. */
export const DEFAULT_DYNAMIC_BATCHING: Readonly<DynamicBatching> = {
  enabled: false,
  preferred_batch_size: [],
  max_queue_delay_microseconds: 1000,
  max_queue_size: 256,
  default_timeout_microseconds: 0,
};

/**
 * Validates a parsed config.json of the model stored in directory `modelDirName` and applies
 * defaults. Throws ModelNotReady naming the field on the first problem.
 */
export function parseModelConfig(json: unknown, modelDirName: string): ModelConfig {
  const r = new FieldReader(modelDirName);
  const doc = r.object(json, "", TOP_LEVEL);

  if (doc.name !== undefined && doc.name !== modelDirName) {
    throw r.mismatch("name", `the model's directory name "${modelDirName}"`, doc.name);
  }
  if (doc.platform === ENSEMBLE) return ensembleConfig(r, doc, modelDirName);
  if (doc.platform !== undefined && doc.platform !== PLATFORM) {
    throw r.mismatch("platform", `"${PLATFORM}" or "${ENSEMBLE}"`, doc.platform);
  }
  if (doc.ensemble_scheduling !== undefined) {
    throw r.error("ensemble_scheduling", `belongs to platform "${ENSEMBLE}"`);
  }
  const backend = r.choice(doc.backend, "backend", ["cpu", "gpu"] as const, "cpu");
  const maxBatchSize = r.optionalInteger(doc.max_batch_size, "max_batch_size", 0, 0);

  const config: ModelConfig = {
    name: modelDirName,
    platform: PLATFORM,
    backend,
    max_batch_size: maxBatchSize,
    version_policy: versionPolicy(r, doc.version_policy),
    cache: cache(r, doc.cache),
    dynamic_batching: dynamicBatching(r, doc.dynamic_batching, maxBatchSize),
    optimization: optimization(r, doc.optimization, backend),
    release: parseReleaseConfig(r, doc.release),
  };
  if (doc.inputs !== undefined) config.inputs = tensors(r, doc.inputs, "inputs");
  if (doc.outputs !== undefined) config.outputs = tensors(r, doc.outputs, "outputs");
  if (doc.limits !== undefined) config.limits = parseLimits(r, doc.limits);
  if (doc.instance_group !== undefined) config.instance_group = instanceGroup(r, doc.instance_group, backend);
  Object.assign(config, parseShadowFields(r, doc.shadow, doc.live_version));
  return config;
}

/** A pipeline: declared inputs and outputs, steps, no batch dimension, no ONNX session options. */
function ensembleConfig(r: FieldReader, doc: Record<string, unknown>, name: string): ModelConfig {
  if (doc.shadow !== undefined || doc.live_version !== undefined) {
    throw r.error(
      doc.shadow !== undefined ? "shadow" : "live_version",
      `does not apply to platform "${ENSEMBLE}" (yet)`,
    );
  }
  for (const field of ["max_batch_size", "dynamic_batching", "optimization"] as const) {
    if (doc[field] !== undefined && !(field === "max_batch_size" && doc[field] === 0)) {
      throw r.error(field, `does not apply to platform "${ENSEMBLE}" (a pipeline has no batch dimension)`);
    }
  }
  if (doc.instance_group !== undefined) {
    throw r.error(
      "instance_group",
      `does not apply to platform "${ENSEMBLE}" (its steps' models have their own)`,
    );
  }
  if (doc.inputs === undefined || doc.outputs === undefined) {
    throw r.error(
      "",
      `platform "${ENSEMBLE}" needs inputs and outputs: a pipeline has no ONNX file to read them from`,
    );
  }
  const backend = r.choice(doc.backend, "backend", ["cpu"] as const, "cpu");
  return {
    name,
    platform: ENSEMBLE,
    backend,
    max_batch_size: 0,
    inputs: tensors(r, doc.inputs, "inputs"),
    outputs: tensors(r, doc.outputs, "outputs"),
    version_policy: versionPolicy(r, doc.version_policy),
    cache: cache(r, doc.cache),
    dynamic_batching: { ...DEFAULT_DYNAMIC_BATCHING, preferred_batch_size: [] },
    optimization: optimization(r, undefined, backend),
    release: parseReleaseConfig(r, doc.release),
    ensemble_scheduling: ensembleScheduling(r, doc.ensemble_scheduling),
  };
}

/** The log line of a model folder served without config.json. */
export const CONFIGLESS =
  "model without config.json: served with the defaults, its inputs and outputs read from the ONNX file";

/** The config of a model folder without config.json: every default, the signature left to the ONNX file. */
export function configlessConfig(model: string): ModelConfig {
  return parseModelConfig({}, model);
}

/** Parses the text of a config.json (ModelNotReady naming the file if it is not JSON), then validates it. */
export function parseConfigText(text: string, modelDirName: string): ModelConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ModelNotReady(`config.json of model '${modelDirName}' is not valid JSON`, { cause });
  }
  return parseModelConfig(json, modelDirName);
}

function tensors(r: FieldReader, value: unknown, path: string): ConfigTensor[] {
  const items = r.array(value, path, true);
  const result = items.map((item, i) => tensor(r, item, `${path}[${i}]`));
  const seen = new Set<string>();
  for (const [i, t] of result.entries()) {
    if (seen.has(t.name)) throw r.error(`${path}[${i}].name`, `repeats ${JSON.stringify(t.name)}`);
    seen.add(t.name);
  }
  return result;
}

function tensor(r: FieldReader, value: unknown, path: string): ConfigTensor {
  const t = r.object(value, path, ["name", "datatype", "shape"]);
  if (typeof t.name !== "string" || t.name === "") {
    throw r.mismatch(`${path}.name`, "a non-empty string", t.name);
  }
  if (typeof t.datatype !== "string" || !(DATATYPES as readonly string[]).includes(t.datatype)) {
    throw r.mismatch(`${path}.datatype`, `a protocol datatype (${DATATYPES.join(", ")})`, t.datatype);
  }
  const dims = r.array(t.shape, `${path}.shape`, false);
  const shape = dims.map((d, i) => {
    if (d === -1 || (typeof d === "number" && Number.isSafeInteger(d) && d >= 1)) return d;
    throw r.mismatch(`${path}.shape[${i}]`, "-1 or a positive integer", d);
  });
  return { name: t.name, datatype: t.datatype as Datatype, shape };
}

/** Triton's `instance_group`, one group: `count` (1 to MAX_INSTANCES) and the kind the backend computes on. */
function instanceGroup(r: FieldReader, value: unknown, backend: ModelConfig["backend"]): [InstanceGroup] {
  const groups = r.array(value, "instance_group", true);
  if (groups.length !== 1) {
    throw r.error("instance_group", `must have exactly one group, received ${groups.length}`);
  }
  const g = r.object(groups[0], "instance_group[0]", ["count", "kind"]);
  const count = r.optionalInteger(g.count, "instance_group[0].count", 1, 1);
  if (count > MAX_INSTANCES) {
    throw r.error("instance_group[0].count", `must be at most ${MAX_INSTANCES}, received ${count}`);
  }
  const kind = backend === "gpu" ? "KIND_GPU" : "KIND_CPU";
  return [{ count, kind: r.choice(g.kind, "instance_group[0].kind", [kind], kind) }];
}

function versionPolicy(r: FieldReader, value: unknown): VersionPolicy {
  if (value === undefined) return { latest: { num_versions: 1 } };
  const p = r.object(value, "version_policy", ["latest", "all", "specific"]);
  const keys = Object.keys(p);
  if (keys.length !== 1) {
    throw r.error(
      "version_policy",
      `must have exactly one of latest, all, specific, received ${keys.length}`,
    );
  }
  if (p.latest !== undefined) {
    const latest = r.object(p.latest, "version_policy.latest", ["num_versions"]);
    const n = r.optionalInteger(latest.num_versions, "version_policy.latest.num_versions", 1, 1);
    return { latest: { num_versions: n } };
  }
  if (p.all !== undefined) {
    r.object(p.all, "version_policy.all", []);
    return { all: {} };
  }
  const specific = r.object(p.specific, "version_policy.specific", ["versions"]);
  const path = "version_policy.specific.versions";
  const versions = r.array(specific.versions, path, true).map((v, i) => r.integer(v, `${path}[${i}]`, 1));
  r.unique(versions, path);
  return { specific: { versions: versions.sort((a, b) => a - b) } };
}

function cache(r: FieldReader, value: unknown): ModelConfig["cache"] {
  if (value === undefined) return { ...DEFAULT_CACHE };
  const c = r.object(value, "cache", ["enabled", "ttl_seconds"]);
  return {
    enabled: r.boolean(c.enabled, "cache.enabled", DEFAULT_CACHE.enabled),
    ttl_seconds: r.optionalInteger(c.ttl_seconds, "cache.ttl_seconds", 1, DEFAULT_CACHE.ttl_seconds),
  };
}

function dynamicBatching(r: FieldReader, value: unknown, maxBatchSize: number): DynamicBatching {
  const d = DEFAULT_DYNAMIC_BATCHING;
  if (value === undefined) return { ...d, preferred_batch_size: [] };
  const b = r.object(value, "dynamic_batching", Object.keys(d));
  const path = "dynamic_batching.preferred_batch_size";
  const preferred =
    b.preferred_batch_size === undefined
      ? []
      : r.array(b.preferred_batch_size, path, false).map((v, i) => r.integer(v, `${path}[${i}]`, 1));
  r.unique(preferred, path);
  for (const [i, size] of preferred.entries()) {
    if (size > maxBatchSize) {
      throw r.error(`${path}[${i}]`, `must be at most max_batch_size (${maxBatchSize}), received ${size}`);
    }
  }
  const enabled = r.boolean(b.enabled, "dynamic_batching.enabled", d.enabled);
  if (enabled && maxBatchSize === 0) {
    throw r.error("dynamic_batching.enabled", "requires max_batch_size > 0, received max_batch_size 0");
  }
  return {
    enabled,
    preferred_batch_size: preferred,
    max_queue_delay_microseconds: r.optionalInteger(
      b.max_queue_delay_microseconds,
      "dynamic_batching.max_queue_delay_microseconds",
      0,
      d.max_queue_delay_microseconds,
    ),
    max_queue_size: r.optionalInteger(
      b.max_queue_size,
      "dynamic_batching.max_queue_size",
      1,
      d.max_queue_size,
    ),
    default_timeout_microseconds: r.optionalInteger(
      b.default_timeout_microseconds,
      "dynamic_batching.default_timeout_microseconds",
      0,
      d.default_timeout_microseconds,
    ),
  };
}

function optimization(r: FieldReader, value: unknown, backend: ModelConfig["backend"]): SessionOptions {
  const o =
    value === undefined
      ? {}
      : r.object(value, "optimization", [
          "graph_optimization_level",
          "intra_op_threads",
          "inter_op_threads",
          "execution_providers",
          "allow_cpu_fallback",
          "enable_mem_arena",
        ]);
  const result: SessionOptions = {
    graph_optimization_level: r.choice(
      o.graph_optimization_level,
      "optimization.graph_optimization_level",
      GRAPH_LEVELS,
      "all",
    ),
    execution_providers: providers(r, o.execution_providers, backend),
    allow_cpu_fallback: r.boolean(o.allow_cpu_fallback, "optimization.allow_cpu_fallback", false),
    enable_mem_arena: r.boolean(o.enable_mem_arena, "optimization.enable_mem_arena", false),
  };
  const intra = r.optionalInteger(o.intra_op_threads, "optimization.intra_op_threads", 1);
  const inter = r.optionalInteger(o.inter_op_threads, "optimization.inter_op_threads", 1);
  if (intra !== undefined) result.intra_op_threads = intra;
  if (inter !== undefined) result.inter_op_threads = inter;
  return result;
}

function providers(
  r: FieldReader,
  value: unknown,
  backend: ModelConfig["backend"],
): SessionOptions["execution_providers"] {
  if (value === undefined) return backend === "gpu" ? ["cuda", "cpu"] : ["cpu"];
  const path = "optimization.execution_providers";
  const list = r.array(value, path, true).map((p, i) => r.choice(p, `${path}[${i}]`, PROVIDERS, "cpu"));
  r.unique(list, path);
  // A CPU model runs on Lambda, where CUDA can never load: listing it is a mistake, not a wish.
  if (backend === "cpu" && list.includes("cuda")) {
    throw r.error(path, `cannot contain "cuda" when backend is "cpu"`);
  }
  return list;
}
