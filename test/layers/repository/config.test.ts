import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { ModelNotReady } from "../../../layers/errors";
import { parseConfigText, parseModelConfig } from "../../../layers/repository/config";
import type { ModelConfig } from "../../../layers/repository/types";

const DEMO = fileURLToPath(new URL("../../../functions/models/", import.meta.url));
const PREFIX = "config.json of model 'm': ";
const TOP =
  "name, platform, backend, max_batch_size, inputs, outputs, version_policy, cache, dynamic_batching, optimization, instance_group, release, limits, ensemble_scheduling, shadow, live_version";
const DATATYPE_LIST =
  "BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES";

/** Parses `json` for model "m" and returns the error it must raise. */
function failure(json: unknown): ModelNotReady {
  try {
    parseModelConfig(json, "m");
  } catch (e) {
    expect(e).toBeInstanceOf(ModelNotReady);
    return e as ModelNotReady;
  }
  throw new Error(`accepted: ${JSON.stringify(json)}`);
}

const x = { name: "x", datatype: "FP32", shape: [3] };

describe("parseModelConfig defaults", () => {
  test("an empty object gets every default", () => {
    const expected: ModelConfig = {
      name: "m",
      platform: "onnxruntime_onnx",
      backend: "cpu",
      max_batch_size: 0,
      version_policy: { latest: { num_versions: 1 } },
      cache: { enabled: true, ttl_seconds: 3600 },
      dynamic_batching: {
        enabled: false,
        preferred_batch_size: [],
        max_queue_delay_microseconds: 1000,
        max_queue_size: 256,
        default_timeout_microseconds: 0,
      },
      optimization: {
        graph_optimization_level: "all",
        execution_providers: ["cpu"],
        allow_cpu_fallback: false,
        enable_mem_arena: false,
      },
      release: { tolerance: { abs: 1e-4, rel: 1e-3 }, compare_with_live: false },
    };
    expect(parseModelConfig({}, "m")).toEqual(expected);
    expect(parseModelConfig({}, "m")).not.toHaveProperty("inputs");
  });

  test("instance_group: one group, its count and the backend's kind (absent: one instance, no field)", () => {
    expect(parseModelConfig({}, "m")).not.toHaveProperty("instance_group");
    expect(parseModelConfig({ instance_group: [{ count: 4 }] }, "m").instance_group).toEqual([
      { count: 4, kind: "KIND_CPU" },
    ]);
    expect(parseModelConfig({ instance_group: [{}] }, "m").instance_group).toEqual([
      { count: 1, kind: "KIND_CPU" },
    ]);
    const gpu = parseModelConfig({ backend: "gpu", instance_group: [{ count: 2, kind: "KIND_GPU" }] }, "m");
    expect(gpu.instance_group).toEqual([{ count: 2, kind: "KIND_GPU" }]);
  });

  test("gpu backend defaults to cuda then cpu, with no fallback to CPU unless allowed", () => {
    const gpu = parseModelConfig({ backend: "gpu" }, "m").optimization;
    expect(gpu.execution_providers).toEqual(["cuda", "cpu"]);
    expect(gpu.allow_cpu_fallback).toBe(false);
    const allowed = parseModelConfig({ backend: "gpu", optimization: { allow_cpu_fallback: true } }, "m");
    expect(allowed.optimization.allow_cpu_fallback).toBe(true);
  });

  test("ORT's CPU memory arena is off unless the config turns it on", () => {
    expect(parseModelConfig({}, "m").optimization.enable_mem_arena).toBe(false);
    const on = parseModelConfig({ optimization: { enable_mem_arena: true } }, "m");
    expect(on.optimization.enable_mem_arena).toBe(true);
  });

  test("partial sections are completed, given values kept", () => {
    const c = parseModelConfig(
      {
        name: "m",
        max_batch_size: 4,
        inputs: [{ name: "in", datatype: "INT64", shape: [-1, 2] }],
        outputs: [{ name: "out", datatype: "BYTES", shape: [] }],
        version_policy: { specific: { versions: [3, 1] } },
        cache: { ttl_seconds: 60 },
        dynamic_batching: { enabled: true, max_queue_size: 8 },
        optimization: { intra_op_threads: 2, inter_op_threads: 1, graph_optimization_level: "basic" },
      },
      "m",
    );
    expect(c.inputs).toEqual([{ name: "in", datatype: "INT64", shape: [-1, 2] }]);
    expect(c.outputs).toEqual([{ name: "out", datatype: "BYTES", shape: [] }]);
    expect(c.version_policy).toEqual({ specific: { versions: [1, 3] } });
    expect(c.cache).toEqual({ enabled: true, ttl_seconds: 60 });
    expect(c.dynamic_batching).toEqual({
      enabled: true,
      preferred_batch_size: [],
      max_queue_delay_microseconds: 1000,
      max_queue_size: 8,
      default_timeout_microseconds: 0,
    });
    expect(c.optimization).toEqual({
      graph_optimization_level: "basic",
      intra_op_threads: 2,
      inter_op_threads: 1,
      execution_providers: ["cpu"],
      allow_cpu_fallback: false,
      enable_mem_arena: false,
    });
  });

  test("version_policy latest without num_versions and all", () => {
    expect(parseModelConfig({ version_policy: { latest: {} } }, "m").version_policy).toEqual({
      latest: { num_versions: 1 },
    });
    expect(parseModelConfig({ version_policy: { all: {} } }, "m").version_policy).toEqual({ all: {} });
  });

  test("the demo repository's configs parse", () => {
    const read = (m: string) => parseConfigText(readFileSync(`${DEMO}${m}/config.json`, "utf8"), m);
    const cls = read("ocr-cls");
    expect(cls.max_batch_size).toBe(32);
    expect(cls.outputs).toEqual([{ name: "softmax_0.tmp_0", datatype: "FP32", shape: [2] }]);
    expect(cls.dynamic_batching).toEqual({
      enabled: true,
      preferred_batch_size: [2, 4],
      max_queue_delay_microseconds: 0,
      max_queue_size: 256,
      default_timeout_microseconds: 0,
    });
    expect(read("ocr-det").inputs).toEqual([{ name: "x", datatype: "FP32", shape: [3, -1, -1] }]);
    expect(read("ocr-rec").dynamic_batching.enabled).toBe(false);
  });
});

