/**
 * The body of an infer request or response: a JSON header, optionally followed by the binary data of
 * the tensors whose parameters carry `binary_data_size`, in the order they are listed.
 * Shared by the server side (requests in, responses out) and the client side (the reverse).
 */
import { InvalidInput } from "../errors";
import { tensorBytes, tensorFromBytes } from "./binary";
import { checkParameters, describe, isObject, label, type TensorRole, withoutBinarySize } from "./checks";
import { tensorFromJSON, tensorToJSONData } from "./json";
import { jsonDataBytes } from "./json-writer";
import type { Datatype, Parameters, RequestInput, Tensor } from "./types";

/** An encoded body, ready for HTTP: `headerLength` goes into `Inference-Header-Content-Length`. */
export interface EncodedBody {
  body: Uint8Array;
  headerLength?: number;
  contentType: string;
}

/** The JSON part of a body, parsed, and its binary part (undefined when there is none). */
export interface SplitBody {
  header: Record<string, unknown>;
  binary: Uint8Array | undefined;
}

/** One tensor entry of a JSON header: what the encoders write for an input or an output. */
interface TensorEntry {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Parameters;
  /** The JSON array, or its text already written as bytes (json-writer.ts). */
  data?: Array<number | string | boolean> | Uint8Array;
}

export const HEADER_LENGTH = "Inference-Header-Content-Length";
const HEADER_LENGTH_VALUE = /^[0-9]{1,15}$/;

