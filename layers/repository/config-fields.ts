/**
 * Small typed readers for config.json fields. Each failure is a ModelNotReady whose message names
 * the model, the field path, what was expected and what was received.
 */
import { ModelNotReady } from "../errors";

/** Renders a received value briefly, without dumping whole objects into an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(shown);
  }
  return String(value);
}

/** Field readers bound to one model's config.json. */
export class FieldReader {
  constructor(readonly model: string) {}

  /** A ModelNotReady for `path` with free text. */
  error(path: string, text: string): ModelNotReady {
    const where = path === "" ? "" : `${path} `;
    return new ModelNotReady(`config.json of model '${this.model}': ${where}${text}`);
  }

  /** A ModelNotReady saying `path must be <expected>, received <value>`. */
  mismatch(path: string, expected: string, value: unknown): ModelNotReady {
    return this.error(path, `must be ${expected}, received ${describeValue(value)}`);
  }

  /** A plain object whose keys are all in `allowed` (typos must not be silently ignored). */
  object(value: unknown, path: string, allowed: readonly string[]): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw this.mismatch(path === "" ? "the document" : path, "an object", value);
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) {
        const field = path === "" ? key : `${path}.${key}`;
        throw this.error(
          "",
          `unknown field '${field}' (allowed: ${allowed.length === 0 ? "none" : allowed.join(", ")})`,
        );
      }
    }
    return record;
  }

  /** A boolean, or `fallback` when absent. */
  boolean(value: unknown, path: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== "boolean") throw this.mismatch(path, "a boolean", value);
    return value;
  }

  /** A safe integer >= `min`; absent is an error. */
  integer(value: unknown, path: string, min: number): number {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
      throw this.mismatch(path, integerKind(min), value);
    }
    return value;
  }

  /** A safe integer >= `min`, or `fallback` when absent (fallback undefined: optional). */
  optionalInteger(value: unknown, path: string, min: number, fallback: number): number;
  optionalInteger(value: unknown, path: string, min: number): number | undefined;
  optionalInteger(value: unknown, path: string, min: number, fallback?: number): number | undefined {
    return value === undefined ? fallback : this.integer(value, path, min);
  }

  /** One of `choices`, or `fallback` when absent. */
  choice<T extends string>(value: unknown, path: string, choices: readonly T[], fallback: T): T {
    if (value === undefined) return fallback;
    if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
      throw this.mismatch(path, `one of ${choices.map((c) => `"${c}"`).join(", ")}`, value);
    }
    return value as T;
  }

  /** An array (optionally non-empty), items unchecked. */
  array(value: unknown, path: string, nonEmpty: boolean): unknown[] {
    if (!Array.isArray(value) || (nonEmpty && value.length === 0)) {
      throw this.mismatch(path, nonEmpty ? "a non-empty array" : "an array", value);
    }
    return value;
  }

  /** Rejects the first repeated item of `items` (compared with ===). */
  unique(items: readonly unknown[], path: string): void {
    const seen = new Set<unknown>();
    for (const [i, item] of items.entries()) {
      if (seen.has(item)) throw this.error(`${path}[${i}]`, `repeats ${describeValue(item)}`);
      seen.add(item);
    }
  }
}

function integerKind(min: number): string {
  if (min === 0) return "a non-negative integer";
  if (min === 1) return "a positive integer";
  return `an integer >= ${min}`;
}