describe("parseConfigText", () => {
  test("unparsable JSON names the file and keeps the cause", () => {
    let error: unknown;
    try {
      parseConfigText("{ not json", "m");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelNotReady);
    expect((error as Error).message).toBe("config.json of model 'm' is not valid JSON");
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
  });
});

// Every validation rule, with the exact message it must produce.
const CASES: Array<[string, unknown, string]> = [
  ["document null", null, "the document must be an object, received null"],
  ["document array", [], "the document must be an object, received an array of 0"],
  ["unknown top-level key", { max_batch_sizes: 4 }, `unknown field 'max_batch_sizes' (allowed: ${TOP})`],
  ["name differs", { name: "other" }, `name must be the model's directory name "m", received "other"`],
  ["name not a string", { name: 5 }, `name must be the model's directory name "m", received 5`],
  [
    "platform",
    { platform: "tensorflow_savedmodel" },
    `platform must be "onnxruntime_onnx" or "ensemble", received "tensorflow_savedmodel"`,
  ],
  ["backend", { backend: "tpu" }, `backend must be one of "cpu", "gpu", received "tpu"`],
  [
    "max_batch_size negative",
    { max_batch_size: -1 },
    "max_batch_size must be a non-negative integer, received -1",
  ],
  [
    "max_batch_size fraction",
    { max_batch_size: 1.5 },
    "max_batch_size must be a non-negative integer, received 1.5",
  ],
  [
    "max_batch_size string",
    { max_batch_size: "4" },
    `max_batch_size must be a non-negative integer, received "4"`,
  ],
  ["inputs object", { inputs: {} }, "inputs must be a non-empty array, received an object"],
  ["inputs empty", { inputs: [] }, "inputs must be a non-empty array, received an array of 0"],
  ["input not object", { inputs: ["x"] }, `inputs[0] must be an object, received "x"`],
  [
    "input unknown key",
    { inputs: [{ ...x, dims: [1] }] },
    "unknown field 'inputs[0].dims' (allowed: name, datatype, shape)",
  ],
  [
    "input name empty",
    { inputs: [{ ...x, name: "" }] },
    `inputs[0].name must be a non-empty string, received ""`,
  ],
  [
    "input datatype",
    { inputs: [{ ...x, datatype: "FLOAT32" }] },
    `inputs[0].datatype must be a protocol datatype (${DATATYPE_LIST}), received "FLOAT32"`,
  ],
  [
    "input shape missing",
    { inputs: [{ name: "x", datatype: "FP32" }] },
    "inputs[0].shape must be an array, received nothing",
  ],
  [
    "input dim 0",
    { inputs: [{ ...x, shape: [3, 0] }] },
    "inputs[0].shape[1] must be -1 or a positive integer, received 0",
  ],
  [
    "input dim -2",
    { inputs: [{ ...x, shape: [-2] }] },
    "inputs[0].shape[0] must be -1 or a positive integer, received -2",
  ],
  [
    "input dim fraction",
    { inputs: [{ ...x, shape: [2.5] }] },
    "inputs[0].shape[0] must be -1 or a positive integer, received 2.5",
  ],
  ["input names repeat", { inputs: [x, x] }, `inputs[1].name repeats "x"`],
  [
    "output datatype",
    { outputs: [{ ...x, datatype: null }] },
    `outputs[0].datatype must be a protocol datatype (${DATATYPE_LIST}), received null`,
  ],
  ["outputs empty", { outputs: [] }, "outputs must be a non-empty array, received an array of 0"],
  [
    "version_policy string",
    { version_policy: "latest" },
    `version_policy must be an object, received "latest"`,
  ],
  [
    "version_policy two kinds",
    { version_policy: { latest: {}, all: {} } },
    "version_policy must have exactly one of latest, all, specific, received 2",
  ],
  [
    "version_policy none",
    { version_policy: {} },
    "version_policy must have exactly one of latest, all, specific, received 0",
  ],
  [
    "version_policy unknown kind",
    { version_policy: { newest: {} } },
    "unknown field 'version_policy.newest' (allowed: latest, all, specific)",
  ],
  [
    "latest num_versions 0",
    { version_policy: { latest: { num_versions: 0 } } },
    "version_policy.latest.num_versions must be a positive integer, received 0",
  ],
  [
    "latest unknown key",
    { version_policy: { latest: { count: 2 } } },
    "unknown field 'version_policy.latest.count' (allowed: num_versions)",
  ],
  [
    "all with keys",
    { version_policy: { all: { x: 1 } } },
    "unknown field 'version_policy.all.x' (allowed: none)",
  ],
  [
    "all an array",
    { version_policy: { all: [] } },
    "version_policy.all must be an object, received an array of 0",
  ],
  [
    "specific without versions",
    { version_policy: { specific: {} } },
    "version_policy.specific.versions must be a non-empty array, received nothing",
  ],
  [
    "specific version 0",
    { version_policy: { specific: { versions: [1, 0] } } },
    "version_policy.specific.versions[1] must be a positive integer, received 0",
  ],
  [
    "specific repeats",
    { version_policy: { specific: { versions: [2, 2] } } },
    "version_policy.specific.versions[1] repeats 2",
  ],
  ["cache array", { cache: [] }, "cache must be an object, received an array of 0"],
  ["cache.enabled", { cache: { enabled: "yes" } }, `cache.enabled must be a boolean, received "yes"`],
  [
    "cache.ttl_seconds 0",
    { cache: { ttl_seconds: 0 } },
    "cache.ttl_seconds must be a positive integer, received 0",
  ],
  ["cache unknown key", { cache: { ttl: 5 } }, "unknown field 'cache.ttl' (allowed: enabled, ttl_seconds)"],
  [
    "batching without batch dimension",
    { dynamic_batching: { enabled: true } },
    "dynamic_batching.enabled requires max_batch_size > 0, received max_batch_size 0",
  ],
  [
    "preferred above max",
    { max_batch_size: 8, dynamic_batching: { preferred_batch_size: [4, 16] } },
    "dynamic_batching.preferred_batch_size[1] must be at most max_batch_size (8), received 16",
  ],
  [
    "preferred 0",
    { max_batch_size: 8, dynamic_batching: { preferred_batch_size: [0] } },
    "dynamic_batching.preferred_batch_size[0] must be a positive integer, received 0",
  ],
  [
    "preferred repeats",
    { max_batch_size: 8, dynamic_batching: { preferred_batch_size: [4, 4] } },
    "dynamic_batching.preferred_batch_size[1] repeats 4",
  ],
  [
    "preferred not array",
    { max_batch_size: 8, dynamic_batching: { preferred_batch_size: 4 } },
    "dynamic_batching.preferred_batch_size must be an array, received 4",
  ],
  [
    "batching enabled not boolean",
    { max_batch_size: 8, dynamic_batching: { enabled: 1 } },
    "dynamic_batching.enabled must be a boolean, received 1",
  ],
  [
    "queue delay negative",
    { max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: -1 } },
    "dynamic_batching.max_queue_delay_microseconds must be a non-negative integer, received -1",
  ],
  [
    "queue size 0",
    { max_batch_size: 8, dynamic_batching: { max_queue_size: 0 } },
    "dynamic_batching.max_queue_size must be a positive integer, received 0",
  ],
  [
    "timeout negative",
    { max_batch_size: 8, dynamic_batching: { default_timeout_microseconds: -5 } },
    "dynamic_batching.default_timeout_microseconds must be a non-negative integer, received -5",
  ],
  [
    "batching unknown key",
    { max_batch_size: 8, dynamic_batching: { max_queue_delay: 5 } },
    "unknown field 'dynamic_batching.max_queue_delay' (allowed: enabled, preferred_batch_size, " +
      "max_queue_delay_microseconds, max_queue_size, default_timeout_microseconds)",
  ],
  [
    "instance_group empty",
    { instance_group: [] },
    "instance_group must be a non-empty array, received an array of 0",
  ],
  [
    "instance_group two groups",
    { instance_group: [{ count: 1 }, { count: 2 }] },
    "instance_group must have exactly one group, received 2",
  ],
  [
    "instance_group count 0",
    { instance_group: [{ count: 0 }] },
    "instance_group[0].count must be a positive integer, received 0",
  ],
  [
    "instance_group count above the bound",
    { instance_group: [{ count: 17 }] },
    "instance_group[0].count must be at most 16, received 17",
  ],
  [
    "instance_group kind of another backend",
    { instance_group: [{ count: 2, kind: "KIND_GPU" }] },
    `instance_group[0].kind must be one of "KIND_CPU", received "KIND_GPU"`,
  ],
  [
    "instance_group unknown key",
    { instance_group: [{ count: 2, gpus: [0] }] },
    "unknown field 'instance_group[0].gpus' (allowed: count, kind)",
  ],
  ["optimization string", { optimization: "all" }, `optimization must be an object, received "all"`],
  [
    "graph level",
    { optimization: { graph_optimization_level: "max" } },
    `optimization.graph_optimization_level must be one of "disabled", "basic", "extended", "all", received "max"`,
  ],
  [
    "intra threads 0",
    { optimization: { intra_op_threads: 0 } },
    "optimization.intra_op_threads must be a positive integer, received 0",
  ],
  [
    "inter threads fraction",
    { optimization: { inter_op_threads: 1.5 } },
    "optimization.inter_op_threads must be a positive integer, received 1.5",
  ],
  [
    "providers empty",
    { optimization: { execution_providers: [] } },
    "optimization.execution_providers must be a non-empty array, received an array of 0",
  ],
  [
    "provider unknown",
    { optimization: { execution_providers: ["tpu"] } },
    `optimization.execution_providers[0] must be one of "cuda", "cpu", received "tpu"`,
  ],
  [
    "providers repeat",
    { optimization: { execution_providers: ["cpu", "cpu"] } },
    `optimization.execution_providers[1] repeats "cpu"`,
  ],
  [
    "cuda on a cpu backend",
    { optimization: { execution_providers: ["cuda", "cpu"] } },
    `optimization.execution_providers cannot contain "cuda" when backend is "cpu"`,
  ],
  [
    "cpu fallback not a boolean",
    { backend: "gpu", optimization: { allow_cpu_fallback: "yes" } },
    `optimization.allow_cpu_fallback must be a boolean, received "yes"`,
  ],
  [
    "memory arena not a boolean",
    { optimization: { enable_mem_arena: 1 } },
    "optimization.enable_mem_arena must be a boolean, received 1",
  ],
  [
    "optimization unknown key",
    { optimization: { threads: 2 } },
    "unknown field 'optimization.threads' (allowed: graph_optimization_level, intra_op_threads, " +
      "inter_op_threads, execution_providers, allow_cpu_fallback, enable_mem_arena)",
  ],
];

describe("parseModelConfig errors", () => {
  test.each(CASES)("%s", (_label, json, message) => {
    const error = failure(json);
    expect(error.message).toBe(PREFIX + message);
    expect(error.kind).toBe("model_not_ready");
  });

  test("a long received string is shortened", () => {
    expect(failure({ backend: "g".repeat(100) }).message).toBe(
      `${PREFIX}backend must be one of "cpu", "gpu", received "${"g".repeat(40)}…"`,
    );
  });

  test("gpu backend may list cuda", () => {
    const c = parseModelConfig({ backend: "gpu", optimization: { execution_providers: ["cuda"] } }, "m");
    expect(c.optimization.execution_providers).toEqual(["cuda"]);
  });
});
