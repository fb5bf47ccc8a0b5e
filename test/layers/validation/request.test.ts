import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../../layers/errors";
import type { Tensor } from "../../../layers/protocol/types";
import type { ModelSignature } from "../../../layers/repository/types";
import { validateRequest } from "../../../layers/validation/request";
import { ADD_SIGNATURE } from "../../support/models";

/** a, b → sum, diff over FP32 [-1, 4] (a batch of rows of 4). */
const sig: ModelSignature = ADD_SIGNATURE;

const fp32 = (name: string, shape: number[], n = shape.reduce((x, y) => x * y, 1)): Tensor => ({
  name,
  datatype: "FP32",
  shape,
  data: new Float32Array(n),
});

/** The request a client sends with these inputs and requested outputs. */
const check = (
  inputs: Tensor[],
  outputs: string[] | undefined,
  signature: ModelSignature,
  maxBatch: number,
) =>
  validateRequest(
    { inputs, ...(outputs === undefined ? {} : { outputs: outputs.map((name) => ({ name })) }) },
    signature,
    maxBatch,
  );

const ok = (): Tensor[] => [fp32("a", [2, 4]), fp32("b", [2, 4])];

function failure(inputs: Tensor[], outputs?: string[], maxBatch = 8, signature = sig): InvalidInput {
  try {
    check(inputs, outputs, signature, maxBatch);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInput);
    return e as InvalidInput;
  }
  throw new Error("validateRequest accepted the request");
}

describe("validateRequest", () => {
  it("accepts a request that fits, with or without requested outputs", () => {
    expect(() => check(ok(), undefined, sig, 8)).not.toThrow();
    expect(() => check(ok(), ["diff"], sig, 8)).not.toThrow();
    expect(() => check([fp32("a", [8, 4]), fp32("b", [8, 4])], [], sig, 8)).not.toThrow();
  });

  it("rejects an unknown input and lists the expected names", () => {
    const e = failure([...ok(), fp32("c", [2, 4])]);
    expect(e.message).toBe("unexpected input 'c': the model's inputs are a, b");
    expect(e.kind).toBe("invalid_input");
  });

  it("rejects a missing input", () => {
    expect(failure([fp32("a", [2, 4])]).message).toBe("missing input 'b': the model's inputs are a, b");
  });

  it("rejects an input given twice", () => {
    expect(failure([...ok(), fp32("a", [2, 4])]).message).toBe("input 'a' is given more than once");
  });

  it("rejects a datatype mismatch with expected and received", () => {
    const b: Tensor = { name: "b", datatype: "INT32", shape: [2, 4], data: new Int32Array(8) };
    expect(failure([fp32("a", [2, 4]), b]).message).toBe("input 'b' has datatype INT32, expected FP32");
  });

  it("rejects a rank mismatch", () => {
    expect(failure([fp32("a", [8]), fp32("b", [2, 4])]).message).toBe(
      "input 'a' has shape [8] (rank 1), expected rank 2 [-1,4]",
    );
  });

  it("rejects a fixed dimension that differs, naming the dimension", () => {
    expect(failure([fp32("a", [2, 4]), fp32("b", [2, 3])]).message).toBe(
      "input 'b' has shape [2,3]: dimension 1 is 3, expected 4 (shape [-1,4])",
    );
  });

  it("rejects a batch of 0 and a batch above max_batch_size", () => {
    expect(failure([fp32("a", [0, 4]), fp32("b", [0, 4])]).message).toBe(
      "input 'a' has batch size 0, expected 1 to 8 (max_batch_size)",
    );
    expect(failure([fp32("a", [9, 4]), fp32("b", [9, 4])]).message).toBe(
      "input 'a' has batch size 9, expected 1 to 8 (max_batch_size)",
    );
  });

  it("rejects inputs whose batch sizes differ", () => {
    expect(failure([fp32("a", [2, 4]), fp32("b", [3, 4])]).message).toBe(
      "input 'b' has batch size 3, expected 2 as input 'a'",
    );
  });

  it("does not treat the first dimension as a batch when max_batch_size is 0", () => {
    const free: ModelSignature = { inputs: [{ name: "x", datatype: "FP32", shape: [-1] }], outputs: [] };
    expect(() => check([fp32("x", [0])], undefined, free, 0)).not.toThrow();
    expect(() => check([fp32("x", [100])], undefined, free, 0)).not.toThrow();
  });

  it("rejects negative or fractional dimensions", () => {
    expect(failure([fp32("a", [-2, 4], 8), fp32("b", [2, 4])]).message).toBe(
      "input 'a' has shape [-2,4]: dimensions must be integers >= 0",
    );
    expect(failure([fp32("a", [1.5, 4], 6), fp32("b", [2, 4])]).message).toBe(
      "input 'a' has shape [1.5,4]: dimensions must be integers >= 0",
    );
  });

  it("rejects data whose length does not match the shape", () => {
    expect(failure([fp32("a", [2, 4], 7), fp32("b", [2, 4])]).message).toBe(
      "input 'a' has 7 elements of data, expected 8 for shape [2,4]",
    );
    const text: ModelSignature = { inputs: [{ name: "t", datatype: "BYTES", shape: [-1] }], outputs: [] };
    const t: Tensor = { name: "t", datatype: "BYTES", shape: [3], data: [new Uint8Array(1)] };
    expect(failure([t], undefined, 0, text).message).toBe(
      "input 't' has 1 elements of data, expected 3 for shape [3]",
    );
  });

  it("rejects an unknown requested output and a repeated one", () => {
    expect(failure(ok(), ["sum", "prod"]).message).toBe(
      "unknown output 'prod' requested: the model's outputs are sum, diff",
    );
    expect(failure(ok(), ["sum", "sum"]).message).toBe("output 'sum' is requested more than once");
  });

  it("checks a scalar input of a model without batching", () => {
    const scalar: ModelSignature = { inputs: [{ name: "s", datatype: "INT64", shape: [] }], outputs: [] };
    const s: Tensor = { name: "s", datatype: "INT64", shape: [], data: new BigInt64Array(1) };
    expect(() => check([s], undefined, scalar, 0)).not.toThrow();
    expect(failure([{ ...s, shape: [1] }], undefined, 0, scalar).message).toBe(
      "input 's' has shape [1] (rank 1), expected rank 0 []",
    );
  });
});
