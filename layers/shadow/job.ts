/**
 * The event the gateway on AWS sends (asynchronous Invoke) to the shadow comparison function: the
 * shadow version's infer event, ready to forward to the model function, and the live answer as the
 * model function gave it. Both ends of it live here (gateway/shadow/remote.ts, functions/shadow-compare).
 */
import type { ReleaseTolerance } from "../repository/release";
import type { TransportEvent, TransportResult } from "../transport/event";
import { parseTransportEvent, parseTransportResult } from "../transport/wire";

/** One sampled request to compare. */
export interface ShadowJob {
  requestId: string;
  /** The version whose answer the client got (the metrics' `version` dimension). */
  liveVersion: string;
  /** Outputs whose argmax over the last dimension is compared. */
  argmax: string[];
  /** config.json's `release.tolerance` of the live version. */
  tolerance: ReleaseTolerance;
  /** `infer`, pinned to the shadow version. */
  event: TransportEvent;
  /** The live version's `infer` result. */
  live: Extract<TransportResult, { ok: true; action: "infer" }>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Checks an incoming job; throws an Error naming the field that is wrong. */
export function parseShadowJob(raw: unknown): ShadowJob {
  if (!isObject(raw)) throw new Error("shadow job: not a JSON object");
  const { requestId, liveVersion, argmax, tolerance, event, live } = raw;
  if (typeof requestId !== "string") throw new Error("shadow job: requestId must be a string");
  if (typeof liveVersion !== "string") throw new Error("shadow job: liveVersion must be a string");
  if (!Array.isArray(argmax) || !argmax.every((a) => typeof a === "string"))
    throw new Error("shadow job: argmax must be an array of output names");
  if (!isObject(tolerance) || typeof tolerance.abs !== "number" || typeof tolerance.rel !== "number")
    throw new Error("shadow job: tolerance must have numbers abs and rel");
  const parsed = parseTransportEvent(event);
  if (parsed.action !== "infer" || parsed.version === undefined)
    throw new Error("shadow job: event must be an infer event pinned to the shadow version");
  const result = parseTransportResult(live, parsed.model);
  if (!result.ok || result.action !== "infer") throw new Error("shadow job: live must be an infer result");
  return {
    requestId,
    liveVersion,
    argmax: argmax as string[],
    tolerance: tolerance as unknown as ReleaseTolerance,
    event: parsed,
    live: result,
  };
}
