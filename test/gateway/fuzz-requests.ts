/**
 * fast-check arbitraries of malformed infer requests for the `add` test model (a, b: FP32 [-1, 4],
 * max_batch_size 8). Every request generated is invalid by construction: a server must refuse each
 * one with a 4xx, whatever it holds.
 */
import fc from "fast-check";
import { DATATYPES } from "../../layers/protocol";

/** One HTTP request to send. */
export interface FuzzRequest {
  /** What kind of malformation it is (reported when a run fails). */
  kind: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
  /** The status it must get, when only one is right. @default any 4xx */
  status?: number;
  /** What the error message must say, when that is certain. */
  error?: RegExp;
}

/** The route every generated request goes to, unless it is about routes. */
export const INFER = "/v2/models/add/infer";

/** A valid request's JSON (batch n). */
export function validObject(n: number, a = 1, b = 2): Record<string, unknown> {
  return {
    inputs: [
      { name: "a", shape: [n, 4], datatype: "FP32", data: new Array(4 * n).fill(a) },
      { name: "b", shape: [n, 4], datatype: "FP32", data: new Array(4 * n).fill(b) },
    ],
  };
}

/** A JSON request of `kind`. */
export const json = (kind: string, body: string, headers: Record<string, string> = {}): FuzzRequest => ({
  kind,
  path: INFER,
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body,
});

/** A batch size the model accepts. */
export const batch = fc.integer({ min: 1, max: 8 });
/** Printable ASCII only: anything else cannot be sent as a header value at all. */
export const headerText = fc.string({ unit: "grapheme-ascii", maxLength: 24 });
const notArray = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.object({ maxDepth: 1 }),
);
const notString = fc.oneof(
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);

/** Text that is not JSON at all, or truncated JSON, or JSON that is not a request object. */
export const badJson: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }).map((s) => json("bad JSON text", `{${s}`)),
  fc.tuple(batch, fc.double({ min: 0, max: 1 })).map(([n, cut]) => {
    const text = JSON.stringify(validObject(n));
    return json("truncated JSON", text.slice(0, Math.floor(cut * (text.length - 1))));
  }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => json("JSON but not a request", JSON.stringify({ not_inputs: v }))),
  fc
    .oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant([]))
    .filter((v) => typeof v !== "object" || v === null || Array.isArray(v))
    .map((v) => json("JSON not an object", JSON.stringify(v))),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => ({
    ...json("random bytes", ""),
    body: new Uint8Array([0x7b, 0xff, ...bytes]), // "{" then a byte that is never valid UTF-8
  })),
);

/** A valid request with one field replaced by a value of the wrong type. */
export const wrongTypes: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    batch,
    fc.constantFrom(
      "inputs",
      "input",
      "name",
      "datatype",
      "shape",
      "shape item",
      "data",
      "parameters",
      "outputs",
      "output name",
      "id",
    ),
    fc.integer({ min: 0, max: 1 }),
  )
  .chain(([n, field, which]) =>
    (field === "name" || field === "datatype" || field === "output name" || field === "id"
      ? notString
      : field === "data"
        ? notArray.filter((v) => typeof v !== "number")
        : field === "shape item"
          ? fc.oneof(fc.string({ maxLength: 3 }), fc.constant(1.5), fc.constant(null), fc.constant([1]))
          : field === "parameters"
            ? fc.oneof(
                fc.array(fc.integer(), { maxLength: 3 }),
                fc.string(),
                fc.constant({ nested: { deep: 1 } }),
              )
            : notArray
    ).map((value) => {
      const req = validObject(n) as { inputs: Array<Record<string, unknown>> } & Record<string, unknown>;
      const input = req.inputs[which] ?? {};
      switch (field) {
        case "inputs":
          req.inputs = value as never;
          break;
        case "input":
          req.inputs[which] = value as never;
          break;
        case "shape item":
          (input.shape as unknown[])[1] = value;
          break;
        case "parameters":
          input.parameters = value;
          break;
        case "outputs":
          req.outputs = value;
          break;
        case "output name":
          req.outputs = [{ name: value }];
          break;
        case "id":
          req.id = value;
          break;
        default:
          input[field] = value;
      }
      return json(`wrong type: ${field}`, JSON.stringify(req));
    }),
  );

