/**
 * The protocol's REST routes over a model catalog: health, server and model metadata, model
 * config and readiness, infer (JSON and binary). Requests are validated against the cached
 * description before the backend is called.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { type Backend, type InferResult, validateFor } from "../backend/contract";
import { ClientClosed, InvalidInput, ModelNotFound } from "../errors";
import { binaryOutputsOf, type DecodedInferRequest, HEADER_LENGTH, headerLengthValue } from "../protocol";
import { allJson } from "../protocol/json-request";
import { quote } from "../protocol/quote";
import { PhaseTimer } from "../telemetry/timing";
import { encodeBackendResult } from "../transport/respond";
import { checkExpectedResponse, checkResponseBytes } from "../validation/limits";
import { requestedOutputs } from "../validation/request";
import { plainAnswer } from "./answer";
import { releaseBody } from "./body-pool";
import { withDeadline } from "./deadline";
import { decodeInferBody } from "./decode-body";
import { DescribeCache } from "./describe-cache";
import { errorResponse, RETRY_AFTER_503_SECONDS } from "./errors";
import { addRepositoryRoutes } from "./repository-routes";
import { REQUEST_ID_HEADER } from "./request-id";
import { addStatisticsRoutes } from "./stats-routes";
import { targetOf } from "./target";
import type { InferContext, ProtocolAppOptions, ProtocolEnv } from "./types";

type C = Context<ProtocolEnv>;

/**
 * Protocol extensions always served (Triton's names); `model_repository` and `statistics` too
 * when given their parts.
 */
export const EXTENSIONS = ["binary_tensor_data", "classification", "model_configuration"];

