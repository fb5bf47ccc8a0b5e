/**
 * Reading environment variables once, typed and validated, for every deployable (gateway, model
 * function, container): a bad value fails the start with a message naming the variable.
 */

/** The environment as read: `process.env` or a test's record. */
export type Env = Readonly<Record<string, string | undefined>>;

/** A configuration value is missing or malformed. */
export class ConfigError extends Error {
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

/** A reader of `env` where a blank value counts as unset. */
export function envText(env: Env): (name: string) => string | undefined {
  return (name) => {
    const v = env[name]?.trim();
    return v === undefined || v === "" ? undefined : v;
  };
}

/** A whole number in [min, max]; `fallback` when unset. */
export function integer<F extends number | undefined>(
  name: string,
  value: string | undefined,
  fallback: F,
  min: number,
  max: number,
): number | F {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < min || n > max) {
    throw new ConfigError(name, `expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** One of `allowed` (case-insensitive); `fallback` when unset. */
export function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (found === undefined) {
    throw new ConfigError(name, `expected one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return found;
}

/** on/true/1 or off/false/0; `fallback` when unset. */
export function onOff(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (v === "on" || v === "true" || v === "1") return true;
  if (v === "off" || v === "false" || v === "0") return false;
  throw new ConfigError(name, `expected on or off, got ${JSON.stringify(value)}`);
}

/** An http(s) URL, or undefined when unset. */
export function url(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw new ConfigError(name, `expected an http(s) URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR" | "SILENT";
const LOG_LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARN", "ERROR", "SILENT"];

/** LOG_LEVEL, default INFO. */
export function logLevel(value: string | undefined): LogLevel {
  return oneOf("LOG_LEVEL", value, LOG_LEVELS, "INFO");
}
