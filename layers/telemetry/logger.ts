/**
 * Structured logs: one JSON object per line, so CloudWatch Logs Insights and `jq` can query
 * request_id, model, version, status and timings without parsing prose.
 */

/** Log levels, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Fields attached to a log line. */
export type LogFields = Record<string, unknown>;

/** The logger surface code depends on; Powertools' Logger fits it through fromPowertools(). */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. request_id, model). */
  child(fields: LogFields): Logger;
  /**
   * False when lines at `level` are dropped, so a caller can skip building their fields.
   * Absent: assume they are written.
   */
  enabled?(level: LogLevel): boolean;
}

/** What a part that only writes lines needs: Powertools' Logger and `console` fit it as they are. */
export type LogSink = Pick<Logger, "debug" | "info" | "warn" | "error">;

/** Options of createLogger. */
export interface LoggerOptions {
  /** Lines below this level are dropped. @default "info" */
  level?: LogLevel;
  /** Added to every line as `service`. */
  service: string;
  /** Receives each line without its newline. @default writes to stdout */
  sink?: (line: string) => void;
  /** Clock for the `timestamp` field. @default () => new Date() */
  now?: () => Date;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Parses a level name (e.g. from LOG_LEVEL), case-insensitively; throws naming the value. */
export function parseLogLevel(value: string | undefined, fallback: LogLevel = "info"): LogLevel {
  if (value === undefined || value.trim() === "") return fallback;
  const v = value.trim().toLowerCase();
  if (v === "debug" || v === "info" || v === "warn" || v === "error") return v;
  throw new RangeError(`LOG_LEVEL must be one of debug, info, warn, error; got "${value}"`);
}

/** Errors become plain objects (JSON.stringify would print `{}`); bigints become strings. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const out: Record<string, unknown> = { name: value.name, message: value.message, stack: value.stack };
    if (value.cause !== undefined) out.cause = value.cause;
    return out;
  }
  return value;
}

function serialise(entry: LogFields): string {
  try {
    return JSON.stringify(entry, replacer);
  } catch {
    // A circular structure must not turn logging into a crash.
    const { level, timestamp, service, message } = entry;
    return JSON.stringify({
      level,
      timestamp,
      service,
      message,
      log_error: "fields could not be serialised",
    });
  }
}

/** A JSON-lines logger. */
export function createLogger(options: LoggerOptions): Logger {
  const min = RANK[options.level ?? "info"];
  const sink = options.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const make = (bound: LogFields): Logger => {
    const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
      if (RANK[level] < min) return;
      // Reserved keys come last so a field named "level" or "message" cannot forge them.
      sink(
        serialise({
          ...bound,
          ...fields,
          level,
          timestamp: now().toISOString(),
          service: options.service,
          message,
        }),
      );
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (fields) => make({ ...bound, ...fields }),
      enabled: (level) => RANK[level] >= min,
    };
  };
  return make({});
}

/** A logger that drops everything (tests, libraries used without logging). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
  enabled: () => false,
};
