/**
 * The private wire between the gateway and a remote model function (Lambda Invoke payload,
 * SageMaker /invocations body): a JSON event in, a JSON result out. Tensors cross it as the
 * binary protocol body, base64-encoded; domain errors cross it as `kind` + message so the caller
 * maps them to the right status (an invalid tensor found by the function is a 400, not a 502).
 */

import type { ModelDescription } from "../backend/contract";
import { ERROR_TABLE, type ErrorKind } from "../errors";
import type { InferRequest } from "../protocol/types";

/** What a model function is asked to do. */
export type TransportAction = "infer" | "metadata" | "ready";

/** The event a model function receives. */
export interface TransportEvent {
  action: TransportAction;
  model: string;
  /** A pinned model version; absent: the function's live version. */
  version?: string;
  /**
   * `infer` only: the protocol request body, base64 (binary tensor extension when `headerLength`
   * is set, else JSON), or the JSON request itself (handy from a console or the CLI).
   */
  request?: string | InferRequest;
  /** `Inference-Header-Content-Length` of the base64 body. */
  headerLength?: number;
}

/** A domain error, as it crosses the wire. */
export interface TransportFailure {
  ok: false;
  kind: ErrorKind;
  error: string;
}

/** What a model function answers; infer bodies are binary protocol responses (every output binary). */
export type TransportResult =
  | { ok: true; action: "infer"; version: string; body: string; headerLength?: number }
  | { ok: true; action: "metadata"; version: string; description: ModelDescription }
  | { ok: true; action: "ready"; version?: string; ready: boolean }
  | TransportFailure;

/** Every ErrorKind, to check what arrives over the wire. */
export const ERROR_KINDS: ReadonlySet<ErrorKind> = new Set(Object.keys(ERROR_TABLE) as ErrorKind[]);

/** Bytes as base64 (no copy of the bytes themselves). */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Base64 as bytes. */
export function fromBase64(text: string): Uint8Array {
  const buf = Buffer.from(text, "base64");
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
