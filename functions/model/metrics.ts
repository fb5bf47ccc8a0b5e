/**
 * The container's Prometheus metrics at GET /metrics, with Triton's names (prom-client): infer
 * requests through SageMaker's /invocations and through the protocol's infer route alike.
 */
import type { MiddlewareHandler } from "hono";
import { isInferenceError } from "../../layers/errors";
import type { ProtocolEnv } from "../../layers/http";
import { targetOf } from "../../layers/http/target";
import { PhaseTimer } from "../../layers/telemetry";
import type { PrometheusMetrics } from "../../layers/telemetry/prometheus";
import type { TransportResult } from "../../layers/transport";

/** Label of a request naming a model this container does not serve: keeps label sets bounded. */
const UNKNOWN_MODEL = "_unknown";

/** Times and counts the protocol's infer route (its phases: decode, queue, infer, encode). */
export function inferRouteMetrics(metrics: PrometheusMetrics): MiddlewareHandler<ProtocolEnv> {
  return async (c, next) => {
    if (c.req.method !== "POST" || targetOf(c)?.infer !== true) return next();
    const timer = new PhaseTimer();
    c.set("timer", timer);
    await next();
    const version = c.get("servedVersion");
    metrics.recordRequest({
      model: c.get("model") ?? UNKNOWN_MODEL,
      ...(version === undefined ? {} : { version }),
      status: c.res.status,
      ...(isInferenceError(c.error) ? { reason: c.error.kind } : {}),
      durationMs: timer.elapsed(),
      phases: timer.phases(),
    });
  };
}

/** Counts one /invocations event once answered; only infer events are inference requests. */
export function recordInvocation(
  metrics: PrometheusMetrics,
  served: string,
  event: unknown,
  result: TransportResult,
  status: number,
  durationMs: number,
): void {
  const e = event as { action?: unknown; model?: unknown } | null;
  if (e?.action !== "infer") return;
  metrics.recordRequest({
    model: e.model === served ? served : UNKNOWN_MODEL,
    ...(result.ok ? { version: result.version } : { reason: result.kind }),
    status,
    durationMs,
  });
}
