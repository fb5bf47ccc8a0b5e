/**
 * createApp(deps): the gateway as a Hono app with no runtime inside. The protocol itself (routes,
 * validation, error mapping) lives in layers/http so the model container serves the very same
 * routes; the gateway adds what only the public edge needs, through the fields of AppDeps
 * (assembled from the configuration by gateway/deps.ts).
 */
import type { Hono, MiddlewareHandler } from "hono";
import type { ModelCatalog } from "../layers/backend";
import { ModelNotFound } from "../layers/errors";
import {
  createProtocolApp,
  type InferMiddleware,
  type ProtocolAppOptions,
  type ProtocolEnv,
} from "../layers/http";
import type { StatisticsOptions } from "../layers/http/stats-routes";
import { targetOf } from "../layers/http/target";
import { quote } from "../layers/protocol/quote";
import type { Logger } from "../layers/telemetry";
import { version } from "../package.json";
import { type ConsoleDeps, mountConsole } from "./console/routes";
import type { JsonLimits } from "./limits/json-limits";

/** What the gateway is built from; only `catalog` is required. */
export interface AppDeps {
  /** Which backend serves each model (Lambda, SageMaker, in-process). */
  catalog: ModelCatalog;
  logger?: Logger;
  /** Deadline of each backend call; past it the client gets a 504. @default 30000 */
  backendTimeoutMs?: number;
  /** How long model signatures are reused for validation before asking the backend again. @default 60000 */
  describeTtlMs?: number;
  /** `GET /v2`. @default { name: "edge-infer", version: <package.json version> } */
  server?: { name: string; version: string };
  /** Hono middleware, in order, after the request id: origin check, telemetry, auth, rate and body limits. */
  middleware?: MiddlewareHandler[];
  /** Around each validated infer call, outermost first: result cache, concurrency limit. */
  inferMiddleware?: InferMiddleware[];
  /** Structural limits on the JSON of an infer body, counted while it is decoded. */
  jsonLimits?: JsonLimits;
  /** The client's connection signal: a client that leaves aborts its infer call (499 in the logs). */
  clientSignal?: ProtocolAppOptions["clientSignal"];
  /** Serves Triton's statistics extension from these counters. */
  statistics?: StatisticsOptions;
  /** Serves Triton's model repository extension (`POST /v2/repository/...`) over this control. */
  repository?: ProtocolAppOptions["repository"];
  /** Serves `GET /metrics` (behind the same middleware as every route) when given. */
  metricsEndpoint?: { contentType: string; render: () => Promise<string> };
  /** Serves the web console at `GET /` and its data routes (README, "Console") when given. */
  console?: ConsoleDeps;
  /** Serves `GET /v2/models/{m}/shadow` (the shadow comparison's summary; undefined: no shadow, 404) when given. */
  shadowSummary?: (model: string) => Promise<object | undefined>;
}

/**
 * The gateway app: `GET /v2`, health, model metadata/config/ready and infer, for every catalog model.
 * Error bodies are the protocol's `{"error": "..."}` plus `request_id`: stock clients read `error`
 * and ignore the rest, and a 4xx can be traced in the logs as well as a 5xx.
 */
export function createApp(deps: AppDeps): Hono<ProtocolEnv> {
  const app = createProtocolApp({
    ...deps,
    server: deps.server ?? { name: "edge-infer", version },
    requestIdInErrors: true,
    routes: [
      ...(deps.metricsEndpoint === undefined ? [] : [[/^\/metrics$/, ["GET"]] as const]),
      ...(deps.shadowSummary === undefined ? [] : [[/^\/v2\/models\/[^/]+\/shadow$/, ["GET"]] as const]),
    ],
  });
  const metrics = deps.metricsEndpoint;
  if (metrics !== undefined) {
    app.get("/metrics", async (c) =>
      c.body(await metrics.render(), 200, { "Content-Type": metrics.contentType }),
    );
  }
  if (deps.console !== undefined) mountConsole(app, deps.console);
  const shadow = deps.shadowSummary;
  if (shadow !== undefined) {
    app.get("/v2/models/:model/shadow", async (c) => {
      const model = targetOf(c)?.model ?? "";
      if (!deps.catalog.has(model)) throw new ModelNotFound(`unknown model ${quote(model)}`);
      const summary = await shadow(model);
      if (summary === undefined) throw new ModelNotFound(`model ${quote(model)} has no shadow version`);
      return c.json(summary);
    });
  }
  return app;
}
