/**
 * Per-request telemetry at the edge: one structured log line per request (request id, model,
 * version, status, timings), the per-model inference metrics, the `Server-Timing` header, and on
 * Lambda the request's CloudWatch EMF lines, flushed before the response leaves.
 */
import type { MiddlewareHandler } from "hono";
import type { ModelCatalog } from "../layers/backend";
import { InferenceError } from "../layers/errors";
import type { ProtocolEnv } from "../layers/http";
import { outgoingHeader, setOutgoingHeader } from "../layers/http/answer";
import { targetOf } from "../layers/http/target";
import { type Logger, PhaseTimer, type RequestMetrics, roundMs, serverTiming } from "../layers/telemetry";
import type { AuthEnv } from "./auth/middleware";

/** Label of requests naming a model the catalog does not have: keeps label sets bounded. */
export const UNKNOWN_MODEL = "_unknown";

/** Options of telemetryMiddleware. */
export interface TelemetryOptions {
  /** Absent: requests are logged, not counted. EMF (Lambda): its documents go to `emit` after each request. */
  metrics?: RequestMetrics;
  /** Receives one `request` line per request. */
  logger: Logger;
  /** Models that get their own metric labels; any other name is counted as `_unknown`. */
  catalog: ModelCatalog;
  /** Where EMF lines go after each request (Lambda: stdout); absent: nothing is flushed. */
  emit?: (lines: string[]) => void;
}

/** Hono middleware; put it right after the origin check so it sees every refusal (auth, limits) too. */
export function telemetryMiddleware(options: TelemetryOptions): MiddlewareHandler<ProtocolEnv & AuthEnv> {
  const { metrics, logger, catalog } = options;
  return async (c, next) => {
    const timer = new PhaseTimer();
    c.set("timer", timer);
    await next();
    const durationMs = timer.elapsed();
    const status = c.res.status;
    const phases = timer.phases();
    const level = status >= 500 ? "warn" : "info";
    // LOG_LEVEL=ERROR (or SILENT) drops the request line: then its fields are not built at all.
    const logged = logger.enabled?.(level) !== false;
    // PhaseTimer keeps only finite, non-negative durations: nothing to filter here.
    const timings: Record<string, number> = {};
    if (logged) for (const name in phases) timings[name] = roundMs(phases[name] as number);
    // The infer answer carries its own, written by the route from this timer; any other response
    // (errors, refusals, metadata) gets it here.
    if (outgoingHeader(c, "server-timing") === undefined) {
      setOutgoingHeader(c, "Server-Timing", serverTiming(phases, durationMs));
    }
    // The route names the model once it found it; the path was parsed once (targetOf) for the rest.
    const target = targetOf(c);
    const model = c.get("model") ?? labelOf(target?.model, catalog);
    const pinned = target?.version;
    const version = c.get("servedVersion") ?? (pinned === undefined ? undefined : String(pinned));
    const error = c.error;
    const reason =
      error instanceof InferenceError
        ? error.kind
        : status >= 400
          ? error
            ? "internal"
            : `http_${status}`
          : undefined;
    const cache = c.get("cache");
    const method = c.req.method;
    if (metrics !== undefined && model !== undefined && method === "POST" && target?.infer === true) {
      metrics.recordRequest({
        model,
        ...(version === undefined ? {} : { version }),
        status,
        ...(reason === undefined ? {} : { reason }),
        batchSize: c.get("batchSize") ?? 1,
        durationMs,
        phases,
        cached: cache === "HIT",
        cacheMiss: cache === "MISS",
      });
      if (cache === "HIT") metrics.cacheHit(model);
      else if (cache === "MISS") metrics.cacheMiss(model);
    }
    if (logged) {
      const fields = {
        request_id: c.get("requestId"),
        method,
        path: c.req.path,
        status,
        ...(model === undefined ? {} : { model }),
        ...(version === undefined ? {} : { version }),
        ...(reason === undefined ? {} : { reason }),
        ...(cache === undefined ? {} : { cache }),
        ...(c.get("apiKey") === undefined ? {} : { key: c.get("apiKey")?.name }),
        duration_ms: roundMs(durationMs),
        timings_ms: timings,
      };
      logger[level]("request", fields);
    }
    if (options.emit !== undefined) {
      const lines = metrics?.flush?.() ?? [];
      if (lines.length > 0) options.emit(lines);
    }
  };
}

/** The metric label of a model named in a path: itself when the catalog has it, else UNKNOWN_MODEL. */
function labelOf(named: string | undefined, catalog: ModelCatalog): string | undefined {
  if (named === undefined) return undefined;
  return catalog.has(named) ? named : UNKNOWN_MODEL;
}
