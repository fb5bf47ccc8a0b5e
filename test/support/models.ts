/**
 * Small ONNX models generated in code, with outputs known exactly, written to a temporary
 * Triton-layout repository (`<dir>/<model>/config.json`, `<dir>/<model>/<v>/model.onnx`).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import onnxProto from "onnx-proto";
import type { Datatype } from "../../layers/protocol/types";
import type { ModelSignature } from "../../layers/repository/types";

const { onnx } = onnxProto;
type ElemType = onnxProto.onnx.TensorProto.DataType;
const DT = onnx.TensorProto.DataType;

/** ONNX element type of each protocol datatype. */
export const ONNX_TYPE: Record<Datatype, ElemType> = {
  BOOL: DT.BOOL,
  UINT8: DT.UINT8,
  INT8: DT.INT8,
  UINT16: DT.UINT16,
  INT16: DT.INT16,
  UINT32: DT.UINT32,
  INT32: DT.INT32,
  UINT64: DT.UINT64,
  INT64: DT.INT64,
  FP16: DT.FLOAT16,
  FP32: DT.FLOAT,
  FP64: DT.DOUBLE,
  BYTES: DT.STRING,
};

/** A graph value: name, datatype and dims (a string is a symbolic, free dimension). */
export interface ValueSpec {
  name: string;
  datatype: Datatype;
  dims: Array<number | string>;
}

/** A graph node. */
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Array<{ name: string; i: number }>;
}

/** A constant tensor of the graph, given as its raw little-endian bytes. */
export interface InitializerSpec {
  name: string;
  datatype: Exclude<Datatype, "BYTES">;
  dims: number[];
  raw: Uint8Array;
}

