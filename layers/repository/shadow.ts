/**
 * config.json `shadow` (mirror a share of unpinned requests to another version and compare the
 * answers) and `live_version` (local mode: the version unpinned requests get). On AWS the catalog
 * line names the shadow and the function's MODEL_VERSION the live version; these fields are local.
 */
import type { FieldReader } from "./config-fields";

/** config.json `shadow`; the catalog line's `shadow` has the same shape. */
export interface ShadowConfig {
  /** The version the requests are mirrored to (pinned). */
  version: number;
  /** Share of unpinned infer requests mirrored, 0–100. */
  percent: number;
  /** Outputs whose argmax over the last dimension is compared (classifier-like outputs). @default [] */
  argmax: string[];
}

/** A `shadow` as written (catalog line): `argmax` may be left out. */
export type ShadowSpec = Omit<ShadowConfig, "argmax"> & { argmax?: string[] };

/** Checks a `shadow` object (config.json or catalog); `fail(path, text)` builds the error. */
export function readShadow(
  value: unknown,
  path: string,
  fail: (path: string, text: string) => Error,
): ShadowConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw fail(path, "must be an object");
  const doc = value as Record<string, unknown>;
  const allowed = ["version", "percent", "argmax"];
  for (const key of Object.keys(doc)) {
    if (!allowed.includes(key))
      throw fail(path, `has unknown field '${key}' (allowed: ${allowed.join(", ")})`);
  }
  const { version, percent, argmax } = doc;
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1)
    throw fail(`${path}.version`, `must be a positive integer, received ${JSON.stringify(version)}`);
  if (typeof percent !== "number" || !Number.isFinite(percent) || percent < 0 || percent > 100)
    throw fail(`${path}.percent`, `must be a number from 0 to 100, received ${JSON.stringify(percent)}`);
  if (argmax !== undefined && (!Array.isArray(argmax) || !argmax.every((a) => typeof a === "string")))
    throw fail(`${path}.argmax`, "must be an array of output names");
  return { version, percent, argmax: (argmax as string[] | undefined) ?? [] };
}

/** config.json `shadow` and `live_version`, validated; the shadow may not be the live version. */
export function parseShadowFields(
  r: FieldReader,
  shadow: unknown,
  liveVersion: unknown,
): { shadow?: ShadowConfig; live_version?: number } {
  const out: { shadow?: ShadowConfig; live_version?: number } = {};
  if (liveVersion !== undefined) out.live_version = r.integer(liveVersion, "live_version", 1);
  if (shadow !== undefined) {
    out.shadow = readShadow(shadow, "shadow", (p, t) => r.error(p, t));
    if (out.shadow.version === out.live_version)
      throw r.error("shadow.version", `is the live version (${out.live_version}): nothing to compare`);
  }
  return out;
}
