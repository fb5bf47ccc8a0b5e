/**
 * The one-pass JSON request decoder against today's semantic (limits scan, JSON.parse,
 * tensorFromJSON): the same request for every valid body, the same error for every invalid one.
 * The reference is the same decoder on the body behind a UTF-8 BOM, which the fast pass never
 * takes and the JSON.parse path strips.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeInferRequest, decodeInferRequestYielding } from "../../../layers/protocol/codec";
import { tensorToJSONData } from "../../../layers/protocol/json";
import { DecodedData } from "../../../layers/protocol/json-data";
import type { JsonLimits } from "../../../layers/protocol/json-limits";
import { fastHeader, readRequestBody } from "../../../layers/protocol/json-request";
import type { Tensor } from "../../../layers/protocol/types";
import { expectInvalid, nest, RUNS, tensorsArb, utf8 } from "./arbitraries";

const BOM = [0xef, 0xbb, 0xbf];

/** What a decode gave: the request, or the error's class and message. */
function outcome(body: Uint8Array, limits?: JsonLimits): unknown {
  try {
    return { ok: decodeInferRequest(body, undefined, limits) };
  } catch (e) {
    return { error: (e as Error).constructor.name, message: (e as Error).message };
  }
}

/** What the yielding decode gave, in outcome's terms. */
async function outcomeYielding(body: Uint8Array, limits?: JsonLimits): Promise<unknown> {
  try {
    return { ok: await decodeInferRequestYielding(body, undefined, limits) };
  } catch (e) {
    return { error: (e as Error).constructor.name, message: (e as Error).message };
  }
}

/** The reference: today's path, forced by a leading BOM. */
function reference(body: Uint8Array, limits?: JsonLimits): unknown {
  const withBom = new Uint8Array(body.byteLength + 3);
  withBom.set(BOM);
  withBom.set(body, 3);
  expect(fastHeader(withBom, limits)).toBeUndefined();
  return outcome(withBom, limits);
}

/** A JSON number spelled in one of the ways clients write it (all denoting `v`). */
const spellings = (v: number): string[] =>
  Number.isInteger(v) && Math.abs(v) < 1e15
    ? [String(v), `${v}.0`, `${v}e0`, `${v * 10}E-1`]
    : [String(v), v.toPrecision(17), v.toExponential(16), v.toPrecision(9)];

/** Element spellings each refused by some datatype (or by all). */
const BAD = [
  "1e39",
  "-1e309",
  "65520",
  "256",
  "-1",
  "0.5",
  "9007199254740993",
  "2",
  "true",
  "null",
  '"x"',
  '"12"',
  '"NaN"',
  "[1]",
  "{}",
  '"\\u0031"',
];

/** A JSON text for `t`'s data: flat or nested, numbers spelled by `pick`, spaced by `space`. */
function dataText(t: Tensor, nested: boolean, pick: (n: number) => number, space: string): string {
  const flat = tensorToJSONData(t);
  const write = (v: unknown): string => {
    if (Array.isArray(v)) return `[${space}${v.map(write).join(`,${space}`)}${space}]`;
    if (typeof v !== "number") return JSON.stringify(v);
    const s = spellings(v);
    return s[pick(s.length)] ?? String(v);
  };
  return write(nested ? nest(flat, t.shape) : flat);
}

/** A request body for `tensors` with varied spelling, spacing, key order and extra fields. */
const bodyArb = tensorsArb(true).chain((tensors) =>
  fc
    .record({
      nested: fc.boolean(),
      dataFirst: fc.boolean(),
      space: fc.constantFrom("", " ", "\n\t"),
      seed: fc.integer({ min: 0, max: 1000 }),
      extra: fc.boolean(),
    })
    .map(({ nested, dataFirst, space, seed, extra }) => {
      let s = seed;
      const pick = (n: number) => {
        s = (s * 31 + 7) % 1009;
        return s % n;
      };
      const entries = tensors.map((t) => {
        const data = `"data":${space}${dataText(t, nested, pick, space)}`;
        const head = `"name":${JSON.stringify(t.name)},"shape":${JSON.stringify(t.shape)},"datatype":"${t.datatype}"`;
        const more = extra ? `,"parameters":{"p":1},"x":[{"y":[1,2]}]` : "";
        return `{${space}${dataFirst ? `${data},${head}` : `${head},${data}`}${more}}`;
      });
      const fields = extra ? `"id":"r1","outputs":[{"name":"y"}],"parameters":{"k":"v"},` : "";
      return { text: `{${fields}"inputs":[${entries.join(`,${space}`)}]}`, dataFirst };
    }),
);

/** Edits that make most bodies invalid: a character dropped or inserted, a number replaced. */
const editArb = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  kind: fc.constantFrom("drop", "insert", "number"),
  ch: fc.constantFrom(...'[]{},:"0-.e1\\ tnx'.split("")),
  number: fc.constantFrom("1e-50", "01", "-0", "1.", ".5", "1e", "+1", "-"),
});

