/**
 * The model container's HTTP app (GPU backend on SageMaker, or any container host): SageMaker's
 * contract (`GET /ping`, `POST /invocations` with the transport event as JSON) next to the
 * protocol's own routes, all over the same ModelService the Lambda handler uses, and Prometheus
 * metrics at `GET /metrics`.
 */
import type { Hono } from "hono";
import { createProtocolApp, type ProtocolEnv, RETRY_AFTER_503_SECONDS, STATUS_OF } from "../../layers/http";
import { nodeClientSignal } from "../../layers/http/node-client";
import { PrometheusMetrics } from "../../layers/telemetry/prometheus";
import { handleTransportEvent, type TransportResult } from "../../layers/transport";
import { version } from "../../package.json";
import { inferRouteMetrics, recordInvocation } from "./metrics";
import type { ModelService } from "./service";

/** The container's Hono app; `metrics` is what GET /metrics renders. */
export function createServerApp(service: ModelService, metrics = new PrometheusMetrics()): Hono<ProtocolEnv> {
  const app = createProtocolApp({
    catalog: service.catalog,
    logger: service.logger,
    backendTimeoutMs: service.config.timeoutMs,
    server: { name: "edge-infer-model", version },
    middleware: [inferRouteMetrics(metrics)],
    // As the gateway's: a client that leaves takes its request out of the batcher's queue (499).
    clientSignal: nodeClientSignal,
    routes: [
      [/^\/ping$/, ["GET"]],
      [/^\/invocations$/, ["POST"]],
    ],
  });
  app.get("/metrics", async (c) =>
    c.body(await metrics.renderPrometheus(), 200, { "Content-Type": metrics.contentType }),
  );
  // SageMaker's health check: 200 once the live version is loaded and warmed up; 503 while it is
  // not (loading, or failed: a corrupt file, a GPU model without CUDA), so no traffic shifts to it.
  app.get("/ping", async (c) => {
    const ready = await service.ready();
    if (ready) return c.json({ status: "ready" });
    c.header("Retry-After", String(RETRY_AFTER_503_SECONDS));
    return c.json({ error: "model is loading" }, 503);
  });
  // The status follows the error's kind so SageMaker's 4xx/5xx metrics and alarms mean something;
  // the body is the transport result either way (the gateway reads it from ModelError).
  app.post("/invocations", async (c) => {
    let event: unknown;
    try {
      event = await c.req.json();
    } catch {
      const bad: TransportResult = {
        ok: false,
        kind: "invalid_input",
        error: "body must be a JSON transport event",
      };
      return c.json(bad, 400);
    }
    const started = performance.now();
    const result = await handleTransportEvent(
      service.served,
      event,
      service.logger,
      c.get("requestId"),
      nodeClientSignal(c),
    );
    const status = result.ok ? 200 : STATUS_OF[result.kind];
    recordInvocation(metrics, service.config.modelName, event, result, status, performance.now() - started);
    return c.json(result, status);
  });
  return app;
}
