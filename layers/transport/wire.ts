/**
 * Both ends of the transport: the model function parses events and encodes results; the gateway's
 * remote backends build events and turn results back into tensors or domain errors.
 */

import type { InferResult, ModelDescription } from "../backend/contract";
import { BackendFailure, ERROR_TABLE, type ErrorKind, InferenceError, InvalidInput } from "../errors";
import { decodeInferRequest, decodeInferResponse, encodeInferRequest } from "../protocol";
import type { DecodedInferRequest } from "../protocol/types";
import {
  ERROR_KINDS,
  fromBase64,
  type TransportAction,
  type TransportEvent,
  type TransportFailure,
  type TransportResult,
  toBase64,
} from "./event";

const ACTIONS: ReadonlySet<string> = new Set<TransportAction>(["infer", "metadata", "ready"]);
const utf8 = new TextEncoder();

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Function side: checks an incoming event; InvalidInput naming the field otherwise. */
export function parseTransportEvent(raw: unknown): TransportEvent {
  if (!isObject(raw)) throw new InvalidInput("event must be a JSON object");
  const { action, model, version, request, headerLength } = raw;
  if (typeof action !== "string" || !ACTIONS.has(action)) {
    throw new InvalidInput(
      `event.action must be one of infer, metadata, ready, received ${JSON.stringify(action)}`,
    );
  }
  if (typeof model !== "string" || model === "")
    throw new InvalidInput("event.model must be a non-empty string");
  const event: TransportEvent = { action: action as TransportAction, model };
  if (version !== undefined && version !== null) {
    if (typeof version !== "string") throw new InvalidInput("event.version must be a string");
    event.version = version;
  }
  if (action === "infer") {
    if (typeof request !== "string" && !isObject(request)) {
      throw new InvalidInput("event.request must be a base64 protocol body or a JSON infer request");
    }
    event.request = request as TransportEvent["request"];
    if (headerLength !== undefined && headerLength !== null) {
      if (typeof headerLength !== "number") throw new InvalidInput("event.headerLength must be a number");
      event.headerLength = headerLength;
    }
  }
  return event;
}

/** Function side: the infer request an event carries. Throws InvalidInput. */
export function requestOfEvent(event: TransportEvent): DecodedInferRequest {
  const { request } = event;
  if (request === undefined) throw new InvalidInput("event.request is missing");
  if (typeof request === "string") return decodeInferRequest(fromBase64(request), event.headerLength);
  return decodeInferRequest(utf8.encode(JSON.stringify(request)));
}

/** Gateway side: the event that asks for `request` to be run, every tensor as binary. */
export function inferEvent(
  model: string,
  version: number | undefined,
  request: DecodedInferRequest,
): TransportEvent {
  const req: Parameters<typeof encodeInferRequest>[0] = { inputs: request.inputs };
  if (request.id !== undefined) req.id = request.id;
  if (request.parameters !== undefined) req.parameters = request.parameters;
  // Transport-only parameters (binary_data) stay here; classification changes what the function answers.
  if (request.outputs !== undefined) {
    req.outputs = request.outputs.map((o) => {
      const k = o.parameters?.classification;
      return k === undefined ? { name: o.name } : { name: o.name, parameters: { classification: k } };
    });
  }
  const encoded = encodeInferRequest(req, { binary: true });
  const event: TransportEvent = { action: "infer", model, request: toBase64(encoded.body) };
  if (version !== undefined) event.version = String(version);
  if (encoded.headerLength !== undefined) event.headerLength = encoded.headerLength;
  return event;
}

/** Gateway side: the event for `metadata` or `ready`. */
export function queryEvent(
  action: "metadata" | "ready",
  model: string,
  version: number | undefined,
): TransportEvent {
  return version === undefined ? { action, model } : { action, model, version: String(version) };
}

/** Gateway side: checks a function's answer; BackendFailure when it is not a TransportResult. */
export function parseTransportResult(raw: unknown, model: string): TransportResult {
  const malformed = () => new BackendFailure(`model '${model}' returned a malformed response`);
  if (!isObject(raw)) throw malformed();
  if (raw.ok === false) {
    if (
      typeof raw.kind !== "string" ||
      !ERROR_KINDS.has(raw.kind as ErrorKind) ||
      typeof raw.error !== "string"
    ) {
      throw malformed();
    }
    return { ok: false, kind: raw.kind as ErrorKind, error: raw.error };
  }
  if (raw.ok !== true) throw malformed();
  if (raw.action === "infer" && typeof raw.version === "string" && typeof raw.body === "string") {
    if (raw.headerLength !== undefined && typeof raw.headerLength !== "number") throw malformed();
    return raw as TransportResult;
  }
  if (raw.action === "metadata" && typeof raw.version === "string" && isDescription(raw.description)) {
    return raw as TransportResult;
  }
  if (raw.action === "ready" && typeof raw.ready === "boolean") return raw as TransportResult;
  throw malformed();
}

function isDescription(v: unknown): v is ModelDescription {
  if (!isObject(v) || typeof v.version !== "string" || !isObject(v.metadata) || !isObject(v.config))
    return false;
  return Array.isArray(v.metadata.inputs) && Array.isArray(v.metadata.outputs);
}

/** Gateway side: tensors of an infer result; BackendFailure when the body does not decode. */
export function inferResultOf(result: TransportResult, model: string): InferResult {
  if (!result.ok) throw errorOfFailure(result);
  if (result.action !== "infer")
    throw new BackendFailure(`model '${model}' answered ${result.action} to infer`);
  try {
    const decoded = decodeInferResponse(fromBase64(result.body), result.headerLength);
    const out: InferResult = { version: result.version, outputs: decoded.outputs };
    if (decoded.parameters !== undefined) out.parameters = decoded.parameters;
    return out;
  } catch (e) {
    throw new BackendFailure(`model '${model}' returned a malformed response`, { cause: e });
  }
}

/**
 * The domain error a failure stands for. The message travels on for 4xx kinds (it names the
 * tensor); edges never show a 5xx message to clients, so a function's internals stay inside.
 */
export function errorOfFailure(failure: TransportFailure): InferenceError {
  return ERROR_TABLE[failure.kind].rebuild(failure.error);
}

/** Function side: a thrown error as a failure; anything but a domain error becomes `internal`. */
export function failureOf(e: unknown): TransportFailure {
  if (e instanceof InferenceError) return { ok: false, kind: e.kind, error: e.message };
  return { ok: false, kind: "internal", error: "internal error in the model function" };
}
