/**
 * The model and version a `/v2/models/{model}[/versions/{version}]/...` path names, parsed once per
 * request and kept in the request's context: the routes, auth and telemetry all read it from there.
 */
import type { Context } from "hono";
import type { InvalidInput } from "../errors";
import { parseVersion } from "../protocol/version";

/** What a model path addresses. */
export interface RequestTarget {
  /** The model named in the path, percent-decoded. */
  model: string;
  /** The pinned version; undefined: the live one (or a version that is not one, see `invalid`). */
  version: number | undefined;
  /** Why the path's version is not a positive integer; thrown by the routes, after auth. */
  invalid: InvalidInput | undefined;
  /** True for `.../infer`. */
  infer: boolean;
}

/** The Hono variable that holds the parsed target (null: the path names no model). */
export type TargetEnv = { Variables: { target?: RequestTarget | null } };

/** The one name the model paths keep for themselves: `GET /v2/models/stats`. */
export const STATS = "stats";

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(.*)$/;

/** The target of the request's path, parsed on first use and then read from the context. */
export function targetOf(c: Context): RequestTarget | undefined {
  const vars = c as Context<TargetEnv>;
  let target = vars.get("target");
  if (target === undefined) {
    target = parseTarget(c.req.path);
    vars.set("target", target);
  }
  return target ?? undefined;
}

/** Parses a model path; null when `path` names no model. */
export function parseTarget(path: string): RequestTarget | null {
  const m = MODEL_PATH.exec(path);
  if (m === null) return null;
  const [, model = "", version, rest] = m;
  // `/v2/models/stats` is the statistics of every model (no model may be named "stats").
  if (model === STATS && version === undefined && rest === "") return null;
  let parsed: number | undefined;
  let invalid: InvalidInput | undefined;
  if (version !== undefined) {
    try {
      parsed = parseVersion(decoded(version));
    } catch (e) {
      invalid = e as InvalidInput;
    }
  }
  return { model: decoded(model), version: parsed, invalid, infer: rest === "/infer" };
}

function decoded(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
