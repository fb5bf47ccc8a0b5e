import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { tensorBytes } from "../../../layers/protocol/binary";
import { withoutBinarySize } from "../../../layers/protocol/checks";
import { encodeInferRequest, encodeInferResponse } from "../../../layers/protocol/codec";
import { tensorToJSONData } from "../../../layers/protocol/json";
import { jsonDataBytes, SMALL } from "../../../layers/protocol/json-writer";
import { DATATYPES, type Datatype, type Tensor } from "../../../layers/protocol/types";
import { dataArb, nameArb, RUNS, tensorArb } from "./arbitraries";

const text = new TextDecoder();

/** What the encoders wrote before json-writer.ts: one JavaScript value per element, then JSON.stringify. */
const reference = (t: Tensor) => JSON.stringify(tensorToJSONData(t));

/** The header as JSON.stringify writes it with every JSON tensor's data as an array. */
function referenceHeader(header: Record<string, unknown>, key: "outputs" | "inputs", binary: Set<string>) {
  const entries = (header[key] as Tensor[]).map((t) => {
    const e: Record<string, unknown> = { name: t.name, datatype: t.datatype, shape: t.shape };
    const parameters = withoutBinarySize(t.parameters);
    if (binary.has(t.name)) {
      e.parameters = { ...parameters, binary_data_size: tensorBytes(t).byteLength };
      return e;
    }
    if (parameters !== undefined) e.parameters = parameters;
    e.data = tensorToJSONData(t);
    return e;
  });
  return JSON.stringify({ ...header, [key]: entries });
}

/** A tensor of any datatype with SMALL elements or more (the writer's), as one row. */
const largeTensor = (name: string) =>
  fc
    .record({ datatype: fc.constantFrom(...DATATYPES), n: fc.integer({ min: SMALL, max: SMALL + 300 }) })
    .chain(({ datatype, n }) =>
      dataArb(datatype, n, true).map((data): Tensor => ({ name, datatype, shape: [n], data })),
    );

/** 1..3 tensors with distinct names, each small (tensorToJSONData's) or large (the writer's). */
const mixedTensors = fc
  .uniqueArray(nameArb, { minLength: 1, maxLength: 3 })
  .chain((names) =>
    fc.tuple(...names.map((name) => fc.oneof(tensorArb({ text: true, name }), largeTensor(name)))),
  );

/**
 * Floats as models write them: mostly integer-valued (mask zeros, saturated ones), mostly not, or
 * anything fast-check finds (NaN, ±Infinity, -0, subnormals, 1e21 and up), at either width.
 */
const special = [
  0,
  -0,
  1,
  -1,
  0.5,
  2 ** 31,
  -(2 ** 31),
  2 ** 31 - 1,
  2 ** 53,
  1e21,
  1e-7,
  5e-324,
  NaN,
  Infinity,
  -Infinity,
];
const floatValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 3, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(...special) },
);
const floatTensor = fc
  .record({
    datatype: fc.constantFrom<Datatype>("FP32", "FP64"),
    values: fc.array(floatValue, { maxLength: 300 }),
    zeros: fc.integer({ min: SMALL, max: 700 }),
  })
  .map(({ datatype, values, zeros }): Tensor => {
    // Padded with zeros at random places: from all zeros to none.
    const all = [...values, ...Array<number>(zeros).fill(0)].sort((a, b) => (Math.sin(a + b) > 0 ? 1 : -1));
    const data = datatype === "FP32" ? Float32Array.from(all) : Float64Array.from(all);
    return { name: "y", datatype, shape: [all.length], data };
  });

describe("JSON tensor data written from typed arrays", () => {
  it("writes every datatype it takes exactly as JSON.stringify of the data array", () => {
    fc.assert(
      fc.property(largeTensor("x"), (t) => {
        const bytes = jsonDataBytes(t);
        if (["FP16", "INT64", "UINT64", "BYTES"].includes(t.datatype)) expect(bytes).toBeUndefined();
        else expect(text.decode(bytes)).toBe(reference(t));
      }),
      RUNS,
    );
  });

  it("leaves a tensor under SMALL elements to tensorToJSONData", () => {
    fc.assert(
      fc.property(tensorArb({ text: true }), (t) => {
        const left = t.data.length < SMALL || ["FP16", "INT64", "UINT64", "BYTES"].includes(t.datatype);
        expect(jsonDataBytes(t) === undefined).toBe(left);
      }),
      RUNS,
    );
  });

  it("writes floats mostly integer-valued, mostly not, and special, exactly as JSON.stringify", () => {
    fc.assert(
      fc.property(floatTensor, (t) => {
        expect(text.decode(jsonDataBytes(t))).toBe(reference(t));
      }),
      { numRuns: 400 },
    );
  });

  it("writes a large mostly-zero output, as a detector's map is, and its dense twin", () => {
    const n = 320 * 320;
    const sparse = new Float32Array(n).map((_, i) =>
      i % 97 === 0 ? Math.fround(1 / (1 + i)) : i % 89 === 0 ? 1 : 0,
    );
    const dense = new Float32Array(n).map((_, i) => Math.fround(1 / (1 + Math.exp(-Math.sin(i) * 8))));
    for (const data of [sparse, dense]) {
      const t: Tensor = { name: "maps", datatype: "FP32", shape: [1, 1, 320, 320], data };
      expect(text.decode(jsonDataBytes(t))).toBe(reference(t));
    }
  });

  it("leaves the response body byte for byte as JSON.stringify wrote it, binary outputs mixed in", () => {
    const tricky = fc.constantFrom("q", '"data":[1]}', '}],"outputs":[', "é\u2028😀", "\u0000");
    fc.assert(
      fc.property(
        mixedTensors,
        fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        fc.option(tricky, { nil: undefined }),
        fc.option(fc.dictionary(nameArb, fc.oneof(fc.string(), fc.integer(), fc.boolean())), {
          nil: undefined,
        }),
        (outputs, pick, id, parameters) => {
          const binary = new Set(outputs.filter((_, i) => pick[i]).map((t) => t.name));
          const header = { model_name: "m", model_version: "1", id, parameters, outputs };
          const enc = encodeInferResponse(header, binary);
          const json = referenceHeader(header, "outputs", binary);
          const got = enc.headerLength === undefined ? enc.body : enc.body.subarray(0, enc.headerLength);
          expect(text.decode(got).trimEnd()).toBe(json);
        },
      ),
      RUNS,
    );
  });

  it("leaves a client's JSON request body as JSON.stringify wrote it", () => {
    fc.assert(
      fc.property(mixedTensors, fc.option(nameArb, { nil: undefined }), (inputs, id) => {
        const enc = encodeInferRequest({ id, inputs, outputs: [{ name: "o" }] }, { binary: false });
        expect(text.decode(enc.body)).toBe(
          referenceHeader(
            { id, parameters: undefined, inputs, outputs: [{ name: "o" }] },
            "inputs",
            new Set(),
          ),
        );
      }),
      RUNS,
    );
  });
});
