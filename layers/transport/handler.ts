/**
 * The model function's request handling, shared by its Lambda handler and its container server's
 * `/invocations`: event in, result out, never a throw. The function answers every output as binary.
 */
import { type Backend, validateFor } from "../backend/contract";
import { parseVersion } from "../protocol/version";
import { type LogSink, silentLogger } from "../telemetry/logger";
import { type TransportResult, toBase64 } from "./event";
import { encodeBackendResult } from "./respond";
import { failureOf, parseTransportEvent, requestOfEvent } from "./wire";

/**
 * Runs one transport event against `backend`; domain errors come back as `{ ok: false, kind }`.
 * Its log lines carry `requestId` and the error's cause (e.g. ONNX Runtime's text), which no answer shows.
 * `signal` (the container's client connection) takes an infer out of the batcher's queue when it aborts.
 */
export async function handleTransportEvent(
  backend: Backend,
  raw: unknown,
  logger: LogSink = silentLogger,
  requestId?: string,
  signal?: AbortSignal,
): Promise<TransportResult> {
  try {
    const event = parseTransportEvent(raw);
    const { model } = event;
    const version = event.version === undefined ? undefined : parseVersion(event.version);
    if (event.action === "metadata") {
      const description = await backend.describe(model, version);
      return { ok: true, action: "metadata", version: description.version, description };
    }
    if (event.action === "ready") {
      const ready = await backend.ready(model, version);
      return version === undefined
        ? { ok: true, action: "ready", ready }
        : { ok: true, action: "ready", version: event.version, ready };
    }
    // Validated once in this process, against the description of the version that will run it.
    const request = validateFor(requestOfEvent(event), await backend.describe(model, version));
    const result = await backend.infer(model, version, request, signal);
    const encoded = encodeBackendResult(model, request, result, "all");
    const out: TransportResult = {
      ok: true,
      action: "infer",
      version: result.version,
      body: toBase64(encoded.body),
    };
    if (encoded.headerLength !== undefined) out.headerLength = encoded.headerLength;
    return out;
  } catch (e) {
    const failure = failureOf(e);
    const attributes = {
      ...(requestId === undefined ? {} : { requestId }),
      kind: failure.kind,
      error: e instanceof Error ? e.message : String(e),
      ...causeOf(e),
    };
    if (failure.kind === "internal")
      logger.error("transport event failed", { ...attributes, stack: stackOf(e) });
    else logger.info("transport event refused", attributes);
    return failure;
  }
}

function causeOf(e: unknown): { cause?: string } {
  const cause = e instanceof Error ? e.cause : undefined;
  if (cause === undefined) return {};
  return { cause: cause instanceof Error ? cause.message : String(cause) };
}

function stackOf(e: unknown): string | undefined {
  return e instanceof Error ? e.stack : undefined;
}
