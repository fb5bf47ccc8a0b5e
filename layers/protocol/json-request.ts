/**
 * The JSON part of an infer request in one pass over its bytes: the structural limits counted as
 * it goes, every input's `data` parsed straight into its typed array (json-data.ts), the small
 * fields (`id`, `parameters`, `name`, `shape`, ...) handed to JSON.parse on their own text.
 *
 * The result is exactly what JSON.parse + tensorFromJSON give. Whatever the fast pass does not
 * accept (a syntax error, a limit crossed, a bad element, a duplicate key, `data` before
 * `datatype`/`shape`, a BOM) sends the body down today's path: the limits scan, JSON.parse, and the
 * checks that word every error. Errors therefore cost up to one more pass; valid bodies never do.
 */

import { checkShape } from "./checks";
import { elementCount, isDatatype } from "./datatypes";
import { type SplitBody, splitBody } from "./framing";
import { DecodedData, readData } from "./json-data";
import { checkJsonLimits, type JsonLimits } from "./json-limits";
import { BAIL, JsonReader } from "./json-reader";
import type { Datatype } from "./types";

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const QUOTE = 0x22;
/** Nesting the fast pass follows when no limit is given; deeper bodies take JSON.parse's path. */
const UNLIMITED_DEPTH = 256;

/** Work between two yields of the yielding decoder: other requests wait at most about this long. */
const SLICE_MS = 2;

type Steps<T> = Generator<void, T, void>;

/**
 * Splits a request body and parses its JSON part, checking `limits` (none when undefined).
 * Throws InvalidInput or PayloadTooLarge, worded as the limits scan and splitBody word them.
 */
export function readRequestBody(
  body: Uint8Array,
  headerLength: number | undefined,
  limits?: JsonLimits,
): SplitBody {
  if (allJson(body.byteLength, headerLength)) {
    const header = fastHeader(body, limits);
    if (header !== undefined) return { header, binary: noBinary(body, headerLength) };
  }
  return slowPath(body, headerLength, limits);
}

/**
 * True for a body that is all JSON: no Inference-Header-Content-Length, or one equal to the body's
 * length (perf_analyzer sends it so with every JSON request).
 */
export function allJson(bodyLength: number, headerLength: number | undefined): boolean {
  return headerLength === undefined || headerLength === bodyLength;
}

/** The binary part of an all-JSON body: none, or empty when the header said where it starts. */
const noBinary = (body: Uint8Array, headerLength: number | undefined) =>
  headerLength === undefined ? undefined : body.subarray(body.byteLength);

/**
 * readRequestBody that lets the event loop run every SLICE_MS while it decodes, so that a large
 * JSON body does not stall the other requests.
 */
export async function readRequestBodyYielding(
  body: Uint8Array,
  headerLength: number | undefined,
  limits?: JsonLimits,
): Promise<SplitBody> {
  if (allJson(body.byteLength, headerLength)) {
    const header = await runYielding(tryHeader(body, limits));
    if (header !== undefined) return { header, binary: noBinary(body, headerLength) };
  }
  return slowPath(body, headerLength, limits);
}

/** Today's path: the limits scan, then JSON.parse (splitBody). */
function slowPath(
  body: Uint8Array,
  headerLength: number | undefined,
  limits: JsonLimits | undefined,
): SplitBody {
  if (limits !== undefined) {
    const json =
      headerLength === undefined ? body : body.subarray(0, Math.min(headerLength, body.byteLength));
    checkJsonLimits(json, limits);
  }
  return splitBody(body, headerLength, "request");
}

/**
 * The request object of an all-JSON body, its inputs' data already decoded (DecodedData), or
 * undefined when the body is not for the fast pass (then today's path words the answer).
 */
export function fastHeader(
  body: Uint8Array,
  limits: JsonLimits | undefined,
): Record<string, unknown> | undefined {
  const steps = tryHeader(body, limits);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

async function runYielding<T>(steps: Steps<T>): Promise<T> {
  let since = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    if (performance.now() - since > SLICE_MS) {
      await new Promise(setImmediate);
      since = performance.now();
    }
  }
}

