/** Types of the protocol's HTTP binding: Hono variables, options, and the infer middleware chain. */
import type { Context, MiddlewareHandler } from "hono";
import type { Backend, InferResult, ModelCatalog, ModelDescription } from "../backend/contract";
import type { JsonLimits } from "../protocol/json-limits";
import type { LogSink } from "../telemetry/logger";
import type { PhaseTimer } from "../telemetry/timing";
import type { ValidatedRequest } from "../validation/request";
import type { RouteMethods } from "./allowed";
import type { RepositoryOptions } from "./repository-routes";
import type { StatisticsOptions } from "./stats-routes";
import type { RequestTarget } from "./target";

/** Hono variables set by the protocol app. */
export type ProtocolEnv = {
  Variables: {
    /** Set first on every request; echoed in `x-request-id` and in 5xx bodies. */
    requestId: string;
    /** The model named in the path, once it was found in the catalog (used by logs and errors). */
    model?: string;
    /** The path's model and version, parsed once (`targetOf`); null: the path names no model. */
    target?: RequestTarget | null;
    /** How a result cache answered an infer request (logs, hit/miss metrics); absent: no cache. */
    cache?: "HIT" | "MISS" | "BYPASS";
    /**
     * Phase timings of the request, set by a telemetry middleware before the routes run; the infer
     * route adds decode, infer (and the backend's queue) and encode to it. Absent: not recorded.
     */
    timer?: PhaseTimer;
    /** Inferences in an infer request (its batch dimension; 1 for a model that does not batch). */
    batchSize?: number;
    /** The model version that answered an infer request (logs, metrics). */
    servedVersion?: string;
    /**
     * The request body, already read (and bounded) by a middleware such as the gateway's body limit;
     * absent: the infer route reads the request itself.
     */
    body?: Uint8Array;
  };
};

/** Everything one infer call knows, handed along the infer middleware chain. */
export interface InferContext {
  model: string;
  /** The version pinned in the path; undefined: the live version. */
  version: number | undefined;
  /** The description the request was validated against (of the live version when unpinned). */
  description: ModelDescription;
  request: ValidatedRequest;
  backend: Backend;
  requestId: string;
  /** The Hono context: request headers (Cache-Control…), variables for the logs. */
  http: Context<ProtocolEnv>;
  /**
   * Headers of the answer (`X-Cache`): the route adds its own and sends them as one plain object
   * (answer.ts). `http.header()` would not reach the answer.
   */
  headers: Record<string, string>;
  /** Where a middleware adds the phases it spends (cache lookup, queue wait). */
  timer: PhaseTimer;
  /**
   * Aborts when the client goes away; the backend call and the waits before it honour it. A
   * middleware that shares the call between requests replaces it with one that aborts only when
   * every sharer has gone. Undefined: the server cannot tell (Lambda), nothing aborts early.
   */
  signal: AbortSignal | undefined;
}

/**
 * Wraps the backend call of an infer request (result cache, batching, metrics): call `next()` to
 * go on, or answer without it. Runs after validation, so it only sees valid requests.
 */
export type InferMiddleware = (ctx: InferContext, next: () => Promise<InferResult>) => Promise<InferResult>;

/** Options of createProtocolApp. Only `catalog` is required. */
export interface ProtocolAppOptions {
  /** Which backend serves each model. */
  catalog: ModelCatalog;
  /** `GET /v2` answer. @default { name: "edge-infer", version: "0.0.0" } */
  server?: { name: string; version: string };
  /** Deadline of each backend call (describe, ready, infer), ending in a 504. @default 30000 */
  backendTimeoutMs?: number;
  /** How long a model description (signature, config) is reused before asking the backend again. @default 60000 */
  describeTtlMs?: number;
  logger?: LogSink;
  /** Hono middleware run on every request after the request id is set: auth, limits, metrics. */
  middleware?: MiddlewareHandler[];
  /**
   * The signal of the client's connection (the node adapter's); an infer request whose client goes
   * away aborts its queued or running backend work and is logged as 499. @default none
   */
  clientSignal?: (c: Context<ProtocolEnv>) => AbortSignal | undefined;
  /** Middleware around every infer backend call, outermost first: result cache, batching. */
  inferMiddleware?: InferMiddleware[];
  /**
   * Structural limits on the JSON part of every infer body (the whole body, or its first
   * `Inference-Header-Content-Length` bytes), counted while it is decoded. @default none
   */
  jsonLimits?: JsonLimits;
  /**
   * Error bodies also carry the request id as a field: `{"error": "...", "request_id": "..."}`.
   * Stock clients read only `error`. @default false (the body is exactly `{"error"}`)
   */
  requestIdInErrors?: boolean;
  /** Serves Triton's statistics extension from these counters (`GET /v2/models/stats`...). */
  statistics?: StatisticsOptions;
  /** Serves Triton's model repository extension over this control (`POST /v2/repository/...`). */
  repository?: RepositoryOptions;
  /** Routes the caller adds beside the protocol's (`/metrics`, `/ping`): a wrong method gets 405 on them too. */
  routes?: readonly RouteMethods[];
}