/** Builds the routes; `createProtocolApp` adds request ids, middleware and error mapping around them. */
export function protocolRoutes(options: ProtocolAppOptions): Hono<ProtocolEnv> {
  const { catalog } = options;
  const server = options.server ?? { name: "edge-infer", version: "0.0.0" };
  const timeoutMs = options.backendTimeoutMs ?? 30_000;
  const cache = new DescribeCache(options.describeTtlMs ?? 60_000);
  const inferChain = options.inferMiddleware ?? [];
  const errorBody = { requestIdField: options.requestIdInErrors === true };

  // The path was parsed once (targetOf); its version error, if any, is thrown here, after auth.
  // A model added to the repository after start is looked for (rate limited) before a 404.
  const discover = options.repository?.control.discover?.bind(options.repository.control);
  const backendOf = async (
    c: C,
  ): Promise<{ model: string; version: number | undefined; backend: Backend }> => {
    const target = targetOf(c);
    const model = target?.model ?? "";
    let backend = catalog.get(model);
    if (backend === undefined && discover !== undefined && (await discover(model)))
      backend = catalog.get(model);
    if (backend === undefined) throw new ModelNotFound(`unknown model ${quote(model)}`);
    c.set("model", model);
    if (target?.invalid !== undefined) throw target.invalid;
    return { model, version: target?.version, backend };
  };
  // Deadline only: a readiness check is cheap, and the client's signal (`c.req.raw.signal`) would
  // make the node adapter build a full web Request for every call.
  const deadline = <T>(what: string, call: (signal: AbortSignal) => Promise<T>) =>
    withDeadline(timeoutMs, what, undefined, call);
  // Shared by concurrent requests, so one client leaving must not abort it: deadline only.
  const describe = (model: string, backend: Backend, version: number | undefined) =>
    cache.get(model, version, () =>
      withDeadline(timeoutMs, `model ${quote(model)}`, undefined, (signal) =>
        backend.describe(model, version, signal),
      ),
    );

  const metadata = async (c: C) => {
    const { model, version, backend } = await backendOf(c);
    const description = await describe(model, backend, version);
    return c.json(description.metadata);
  };
  const config = async (c: C) => {
    const { model, version, backend } = await backendOf(c);
    const description = await describe(model, backend, version);
    return c.json(description.config);
  };
  const modelReady = async (c: C) => {
    const { model, version, backend } = await backendOf(c);
    const ready = await deadline(`model ${quote(model)}`, (signal) => backend.ready(model, version, signal));
    if (ready) {
      return c.json({
        name: model,
        ...(version === undefined ? {} : { version: String(version) }),
        ready: true,
      });
    }
    const what = version === undefined ? `model ${quote(model)}` : `model ${quote(model)} version ${version}`;
    c.header("Retry-After", String(RETRY_AFTER_503_SECONDS));
    return errorResponse(c, 503, `${what} is not ready (request id ${c.get("requestId")})`, errorBody);
  };
  const infer = async (c: C) => {
    const { model, version, backend } = await backendOf(c);
    // A telemetry middleware's timer, whose phases the answer's Server-Timing reports; else a local one.
    const timed = c.get("timer");
    const timer = timed ?? new PhaseTimer();
    const body = c.get("body") ?? new Uint8Array(await c.req.arrayBuffer());
    const headerLength = headerLengthOf(c);
    let stop = timer.start("decode");
    let request: DecodedInferRequest;
    try {
      request = await decodeInferBody(body, headerLength, options.jsonLimits);
    } finally {
      // All JSON: the decode copied everything out, so the body's buffer can serve another request.
      if (allJson(body.byteLength, headerLength)) releaseBody(body);
    }
    stop();
    const description = await describe(model, backend, version);
    stop = timer.start("decode");
    // The one validation in this process: backends take the validated request as it is.
    const validated = validateFor(request, description);
    const requested = requestedOutputs(validated);
    const binary = binaryOutputsOf(request);
    const batch = description.config.max_batch_size > 0 ? (request.inputs[0]?.shape[0] ?? 1) : 1;
    c.set("batchSize", batch);
    checkExpectedResponse(
      { inputs: description.metadata.inputs, outputs: description.metadata.outputs },
      batch,
      requested,
      binary,
      description.config.limits,
    );
    stop();
    // Only now, for a request about to reach a backend: the node adapter's signal costs a listener.
    const client = options.clientSignal?.(c);
    const ctx: InferContext = {
      model,
      version,
      description,
      request: validated,
      backend,
      requestId: c.get("requestId"),
      http: c,
      headers: {},
      timer,
      signal: client,
    };
    // ctx.signal, not `client`: a middleware sharing this call (single flight) swaps in its own.
    const result = await runChain(inferChain, ctx, () =>
      withDeadline(timeoutMs, `model ${quote(model)}`, ctx.signal, async (signal) => {
        const started = performance.now();
        const result = await backend.infer(model, version, validated, signal);
        // A backend that batches says how long the request queued and how long the run took;
        // otherwise the whole call counts as inference.
        if (result.timing?.queueMs !== undefined) timer.add("queue", result.timing.queueMs);
        timer.add("infer", result.timing?.inferMs ?? performance.now() - started);
        for (const [step, ms] of Object.entries(result.timing?.steps ?? {})) timer.add(step, ms);
        return result;
      }),
    ).catch((e: unknown) => {
      // Whatever the aborted call threw (a remote client's abort error), it is a 499 in logs and metrics.
      throw client?.aborted === true ? new ClientClosed() : e;
    });
    if (client?.aborted === true) throw new ClientClosed();
    c.set("servedVersion", result.version);
    stop = timer.start("encode");
    const encoded = encodeBackendResult(model, request, result, binary);
    stop();
    checkResponseBytes(encoded.body.byteLength, description.config.limits);
    // One plain headers object for the answer (answer.ts); the body goes out as is.
    const headers = ctx.headers;
    headers["Content-Type"] = encoded.contentType;
    headers["Content-Length"] = String(encoded.body.byteLength);
    if (encoded.headerLength !== undefined) headers[HEADER_LENGTH] = String(encoded.headerLength);
    // The outer middleware's headers too, so that none of them has to rebuild the answer.
    if (ctx.requestId !== undefined) headers[REQUEST_ID_HEADER] = ctx.requestId;
    if (timed !== undefined) headers["Server-Timing"] = timed.header();
    return plainAnswer(encoded.body, 200, headers);
  };

  const app = new Hono<ProtocolEnv>();
  const extensions = [
    ...EXTENSIONS,
    ...(options.repository === undefined ? [] : ["model_repository"]),
    ...(options.statistics === undefined ? [] : ["statistics"]),
  ].sort();
  const serverMetadata = (c: C) => c.json({ name: server.name, version: server.version, extensions });
  // The spec writes the path `/v2/`; clients use either.
  app.get("/v2", serverMetadata);
  app.get("/v2/", serverMetadata);
  app.get("/v2/health/live", (c) => c.json({ live: true }));
  app.get("/v2/health/ready", async (c) => {
    const states = await Promise.all(
      [...catalog].map(async ([model, backend]) => {
        try {
          return await deadline(`model ${quote(model)}`, (signal) => backend.ready(model, undefined, signal));
        } catch {
          return false;
        }
      }),
    );
    const waiting = [...catalog.keys()].filter((_, i) => !states[i]);
    if (waiting.length === 0) return c.json({ ready: true });
    const message = `not ready: ${waiting.join(", ")} (request id ${c.get("requestId")})`;
    c.header("Retry-After", String(RETRY_AFTER_503_SECONDS));
    return errorResponse(c, 503, message, errorBody);
  });
  if (options.statistics !== undefined) addStatisticsRoutes(app, catalog, options.statistics);
  if (options.repository !== undefined) addRepositoryRoutes(app, options.repository, (m) => cache.forget(m));
  for (const base of ["/v2/models/:model", "/v2/models/:model/versions/:version"]) {
    app.get(base, metadata);
    app.get(`${base}/config`, config);
    app.get(`${base}/ready`, modelReady);
    app.post(`${base}/infer`, infer);
  }
  return app;
}

function headerLengthOf(c: C): number | undefined {
  const value = c.req.header(HEADER_LENGTH);
  if (value === undefined) return undefined;
  const n = headerLengthValue(value);
  if (n === undefined) {
    throw new InvalidInput(`${HEADER_LENGTH} must be a non-negative integer, received ${quote(value)}`);
  }
  return n;
}

/** Runs `chain[i..]` around `last`; a function, not a closure per request (cheaper under tsx's keepNames). */
function runChain(
  chain: NonNullable<ProtocolAppOptions["inferMiddleware"]>,
  ctx: InferContext,
  last: () => Promise<InferResult>,
  i = 0,
): Promise<InferResult> {
  const mw = chain[i];
  return mw === undefined ? last() : mw(ctx, () => runChain(chain, ctx, last, i + 1));
}
