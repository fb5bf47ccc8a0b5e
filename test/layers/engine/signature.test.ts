import type { InferenceSession } from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { shortOrtMessage } from "../../../layers/engine/loaded";
import { resolveSignature, SignatureMismatch } from "../../../layers/engine/signature";
import type { ModelConfig } from "../../../layers/repository/types";
import { cpuOptions } from "../../support/session-options";

const config = (fields: Partial<ModelConfig>): ModelConfig => ({
  name: "m",
  platform: "onnxruntime_onnx",
  backend: "cpu",
  max_batch_size: 0,
  version_policy: { latest: { num_versions: 1 } },
  cache: { enabled: false, ttl_seconds: 1 },
  dynamic_batching: {
    enabled: false,
    preferred_batch_size: [],
    max_queue_delay_microseconds: 0,
    max_queue_size: 1,
    default_timeout_microseconds: 0,
  },
  optimization: cpuOptions(),
  release: { tolerance: { abs: 0, rel: 0 }, compare_with_live: false },
  ...fields,
});

const tensor = (name: string, type: string, shape: Array<number | string>): InferenceSession.ValueMetadata =>
  ({ name, isTensor: true, type, shape }) as InferenceSession.ValueMetadata;

const meta = (inputs: InferenceSession.ValueMetadata[], outputs: InferenceSession.ValueMetadata[] = []) => ({
  inputMetadata: inputs,
  outputMetadata: outputs,
});

describe("resolveSignature", () => {
  it("maps ORT types and turns symbolic or unnamed dims into -1", () => {
    const sig = resolveSignature(
      config({ max_batch_size: 4 }),
      meta(
        [tensor("t", "string", ["batch", ""]), tensor("h", "float16", [-1, 2])],
        [tensor("o", "bool", ["batch", 3])],
      ),
    );
    expect(sig).toEqual({
      inputs: [
        { name: "t", datatype: "BYTES", shape: [-1, -1] },
        { name: "h", datatype: "FP16", shape: [-1, 2] },
      ],
      outputs: [{ name: "o", datatype: "BOOL", shape: [-1, 3] }],
    });
  });

  it("keeps a fixed model dim where the config says -1, and narrows a free one where the config fixes it", () => {
    const sig = resolveSignature(
      config({ inputs: [{ name: "x", datatype: "FP32", shape: [-1, 7] }] }),
      meta([tensor("x", "float32", [5, "w"])]),
    );
    expect(sig.inputs).toEqual([{ name: "x", datatype: "FP32", shape: [5, 7] }]);
  });

  it("refuses element types the protocol cannot carry, and non-tensors", () => {
    expect(() => resolveSignature(config({}), meta([tensor("q", "int4", [2])]))).toThrow(
      new SignatureMismatch("model input 'q' has element type int4, which is not served"),
    );
    const seq = { name: "s", isTensor: false } as InferenceSession.ValueMetadata;
    expect(() => resolveSignature(config({}), meta([], [seq]))).toThrow("model output 's' is not a tensor");
  });

  it("refuses batching on a model whose first dimension is fixed or absent", () => {
    expect(() => resolveSignature(config({ max_batch_size: 2 }), meta([tensor("x", "float32", [])]))).toThrow(
      "model input 'x' has shape [] with no free first (batch) dimension, but max_batch_size is 2",
    );
  });
});

describe("shortOrtMessage", () => {
  it("keeps ORT's status message without its source paths", () => {
    const e = new Error(
      "Non-zero status code returned while running Reshape node. Name:'n0' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/reshape_helper.h:91 onnxruntime::ReshapeHelper::ReshapeHelper(bool) input_shape_size == requested_shape_size was false. The input tensor cannot be reshaped",
    );
    const msg = shortOrtMessage(e);
    expect(msg).not.toContain("/onnxruntime_src");
    expect(msg).toContain("The input tensor cannot be reshaped");
    expect(msg.length).toBeLessThanOrEqual(201);
  });
});
