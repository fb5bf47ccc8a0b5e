/**
 * The served signature of a model: what ONNX Runtime reads from the file, merged with what
 * config.json states. The config may name a free dimension but never contradict the model.
 */
import type { InferenceSession } from "onnxruntime-node";
import type { Datatype, TensorMetadata } from "../protocol/types";
import type { ConfigTensor, ModelConfig, ModelSignature } from "../repository/types";
import { datatypeOfOrt } from "./tensors";

/** The config and the model disagree, or the model has a tensor the protocol cannot carry. */
export class SignatureMismatch extends Error {}

type Kind = "input" | "output";
const fmt = (shape: readonly number[]): string => `[${shape.join(",")}]`;

/** Merges ORT's input/output metadata with config.json; throws SignatureMismatch naming the tensor. */
export function resolveSignature(
  config: ModelConfig,
  meta: {
    inputMetadata: readonly InferenceSession.ValueMetadata[];
    outputMetadata: readonly InferenceSession.ValueMetadata[];
  },
): ModelSignature {
  return {
    inputs: resolveSide(
      "input",
      meta.inputMetadata.map(fromOrt("input")),
      config.inputs,
      config.max_batch_size,
    ),
    outputs: resolveSide(
      "output",
      meta.outputMetadata.map(fromOrt("output")),
      config.outputs,
      config.max_batch_size,
    ),
  };
}

const fromOrt =
  (kind: Kind) =>
  (m: InferenceSession.ValueMetadata): TensorMetadata => {
    if (!m.isTensor) throw new SignatureMismatch(`model ${kind} '${m.name}' is not a tensor`);
    const datatype: Datatype | undefined = datatypeOfOrt(m.type);
    if (datatype === undefined) {
      throw new SignatureMismatch(
        `model ${kind} '${m.name}' has element type ${m.type}, which is not served`,
      );
    }
    // Symbolic dimensions come as their name (a string); unnamed free ones as "" or -1.
    const shape = m.shape.map((d) => (typeof d === "number" && d >= 0 ? d : -1));
    return { name: m.name, datatype, shape };
  };

function resolveSide(
  kind: Kind,
  model: TensorMetadata[],
  configured: ConfigTensor[] | undefined,
  maxBatchSize: number,
): TensorMetadata[] {
  const names = new Set(model.map((t) => t.name));
  const byName = new Map<string, ConfigTensor>();
  for (const c of configured ?? []) {
    if (!names.has(c.name)) {
      throw new SignatureMismatch(
        `config.json ${kind} '${c.name}' is not an ${kind} of the model (the model's ${kind}s: ${[...names].join(", ")})`,
      );
    }
    byName.set(c.name, c);
  }
  return model.map((m) => {
    if (maxBatchSize > 0 && (m.shape[0] ?? 0) >= 0) {
      throw new SignatureMismatch(
        `model ${kind} '${m.name}' has shape ${fmt(m.shape)} with no free first (batch) dimension, ` +
          `but max_batch_size is ${maxBatchSize}: set max_batch_size to 0`,
      );
    }
    const c = byName.get(m.name);
    if (c === undefined) return m;
    return merge(kind, m, c, maxBatchSize);
  });
}

function merge(kind: Kind, m: TensorMetadata, c: ConfigTensor, maxBatchSize: number): TensorMetadata {
  const where = `config.json ${kind} '${c.name}'`;
  if (c.datatype !== m.datatype) {
    throw new SignatureMismatch(`${where} has datatype ${c.datatype}, the model has ${m.datatype}`);
  }
  // Triton: with batching, config shapes leave the batch dimension out.
  const stated = maxBatchSize > 0 ? [-1, ...c.shape] : c.shape;
  if (stated.length !== m.shape.length) {
    const batch = maxBatchSize > 0 ? " with the batch dimension" : "";
    throw new SignatureMismatch(
      `${where} has shape ${fmt(c.shape)} (rank ${stated.length}${batch}), the model has ${fmt(m.shape)} (rank ${m.shape.length})`,
    );
  }
  const shape = stated.map((d, i) => {
    const md = m.shape[i] ?? -1;
    if (d >= 0 && md >= 0 && d !== md) {
      throw new SignatureMismatch(
        `${where} has shape ${fmt(c.shape)}: dimension ${i} of ${fmt(stated)} is ${d}, the model's is ${md} (model shape ${fmt(m.shape)})`,
      );
    }
    return d >= 0 ? d : md;
  });
  return { name: m.name, datatype: m.datatype, shape };
}

/**
 * The config as served: inputs and outputs that config.json leaves out are completed from the
 * model's signature (Triton's auto-complete), shapes without the batch dimension when batched.
 */
export function completeConfig(config: ModelConfig, signature: ModelSignature): ModelConfig {
  const batched = config.max_batch_size > 0;
  const toConfig = (t: TensorMetadata): ConfigTensor => ({
    name: t.name,
    datatype: t.datatype,
    shape: batched ? t.shape.slice(1) : [...t.shape],
  });
  return {
    ...config,
    inputs: config.inputs ?? signature.inputs.map(toConfig),
    outputs: config.outputs ?? signature.outputs.map(toConfig),
  };
}
