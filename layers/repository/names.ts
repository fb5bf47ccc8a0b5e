/**
 * Model names and version numbers as they may appear in a repository path. Anything else is
 * refused before a path or an S3 key is built, so a request can never address a file outside
 * the repository root.
 */
import { ModelNotFound } from "../errors";

const MODEL_NAME = /^[A-Za-z0-9_.-]+$/;
const VERSION_DIR = /^[1-9][0-9]*$/;

/** True for names made of [A-Za-z0-9_.-] that are not "." or "..". */
export function isValidModelName(name: string): boolean {
  return MODEL_NAME.test(name) && name !== "." && name !== "..";
}

/**
 * Names a model may not have, and why: the protocol's paths use them. The repository lists such a
 * folder as no model and logs the reason.
 */
export const RESERVED_MODEL_NAMES: ReadonlyMap<string, string> = new Map([
  ["stats", 'a model may not be named "stats": GET /v2/models/stats is the statistics of every model'],
]);

/** The names of `names` that may be models; each reserved one is logged with its reason. */
export function withoutReserved(
  names: string[],
  log: (message: string, fields: Record<string, unknown>) => void,
) {
  return names.filter((name) => {
    const reason = RESERVED_MODEL_NAMES.get(name);
    if (reason !== undefined) log("model folder skipped", { model: name, reason });
    return reason === undefined;
  });
}

/**
 * A logger that says each (message, model) once: listings repeat (the repository index, a model
 * looked for after start), and a folder's state is news only the first time.
 */
export function logOnce(
  log: (message: string, fields: Record<string, unknown>) => void,
): (message: string, fields: Record<string, unknown>) => void {
  const said = new Set<string>();
  return (message, fields) => {
    const key = `${message}\u0000${String(fields.model)}`;
    if (said.has(key)) return;
    said.add(key);
    log(message, fields);
  };
}

/** The repository's "no such model" error. */
export function modelNotFound(model: string): ModelNotFound {
  return new ModelNotFound(`model '${model}' not found in repository`);
}

/** The repository's "no such version" error. */
export function versionNotFound(model: string, version: number): ModelNotFound {
  return new ModelNotFound(`model '${model}' version ${version} not found in repository`);
}

/** Throws ModelNotFound unless `model` is a legal model name. */
export function assertModelName(model: string): void {
  if (typeof model !== "string" || !isValidModelName(model)) throw modelNotFound(model);
}

/** Throws ModelNotFound unless `version` is a positive safe integer. */
export function assertVersion(model: string, version: number): void {
  if (!Number.isSafeInteger(version) || version < 1) throw versionNotFound(model, version);
}

/** The version a directory name stands for ("7" → 7), or undefined for other names ("07", "a"). */
export function parseVersionDir(name: string): number | undefined {
  if (!VERSION_DIR.test(name)) return undefined;
  const n = Number(name);
  return Number.isSafeInteger(n) ? n : undefined;
}