/** An Inference-Header-Content-Length value as a number; undefined when it is not a non-negative integer. */
export function headerLengthValue(value: string): number | undefined {
  const trimmed = value.trim();
  return HEADER_LENGTH_VALUE.test(trimmed) ? Number(trimmed) : undefined;
}
const JSON_TYPE = "application/json";
const BINARY_TYPE = "application/octet-stream";

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Splits `body` at `headerLength` (all JSON when undefined) and parses the JSON header object. */
export function splitBody(body: Uint8Array, headerLength: number | undefined, what: string): SplitBody {
  let json = body;
  let binary: Uint8Array | undefined;
  if (headerLength !== undefined) {
    if (!Number.isSafeInteger(headerLength) || headerLength < 0 || headerLength > body.byteLength) {
      throw new InvalidInput(
        `${HEADER_LENGTH}: expected an integer between 0 and the body length ${body.byteLength}, received ${describe(headerLength)}`,
      );
    }
    json = body.subarray(0, headerLength);
    binary = body.subarray(headerLength);
  }
  let text: string;
  try {
    text = utf8Strict.decode(json);
  } catch {
    throw new InvalidInput(`${what} JSON is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new InvalidInput(
      `${what} is not valid JSON: ${reason.length > 100 ? `${reason.slice(0, 100)}…` : reason}`,
    );
  }
  if (!isObject(header))
    throw new InvalidInput(`${what} must be a JSON object, received ${describe(header)}`);
  return { header, binary };
}

/**
 * Decodes the tensor entries of a header (request inputs or response outputs), taking binary data
 * from `binary` in order for entries with `binary_data_size`; it must be consumed exactly.
 */
export function decodeTensors(entries: unknown, binary: Uint8Array | undefined, role: TensorRole): Tensor[] {
  const list = `${role}s`;
  if (!Array.isArray(entries))
    throw new InvalidInput(`${list} must be an array, received ${describe(entries)}`);
  const seen = new Set<string>();
  const out = new Array<Tensor>(entries.length);
  let off = 0;
  for (let i = 0; i < entries.length; i++) {
    const e: unknown = entries[i];
    if (!isObject(e)) throw new InvalidInput(`${list}[${i}] must be an object, received ${describe(e)}`);
    if (typeof e.name !== "string") {
      throw new InvalidInput(`${list}[${i}].name must be a string, received ${describe(e.name)}`);
    }
    const who = label(role, e.name);
    if (seen.has(e.name)) throw new InvalidInput(`${who}: duplicate ${role} name`);
    seen.add(e.name);
    const parameters = checkParameters(who, e.parameters);
    const size = parameters?.binary_data_size;
    if (size === undefined) {
      if (e.data === undefined)
        throw new InvalidInput(`${who}: neither data nor parameters.binary_data_size given`);
      out[i] = tensorFromJSON(e as unknown as RequestInput, role);
      continue;
    }
    if (e.data !== undefined)
      throw new InvalidInput(`${who}: both data and parameters.binary_data_size given`);
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      throw new InvalidInput(
        `${who}: parameters.binary_data_size must be a non-negative integer, received ${describe(size)}`,
      );
    }
    if (binary === undefined) {
      throw new InvalidInput(
        `${who}: binary_data_size given but the body has no binary part (no ${HEADER_LENGTH})`,
      );
    }
    if (size > binary.byteLength - off) {
      throw new InvalidInput(
        `${who}: binary_data_size ${size} exceeds the ${binary.byteLength - off} bytes of binary data left (truncated body)`,
      );
    }
    // tensorFromBytes checks datatype and shape itself: the casts only satisfy its signature.
    const part = binary.subarray(off, off + size);
    const t = tensorFromBytes(e.name, e.datatype as Datatype, e.shape as number[], part, role);
    off += size;
    const rest = withoutBinarySize(parameters);
    if (rest !== undefined) t.parameters = rest;
    out[i] = t;
  }
  const left = (binary?.byteLength ?? 0) - off;
  if (left > 0) {
    throw new InvalidInput(`binary data: ${left} bytes left over after the last ${role} (overlong body)`);
  }
  return out;
}

/**
 * Header entries for tensors, JSON data or `binary_data_size`; `chunks` holds the binary data of
 * the binary ones in order. The tensors must already be checked (checkTensorData).
 */
export function encodeTensors(
  tensors: readonly Tensor[],
  isBinary: (t: Tensor) => boolean,
): { entries: TensorEntry[]; chunks: Uint8Array[] } {
  const entries: TensorEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const t of tensors) {
    const entry: TensorEntry = { name: t.name, datatype: t.datatype, shape: t.shape };
    const parameters = withoutBinarySize(t.parameters);
    if (isBinary(t)) {
      const bytes = tensorBytes(t);
      chunks.push(bytes);
      entry.parameters = { ...parameters, binary_data_size: bytes.byteLength };
    } else {
      if (parameters !== undefined) entry.parameters = parameters;
      entry.data = jsonDataBytes(t) ?? tensorToJSONData(t);
    }
    entries.push(entry);
  }
  return { entries, chunks };
}

/** JSON alone when there are no chunks; else JSON header + chunks, with the header's length. */
export function assemble(header: Record<string, unknown>, chunks: readonly Uint8Array[]): EncodedBody {
  const json = headerParts(header);
  if (chunks.length === 0 && json.length === 1)
    return { body: json[0] as Uint8Array, contentType: JSON_TYPE };
  let jsonLength = 0;
  for (const p of json) jsonLength += p.byteLength;
  // Trailing spaces (valid JSON) align the binary part to 8 bytes, so that a receiver holding the
  // body in an aligned buffer gets the first tensor (and often the others) without a copy.
  const headerLength = chunks.length === 0 ? jsonLength : jsonLength + ((8 - (jsonLength % 8)) % 8);
  let total = headerLength;
  for (const c of chunks) total += c.byteLength;
  const body = new Uint8Array(total);
  let off = 0;
  for (const p of json) {
    body.set(p, off);
    off += p.byteLength;
  }
  body.fill(0x20, jsonLength, headerLength);
  off = headerLength;
  for (const c of chunks) {
    body.set(c, off);
    off += c.byteLength;
  }
  if (chunks.length === 0) return { body, contentType: JSON_TYPE };
  return { body, headerLength, contentType: BINARY_TYPE };
}

/** A tensor entry whose data was written as bytes (json-writer.ts). */
function written(e: unknown): e is TensorEntry & { data: Uint8Array } {
  return isObject(e) && e.data instanceof Uint8Array;
}

/**
 * `JSON.stringify(header)` as UTF-8, in parts: a tensor entry's `data` may be its JSON text already
 * written as bytes (json-writer.ts), which then follows the JSON of the entry's other fields (data
 * is the last field an encoder sets) and `"data":`; assemble copies the parts once into the body.
 */
function headerParts(header: Record<string, unknown>): Uint8Array[] {
  const values = Object.values(header);
  if (!values.some((v) => Array.isArray(v) && v.some(written))) return [utf8.encode(JSON.stringify(header))];
  const parts: Uint8Array[] = [];
  let text = "{";
  let first = true;
  for (const [key, value] of Object.entries(header)) {
    if (value === undefined) continue;
    text += `${first ? "" : ","}${JSON.stringify(key)}:`;
    first = false;
    if (!Array.isArray(value) || !value.some(written)) {
      text += JSON.stringify(value);
      continue;
    }
    text += "[";
    for (const [i, e] of value.entries()) {
      if (i > 0) text += ",";
      if (!written(e)) {
        text += JSON.stringify(e);
        continue;
      }
      const { data, ...rest } = e;
      const head = JSON.stringify(rest);
      text += `${head === "{}" ? "{" : `${head.slice(0, -1)},`}"data":`;
      parts.push(utf8.encode(text), data);
      text = "}";
    }
    text += "]";
  }
  parts.push(utf8.encode(`${text}}`));
  return parts;
}