function valueInfo(v: ValueSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_TYPE[v.datatype],
        shape: { dim: v.dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Serialises a one-graph ONNX model (IR 8, opset 15). */
export function buildModel(spec: {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
}): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "edge-infer-tests",
    opsetImport: [{ domain: "", version: 15 }],
    graph: {
      name: "g",
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map((t) => ({
        name: t.name,
        dataType: ONNX_TYPE[t.datatype],
        dims: t.dims,
        rawData: t.raw,
      })),
      node: spec.nodes.map((n, i) => ({
        name: `n${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: (n.attributes ?? []).map((a) => ({
          name: a.name,
          type: onnx.AttributeProto.AttributeType.INT,
          i: a.i,
        })),
      })),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

function scalar(name: string, datatype: "FP32" | "INT64" | "FP16", value: number): InitializerSpec {
  if (datatype === "FP32")
    return { name, datatype, dims: [], raw: new Uint8Array(new Float32Array([value]).buffer) };
  if (datatype === "INT64")
    return { name, datatype, dims: [], raw: new Uint8Array(new BigInt64Array([BigInt(value)]).buffer) };
  return { name, datatype, dims: [], raw: new Uint8Array(new Uint16Array([value]).buffer) };
}

/** `add`: a, b FP32 [batch, 4] → sum = a + b + offset, diff = a - b. */
export function addModel(offset: number): Uint8Array {
  const io = (name: string): ValueSpec => ({ name, datatype: "FP32", dims: ["batch", 4] });
  const nodes: NodeSpec[] =
    offset === 0
      ? [{ op: "Add", inputs: ["a", "b"], outputs: ["sum"] }]
      : [
          { op: "Add", inputs: ["a", "b"], outputs: ["ab"] },
          { op: "Add", inputs: ["ab", "offset"], outputs: ["sum"] },
        ];
  nodes.push({ op: "Sub", inputs: ["a", "b"], outputs: ["diff"] });
  return buildModel({
    inputs: [io("a"), io("b")],
    outputs: [io("sum"), io("diff")],
    nodes,
    initializers: offset === 0 ? [] : [scalar("offset", "FP32", offset)],
  });
}

/** `x + k` on FP32 [n]: one model per version of `pinned` / `specific`, k = version. */
export function offsetModel(k: number): Uint8Array {
  return buildModel({
    inputs: [{ name: "x", datatype: "FP32", dims: ["n"] }],
    outputs: [{ name: "y", datatype: "FP32", dims: ["n"] }],
    nodes: [{ op: "Add", inputs: ["x", "k"], outputs: ["y"] }],
    initializers: [scalar("k", "FP32", k)],
  });
}

/** `int64-ops`: x INT64 [batch, 3] → doubled = x * 2 (INT64), is_pos = x > 0 (BOOL). */
export function int64Model(): Uint8Array {
  return buildModel({
    inputs: [{ name: "x", datatype: "INT64", dims: ["batch", 3] }],
    outputs: [
      { name: "doubled", datatype: "INT64", dims: ["batch", 3] },
      { name: "is_pos", datatype: "BOOL", dims: ["batch", 3] },
    ],
    nodes: [
      { op: "Mul", inputs: ["x", "two"], outputs: ["doubled"] },
      { op: "Greater", inputs: ["x", "zero"], outputs: ["is_pos"] },
    ],
    initializers: [scalar("two", "INT64", 2), scalar("zero", "INT64", 0)],
  });
}

/** `bool-not`: x BOOL [n] → y = not x. */
export function boolNotModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: "x", datatype: "BOOL", dims: ["n"] }],
    outputs: [{ name: "y", datatype: "BOOL", dims: ["n"] }],
    nodes: [{ op: "Not", inputs: ["x"], outputs: ["y"] }],
  });
}

/** `bytes-identity`: text BYTES [n] → same. */
export function bytesIdentityModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: "text", datatype: "BYTES", dims: ["n"] }],
    outputs: [{ name: "same", datatype: "BYTES", dims: ["n"] }],
    nodes: [{ op: "Identity", inputs: ["text"], outputs: ["same"] }],
  });
}

/** `half`: x FP16 [batch, 2] → y = x (FP16), wide = float(x) (FP32). */
export function halfModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: "x", datatype: "FP16", dims: ["batch", 2] }],
    outputs: [
      { name: "y", datatype: "FP16", dims: ["batch", 2] },
      { name: "wide", datatype: "FP32", dims: ["batch", 2] },
    ],
    nodes: [
      { op: "Identity", inputs: ["x"], outputs: ["y"] },
      { op: "Cast", inputs: ["x"], outputs: ["wide"], attributes: [{ name: "to", i: DT.FLOAT }] },
    ],
  });
}

/** `uint8-cast`: x UINT8 [n] → same (UINT8), signed = int8(x) (wraps: 200 → -56). */
export function uint8Model(): Uint8Array {
  return buildModel({
    inputs: [{ name: "x", datatype: "UINT8", dims: ["n"] }],
    outputs: [
      { name: "same", datatype: "UINT8", dims: ["n"] },
      { name: "signed", datatype: "INT8", dims: ["n"] },
    ],
    nodes: [
      { op: "Identity", inputs: ["x"], outputs: ["same"] },
      { op: "Cast", inputs: ["x"], outputs: ["signed"], attributes: [{ name: "to", i: DT.INT8 }] },
    ],
  });
}

/** `a + b` on FP32 [n] and [m]: ORT refuses to run it when n ≠ m and neither is 1 (a broadcast error). */
export function broadcastAddModel(): Uint8Array {
  return buildModel({
    inputs: [
      { name: "a", datatype: "FP32", dims: ["n"] },
      { name: "b", datatype: "FP32", dims: ["m"] },
    ],
    outputs: [{ name: "y", datatype: "FP32", dims: ["k"] }],
    nodes: [{ op: "Add", inputs: ["a", "b"], outputs: ["y"] }],
  });
}

/** `y = x` on FP32 [n], its output declared [1]: right for the warm-up's n = 1, malformed for any other n. */
export function malformedOutputModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: "x", datatype: "FP32", dims: ["n"] }],
    outputs: [{ name: "y", datatype: "FP32", dims: [1] }],
    nodes: [{ op: "Identity", inputs: ["x"], outputs: ["y"] }],
  });
}

/** Datatypes that `identity-all` carries (every fixed-size one). */
export const IDENTITY_DATATYPES = [
  "BOOL",
  "UINT8",
  "INT8",
  "UINT16",
  "INT16",
  "UINT32",
  "INT32",
  "UINT64",
  "INT64",
  "FP16",
  "FP32",
  "FP64",
] as const satisfies readonly Datatype[];

/** `identity-all`: for each datatype D, input `in_D` [n] → output `out_D` = same. */
export function identityAllModel(): Uint8Array {
  return buildModel({
    inputs: IDENTITY_DATATYPES.map((d) => ({ name: `in_${d}`, datatype: d, dims: ["n"] })),
    outputs: IDENTITY_DATATYPES.map((d) => ({ name: `out_${d}`, datatype: d, dims: ["n"] })),
    nodes: IDENTITY_DATATYPES.map((d) => ({ op: "Identity", inputs: [`in_${d}`], outputs: [`out_${d}`] })),
  });
}

/** True where onnxruntime-node has its CUDA provider library (a GPU host), so `cuda` models load on it. */
export function hasCuda(): boolean {
  const ortDir = dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json"));
  return existsSync(join(ortDir, "bin", "napi-v6", "linux", "x64", "libonnxruntime_providers_cuda.so"));
}

/** A config.json for `name` (dynamic batching left to the repository's defaults). */
export function modelConfig(
  name: string,
  fields: {
    max_batch_size?: number;
    inputs?: Array<{ name: string; datatype: Datatype; shape: number[] }>;
    outputs?: Array<{ name: string; datatype: Datatype; shape: number[] }>;
    version_policy?: unknown;
    execution_providers?: Array<"cuda" | "cpu">;
    allow_cpu_fallback?: boolean;
  } = {},
): Record<string, unknown> {
  const providers = fields.execution_providers ?? ["cpu"];
  return {
    name,
    platform: "onnxruntime_onnx",
    backend: providers.includes("cuda") ? "gpu" : "cpu",
    max_batch_size: fields.max_batch_size ?? 0,
    ...(fields.inputs ? { inputs: fields.inputs } : {}),
    ...(fields.outputs ? { outputs: fields.outputs } : {}),
    version_policy: fields.version_policy ?? { latest: { num_versions: 1 } },
    cache: { enabled: false, ttl_seconds: 60 },
    optimization: {
      graph_optimization_level: "all",
      intra_op_threads: 1,
      inter_op_threads: 1,
      execution_providers: providers,
      ...(fields.allow_cpu_fallback === undefined ? {} : { allow_cpu_fallback: fields.allow_cpu_fallback }),
    },
  };
}

/** The text of a `model.onnx.sha256` for `bytes`, as `sha256sum model.onnx | cut -d' ' -f1` writes it. */
export function checksumText(bytes: Uint8Array | string): string {
  return `${createHash("sha256").update(bytes).digest("hex")}\n`;
}

/** Writes `<dir>/<name>/config.json` and one `<dir>/<name>/<v>/model.onnx` (and its `.sha256`) per version. */
export async function writeModelDir(
  dir: string,
  name: string,
  config: Record<string, unknown>,
  versions: Record<number, Uint8Array>,
): Promise<void> {
  await mkdir(join(dir, name), { recursive: true });
  await writeFile(join(dir, name, "config.json"), JSON.stringify(config, null, 2));
  for (const [v, bytes] of Object.entries(versions)) {
    await mkdir(join(dir, name, v), { recursive: true });
    await writeFile(join(dir, name, v, "model.onnx"), bytes);
    await writeFile(join(dir, name, v, "model.onnx.sha256"), checksumText(bytes));
  }
}

const addTensor = (name: string) => ({ name, datatype: "FP32" as const, shape: [4] });

/** The signature of addConfig's models as metadata shows it: the batch dimension (-1) first. */
export const ADD_SIGNATURE: ModelSignature = {
  inputs: [
    { name: "a", datatype: "FP32", shape: [-1, 4] },
    { name: "b", datatype: "FP32", shape: [-1, 4] },
  ],
  outputs: [
    { name: "sum", datatype: "FP32", shape: [-1, 4] },
    { name: "diff", datatype: "FP32", shape: [-1, 4] },
  ],
};

/** config.json of an addModel under `name`: a, b → sum, diff over FP32 [4], batches of up to 8. */
export function addConfig(
  name: string,
  fields: Parameters<typeof modelConfig>[1] = {},
): Record<string, unknown> {
  return modelConfig(name, {
    max_batch_size: 8,
    inputs: [addTensor("a"), addTensor("b")],
    outputs: [addTensor("sum"), addTensor("diff")],
    ...fields,
  });
}

/**
 * A temporary repository with: `add` (v1 a+b, v2 a+b+1; latest 2; max_batch_size 8), `int64-ops`,
 * `bool-not`, `bytes-identity`, `half` (FP16), `uint8-cast`, `identity-all` (every fixed-size type),
 * `pinned` (v1..3 = x+v, policy all), `specific` (v1..3 = x+v, policy specific [1, 2]) and `broken`
 * (model.onnx is garbage).
 */
export async function makeTestRepository(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "edge-infer-models-"));
  const add = addConfig("add", { version_policy: { latest: { num_versions: 2 } } });
  await writeModelDir(dir, "add", add, { 1: addModel(0), 2: addModel(1) });
  await writeModelDir(dir, "int64-ops", modelConfig("int64-ops", { max_batch_size: 4 }), { 1: int64Model() });
  await writeModelDir(dir, "bool-not", modelConfig("bool-not"), { 1: boolNotModel() });
  await writeModelDir(dir, "bytes-identity", modelConfig("bytes-identity"), { 1: bytesIdentityModel() });
  await writeModelDir(dir, "half", modelConfig("half", { max_batch_size: 4 }), { 1: halfModel() });
  await writeModelDir(dir, "uint8-cast", modelConfig("uint8-cast"), { 1: uint8Model() });
  await writeModelDir(dir, "identity-all", modelConfig("identity-all"), { 1: identityAllModel() });
  const offsets = { 1: offsetModel(1), 2: offsetModel(2), 3: offsetModel(3) };
  await writeModelDir(dir, "pinned", modelConfig("pinned", { version_policy: { all: {} } }), offsets);
  await writeModelDir(
    dir,
    "specific",
    modelConfig("specific", { version_policy: { specific: { versions: [1, 2] } } }),
    offsets,
  );
  await writeModelDir(dir, "broken", modelConfig("broken"), {
    1: new TextEncoder().encode("this is not an ONNX model\u0000\u0001\u0002"),
  });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