function* tryHeader(
  body: Uint8Array,
  limits: JsonLimits | undefined,
): Steps<Record<string, unknown> | undefined> {
  try {
    return yield* readHeader(body, limits);
  } catch {
    return undefined;
  }
}

/** tryHeader's work; throws BAIL (or JSON.parse's error on a span it let through). */
function* readHeader(body: Uint8Array, limits: JsonLimits | undefined): Steps<Record<string, unknown>> {
  const r = new JsonReader(
    body,
    body.byteLength,
    limits?.maxDepth ?? UNLIMITED_DEPTH,
    limits?.maxElements ?? Number.POSITIVE_INFINITY,
  );
  const header = yield* readObject(r, (key) => (key === "inputs" ? readInputs(r) : generic(r, key)));
  if (r.ws() !== -1) throw BAIL;
  return header;
}

/** The known fields of the object at the cursor, read by `field`; unknown ones are skipped. */
function* readObject(r: JsonReader, field: (key: string) => Steps<unknown>): Steps<Record<string, unknown>> {
  r.expect(OPEN_OBJECT);
  r.open();
  const out: Record<string, unknown> = {};
  if (r.ws() === CLOSE_OBJECT) {
    r.pos++;
    r.depth--;
    return out;
  }
  for (;;) {
    if (r.ws() !== QUOTE) throw BAIL;
    const start = r.skipString();
    const key = r.escaped ? (JSON.parse(r.text(start, r.pos)) as string) : r.text(start + 1, r.pos - 1);
    r.expect(COLON);
    r.ws();
    const value = yield* field(key);
    if (value !== SKIPPED) {
      // JSON.parse keeps the last of duplicate keys; rare enough to leave to it.
      if (Object.hasOwn(out, key)) throw BAIL;
      out[key] = value;
    }
    const c = r.ws();
    r.pos++;
    if (c === CLOSE_OBJECT) break;
    if (c !== COMMA) throw BAIL;
  }
  r.depth--;
  return out;
}

const SKIPPED = Symbol("skipped");
const REQUEST_FIELDS = new Set(["id", "parameters", "outputs"]);
const INPUT_FIELDS = new Set(["name", "datatype", "shape", "parameters"]);

/** A field read with JSON.parse when `known` has it, else skipped. */
// biome-ignore lint/correctness/useYield: a step of readObject that never needs to yield.
function* generic(r: JsonReader, key: string, known = REQUEST_FIELDS): Steps<unknown> {
  if (known.has(key)) return r.parseValue();
  r.skipValue();
  return SKIPPED;
}

function* readInputs(r: JsonReader): Steps<unknown> {
  if (r.ws() !== OPEN_ARRAY) return r.parseValue();
  r.pos++;
  r.open();
  const inputs: unknown[] = [];
  if (r.ws() === CLOSE_ARRAY) r.pos++;
  else {
    for (;;) {
      inputs.push(r.ws() === OPEN_OBJECT ? yield* readInput(r) : r.parseValue());
      const c = r.ws();
      r.pos++;
      if (c === CLOSE_ARRAY) break;
      if (c !== COMMA) throw BAIL;
    }
  }
  r.depth--;
  r.count(inputs.length);
  return inputs;
}

/** One input entry; `data` is decoded once `datatype` and `shape` are known and valid. */
function* readInput(r: JsonReader): Steps<Record<string, unknown>> {
  let datatype: Datatype | undefined;
  let shape: number[] | undefined;
  return yield* readObject(r, function* (key) {
    if (key !== "data") {
      const v = yield* generic(r, key, INPUT_FIELDS);
      if (key === "datatype" && isDatatype(v)) datatype = v;
      if (key === "shape") shape = validShape(v);
      return v;
    }
    if (datatype === undefined || shape === undefined) throw BAIL;
    return new DecodedData(yield* readData(r, datatype, shape, elementCount(shape)));
  });
}

function validShape(v: unknown): number[] | undefined {
  try {
    return checkShape("", v);
  } catch {
    return undefined;
  }
}