type Edit = typeof editArb extends fc.Arbitrary<infer T> ? T : never;

function edit(text: string, e: Edit): string {
  const i = Math.floor(e.at * text.length);
  if (e.kind === "drop") return text.slice(0, i) + text.slice(i + 1);
  if (e.kind === "insert") return text.slice(0, i) + e.ch + text.slice(i);
  const m = /-?\d+(\.\d+)?([eE][-+]?\d+)?/g;
  m.lastIndex = i;
  const found = m.exec(text);
  return found === null
    ? text
    : text.slice(0, found.index) + e.number + text.slice(found.index + found[0].length);
}

const limitsArb = fc.option(
  fc.record({ maxDepth: fc.integer({ min: 4, max: 9 }), maxElements: fc.integer({ min: 1, max: 80 }) }),
  { nil: undefined },
);

describe("one-pass JSON request decoder", () => {
  it("decodes every valid body as JSON.parse + tensorFromJSON do, without falling back", () => {
    fc.assert(
      fc.property(bodyArb, ({ text, dataFirst }) => {
        const body = utf8(text);
        if (!dataFirst) expect(fastHeader(body, undefined)).toBeDefined();
        expect(outcome(body)).toEqual(reference(body));
      }),
      RUNS,
    );
  });

  it("answers every bad element as today: the same error, or the same request", () => {
    let refused = 0;
    fc.assert(
      fc.property(bodyArb, fc.constantFrom(...BAD), (b, token) => {
        const text = b.text.replace(/("data":\s*\[[\s[]*)("[^"]*"|[^,\]\s]+)/, `$1${token}`);
        fc.pre(text !== b.text);
        const body = utf8(text);
        const got = outcome(body) as { error?: string };
        if (got.error !== undefined) refused++;
        expect(got).toEqual(reference(body));
      }),
      { numRuns: 400 },
    );
    expect(refused).toBeGreaterThan(100);
  });

  it("answers every edited body, and every limit, with today's request or today's error", () => {
    fc.assert(
      fc.property(
        bodyArb,
        fc.array(editArb, { minLength: 1, maxLength: 3 }),
        limitsArb,
        (b, edits, limits) => {
          const body = utf8(edits.reduce(edit, b.text));
          expect(outcome(body, limits)).toEqual(reference(body, limits));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("gives the same request or error when it yields to other work", async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, fc.array(editArb, { maxLength: 2 }), limitsArb, async (b, edits, limits) => {
        const body = utf8(edits.reduce(edit, b.text));
        expect(await outcomeYielding(body, limits)).toEqual(outcome(body, limits));
      }),
      RUNS,
    );
  });

  it("lets other work run while it decodes a large body", async () => {
    // About 4 MB: well over the 2 ms slice on any machine.
    const n = 200_000;
    const value = "0.12345678901234567";
    const body = utf8(
      `{"inputs":[{"name":"x","datatype":"FP32","shape":[${n}],"data":[${Array(n).fill(value).join(",")}]}]}`,
    );
    const order: string[] = [];
    setImmediate(() => order.push("other"));
    const request = await decodeInferRequestYielding(body);
    order.push("decoded");
    expect(order).toEqual(["other", "decoded"]);
    const data = request.inputs[0]?.data as Float32Array;
    expect(data.length === n && data.every((v) => v === Math.fround(Number(value)))).toBe(true);
    // The synchronous decoder runs to the end first (the reference order).
    const sync: string[] = [];
    setImmediate(() => sync.push("other"));
    decodeInferRequest(body);
    sync.push("decoded");
    await new Promise(setImmediate);
    expect(sync).toEqual(["decoded", "other"]);
  });

  it("parses full-precision floats to the float32 JSON.parse gives", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e40, max: 1e40 }), { minLength: 1 }), (values) => {
        const text = values.map((v) => v.toPrecision(17)).join(",");
        const body = utf8(
          `{"inputs":[{"name":"x","datatype":"FP32","shape":[${values.length}],"data":[${text}]}]}`,
        );
        expect(outcome(body)).toEqual(reference(body));
      }),
      RUNS,
    );
  });

  it("parses decimal spellings of any length as JSON.parse does: long fractions, leading zeros, long integers", () => {
    const digits = (min: number, max: number) =>
      fc.array(fc.constantFrom(..."0123456789"), { minLength: min, maxLength: max }).map((d) => d.join(""));
    const numberArb = fc
      .record({
        minus: fc.boolean(),
        int: fc.oneof(
          fc.constant("0"),
          fc.tuple(fc.constantFrom(..."123456789"), digits(0, 30)).map(([a, b]) => a + b),
        ),
        zeros: fc.nat(24).map((n) => "0".repeat(n)),
        fraction: fc.option(digits(1, 40), { nil: undefined }),
        exp: fc.option(fc.integer({ min: -60, max: 60 }), { nil: undefined }),
      })
      .map(({ minus, int, zeros, fraction, exp }) => {
        const frac = fraction === undefined ? "" : `.${zeros}${fraction}`;
        return `${minus ? "-" : ""}${int}${frac}${exp === undefined ? "" : `e${exp}`}`;
      });
    fc.assert(
      fc.property(
        fc.array(numberArb, { minLength: 1, maxLength: 12 }),
        fc.constantFrom("FP32", "FP64"),
        (values, dt) => {
          const body = utf8(
            `{"inputs":[{"name":"x","datatype":"${dt}","shape":[${values.length}],"data":[${values.join(",")}]}]}`,
          );
          expect(outcome(body)).toEqual(reference(body));
        },
      ),
      { numRuns: 400 },
    );
  });

  it("rounds float32 midpoints spelled with 17 to 25 digits as JSON.parse does", () => {
    // Halfway between two float32 values: the double it spells must decide the rounding.
    const word = new Uint32Array(1);
    const single = new Float32Array(word.buffer);
    const midpointArb = fc
      .record({
        v: fc.float({ min: Math.fround(1e-3), max: Math.fround(1e6), noNaN: true }),
        digits: fc.integer({ min: 17, max: 25 }),
        minus: fc.boolean(),
      })
      .map(({ v, digits, minus }) => {
        single[0] = v;
        word[0] = (word[0] as number) + 1;
        return `${minus ? "-" : ""}${((v + (single[0] as number)) / 2).toPrecision(digits)}`;
      });
    fc.assert(
      fc.property(fc.array(midpointArb, { minLength: 1, maxLength: 8 }), (values) => {
        const body = utf8(
          `{"inputs":[{"name":"x","datatype":"FP32","shape":[${values.length}],"data":[${values.join(",")}]}]}`,
        );
        expect(outcome(body)).toEqual(reference(body));
      }),
      RUNS,
    );
  });

  it("answers a malformed number or separator in a float row as today, wherever it stands", () => {
    const tokens = ["1.", ".5", "-", "-.5", "01", "1e", "1.e5", "+1", "--1", "", " ", "1 2", "0x1", "1.5.5"];
    for (const dt of ["FP32", "FP64"]) {
      for (const token of tokens) {
        for (const row of [`${token},1,2`, `1,${token},2`, `1,2,${token}`, `1, ${token} ,2`]) {
          const body = utf8(`{"inputs":[{"name":"x","datatype":"${dt}","shape":[3],"data":[${row}]}]}`);
          expect(outcome(body), `${dt} [${row}]`).toEqual(reference(body));
        }
      }
    }
  });

  it("refuses numbers outside a float type's range, naming the input", () => {
    const one = (dt: string, v: string) =>
      utf8(`{"inputs":[{"name":"x","datatype":"${dt}","shape":[2],"data":[0,${v}]}]}`);
    expectInvalid(
      () => decodeInferRequest(one("FP32", "3.5e38")),
      "input 'x': element 1 (3.5e+38) is out of range for FP32 [-3.4028234663852886e+38, 3.4028234663852886e+38]",
    );
    expectInvalid(
      () => decodeInferRequest(one("FP16", "-65520")),
      "input 'x': element 1 (-65520) is out of range for FP16 [-65504, 65504]",
    );
    expectInvalid(
      () => decodeInferRequest(one("FP64", "1e309")),
      "input 'x': element 1 (Infinity) is out of range for FP64",
    );
    // The largest values that round into range are accepted, and "Infinity" stays the way to send one.
    expect(decodeInferRequest(one("FP16", "65519")).inputs[0]?.data).toEqual(Uint16Array.of(0, 0x7bff));
    expect(decodeInferRequest(one("FP32", '"-Infinity"')).inputs[0]?.data).toEqual(
      Float32Array.of(0, -Infinity),
    );
  });
});

describe("an all-JSON body with Inference-Header-Content-Length equal to its length (perf_analyzer)", () => {
  const body = utf8(
    JSON.stringify({ inputs: [{ name: "x", datatype: "FP32", shape: [2], data: [0.1, 2] }] }),
  );

  it("takes the one-pass decoder, as without the header", () => {
    expect(readRequestBody(body, body.byteLength).header).toEqual(readRequestBody(body, undefined).header);
    const data = (readRequestBody(body, body.byteLength).header.inputs as Array<{ data: unknown }>)[0]?.data;
    expect(data).toBeInstanceOf(DecodedData);
  });

  it("decodes to the same request as without the header, yielding or not", async () => {
    const plain = decodeInferRequest(body, undefined);
    expect(decodeInferRequest(body, body.byteLength)).toEqual(plain);
    expect(await decodeInferRequestYielding(body, body.byteLength)).toEqual(plain);
  });
});