/** Shapes that cannot describe the data sent: huge, negative, zero-length mismatches, wrong rank. */
export const badShapes: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc
    .tuple(
      batch,
      fc.array(fc.oneof(fc.integer({ min: 2 ** 31, max: Number.MAX_SAFE_INTEGER }), fc.constant(1e300)), {
        minLength: 1,
        maxLength: 4,
      }),
    )
    .map(([n, dims]) => {
      const req = validObject(n) as { inputs: Array<Record<string, unknown>> };
      const a = req.inputs[0] ?? {};
      a.shape = [...dims, 4];
      return json("huge shape", JSON.stringify(req));
    }),
  fc
    .tuple(batch, fc.integer({ min: -(2 ** 40), max: -1 }), fc.integer({ min: 0, max: 1 }))
    .map(([n, neg, dim]) => {
      const req = validObject(n) as { inputs: Array<Record<string, unknown>> };
      const shape = [n, 4];
      shape[dim] = neg;
      const b = req.inputs[1] ?? {};
      b.shape = shape;
      return json("negative dim", JSON.stringify(req));
    }),
  fc
    .tuple(batch, fc.integer({ min: 0, max: 64 }))
    .filter(([n, len]) => len !== 4 * n)
    .map(([n, len]) => {
      const req = validObject(n) as { inputs: Array<Record<string, unknown>> };
      const a = req.inputs[0] ?? {};
      a.data = new Array(len).fill(0.5);
      return json("shape/data mismatch", JSON.stringify(req));
    }),
  fc
    .tuple(fc.integer({ min: 9, max: 64 }))
    .map(([n]) => json("batch over max_batch_size", JSON.stringify(validObject(n)))),
  fc
    .array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: 5 })
    .filter((s) => s.length !== 2)
    .map((shape) => {
      const req = validObject(1) as { inputs: Array<Record<string, unknown>> };
      const a = req.inputs[0] ?? {};
      a.shape = shape;
      a.data = new Array(shape.reduce((x, y) => x * y, 1)).fill(1);
      return json("wrong rank", JSON.stringify(req));
    }),
);

/** Nesting past the JSON depth limit (32), in data or anywhere else in the document. */
export const deepNesting: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.integer({ min: 33, max: 400 }), fc.constantFrom("[", '{"k":'), fc.boolean())
  .map(([depth, open, inData]) => {
    const close = open === "[" ? "]" : "}";
    const nested = `${open.repeat(depth)}1${close.repeat(depth)}`;
    const body = inData
      ? `{"inputs":[{"name":"a","shape":[1,4],"datatype":"FP32","data":${nested}}]}`
      : `{"inputs":[],"parameters":${nested}}`;
    return {
      ...json("deep nesting", body),
      status: 400,
      error: /^JSON nesting is deeper than the limit of 32 levels$/,
    };
  });

/** More array elements than MAX_JSON_ELEMENTS allows (the fuzz server sets 4096). */
export const tooManyElements: fc.Arbitrary<FuzzRequest> = fc.integer({ min: 4_100, max: 6_000 }).map((n) => ({
  ...json(
    "too many elements",
    `{"inputs":[{"name":"a","shape":[${n}],"datatype":"FP32","data":[${"0,".repeat(n - 1)}0]}]}`,
  ),
  status: 413,
  error: /^JSON body has more than 4096 array elements, the limit; send large tensors in binary$/,
}));

/** Datatypes that do not exist, or exist but are not the model's. */
export const badDatatypes: fc.Arbitrary<FuzzRequest> = fc
  .tuple(
    batch,
    fc.oneof(
      fc.string({ maxLength: 10 }).filter((s) => !(DATATYPES as readonly string[]).includes(s)),
      fc.constantFrom("fp32", "FLOAT", "TYPE_FP32", "FP128", "BF16"),
      fc.constantFrom(...DATATYPES.filter((d) => d !== "FP32" && d !== "BYTES")),
    ),
  )
  .map(([n, datatype]) => {
    const req = validObject(n) as { inputs: Array<Record<string, unknown>> };
    const b = req.inputs[1] ?? {};
    b.datatype = datatype;
    if (datatype === "BOOL") b.data = new Array(4 * n).fill(2); // not a boolean either
    return json("bad datatype", JSON.stringify(req));
  });
