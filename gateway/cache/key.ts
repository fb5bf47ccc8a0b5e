/**
 * The cache key: SHA-256 over an unambiguous serialization of everything that decides a result.
 * Every variable-length field is length-prefixed, so no two different requests can produce the
 * same byte stream by concatenation; collisions are then only SHA-256's (Triton's 64-bit hash is not
 * enough for a shared store).
 */
import { createHash, type Hash } from "node:crypto";
import { tensorBytes } from "../../layers/protocol/tensor";
import type { Parameter, Parameters, Tensor } from "../../layers/protocol/types";

/** Bumped whenever the serialization changes, so old entries are never read with a new meaning. */
const KEY_SCHEME = "edge-infer/cache-key/v1";

/** Request-level parameters that only shape the transport of the answer, not its content. */
export const TRANSPORT_REQUEST_PARAMETERS: ReadonlySet<string> = new Set(["binary_data_output"]);
/** Per-input parameters that only describe the transport (the binary extension's byte count). */
export const TRANSPORT_INPUT_PARAMETERS: ReadonlySet<string> = new Set(["binary_data_size"]);
/** Per-output parameters that only choose JSON or binary for that output. */
export const TRANSPORT_OUTPUT_PARAMETERS: ReadonlySet<string> = new Set(["binary_data"]);

/** A requested output; only its name and result-changing parameters enter the key. */
export interface KeyOutput {
  name: string;
  /** JSON or binary: ignored, the cached tensors are re-encoded per request. */
  binary?: boolean;
  parameters?: Parameters;
}

/** What a cache key is computed from. */
export interface CacheKeyParts {
  model: string;
  /** The resolved version (never an alias such as "live"). */
  version: string;
  inputs: readonly Tensor[];
  /** Undefined or empty: all outputs. */
  outputs?: readonly KeyOutput[] | undefined;
  /** Request-level parameters. */
  parameters?: Parameters | undefined;
}

const u64 = new DataView(new ArrayBuffer(8));
const encoder = new TextEncoder();

function writeLength(h: Hash, n: number): void {
  u64.setBigUint64(0, BigInt(n), true);
  // update() copies the bytes at once, so the shared buffer can be reused.
  h.update(new Uint8Array(u64.buffer));
}

function writeBytes(h: Hash, bytes: Uint8Array): void {
  writeLength(h, bytes.byteLength);
  h.update(bytes);
}

function writeString(h: Hash, s: string): void {
  writeBytes(h, encoder.encode(s));
}

/** A parameter value with its type, so `1`, `"1"` and `true` differ. */
function writeParameter(h: Hash, value: Parameter): void {
  if (typeof value === "string") writeString(h, `s${value}`);
  else if (typeof value === "number") writeString(h, `n${String(value)}`);
  else writeString(h, `b${String(value)}`);
}

/** Sorted by name, less the transport-only ones; the count is written first. */
function writeParameters(h: Hash, params: Parameters | undefined, transport: ReadonlySet<string>): void {
  const entries = Object.entries(params ?? {})
    .filter(([k]) => !transport.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  writeLength(h, entries.length);
  for (const [k, v] of entries) {
    writeString(h, k);
    writeParameter(h, v);
  }
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The request's parts that do not depend on the model version. */
export type RequestKeyParts = Omit<CacheKeyParts, "model" | "version">;

/**
 * SHA-256 (raw) of inputs (sorted by name: order does not change a result), requested outputs
 * (sorted names, JSON/binary form ignored) and the parameters that change the result. Computed once
 * per request; `versionedKey` then names it for any version without hashing the tensors again.
 */
export function requestDigest(parts: RequestKeyParts): Uint8Array {
  const h = createHash("sha256");
  writeString(h, KEY_SCHEME);

  const inputs = [...parts.inputs].sort(byName);
  writeLength(h, inputs.length);
  for (const t of inputs) {
    writeString(h, t.name);
    writeString(h, t.datatype);
    writeLength(h, t.shape.length);
    for (const d of t.shape) writeString(h, String(d));
    writeParameters(h, t.parameters, TRANSPORT_INPUT_PARAMETERS);
    writeBytes(h, tensorBytes(t));
  }

  // "All outputs" is its own case: asking for every output by name is a different request shape.
  const outputs = parts.outputs && parts.outputs.length > 0 ? [...parts.outputs].sort(byName) : undefined;
  if (outputs === undefined) {
    writeString(h, "all");
  } else {
    writeString(h, "list");
    writeLength(h, outputs.length);
    for (const o of outputs) {
      writeString(h, o.name);
      writeParameters(h, o.parameters, TRANSPORT_OUTPUT_PARAMETERS);
    }
  }

  writeParameters(h, parts.parameters, TRANSPORT_REQUEST_PARAMETERS);
  return new Uint8Array(h.digest());
}

/** The cache key (SHA-256 hex) of a request digest for one model and resolved version. */
export function versionedKey(model: string, version: string, digest: Uint8Array): string {
  const h = createHash("sha256");
  writeString(h, KEY_SCHEME);
  writeString(h, model);
  writeString(h, version);
  writeBytes(h, digest);
  return h.digest("hex");
}

/**
 * SHA-256 hex of model, resolved version and the request digest (see `requestDigest`): a tensor sent
 * as JSON and the same tensor sent as binary give the same key.
 */
export function cacheKey(parts: CacheKeyParts): string {
  return versionedKey(parts.model, parts.version, requestDigest(parts));
}
