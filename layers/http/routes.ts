/**
 * The protocol's REST routes over a model catalog: health, server and model metadata, model
 * config and readiness, infer (JSON and binary). Requests are validated against the cached
 * description before the backend is called.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { InvalidInput, ModelNotFound } from "../errors";
import { binaryOutputsOf, decodeInferRequest, HEADER_LENGTH } from "../protocol";
import { PhaseTimer } from "../telemetry/timing";
import type { Backend, InferResult, ModelDescription } from "../transport/backend";
import { quote } from "../transport/quote";
import { encodeBackendResult } from "../transport/respond";
import { parseVersion } from "../transport/version";
import { validateRequest } from "../validation/validate";
import { withDeadline } from "./deadline";
import { DescribeCache } from "./describe-cache";
import { errorResponse } from "./errors";
import type { InferContext, ProtocolAppOptions, ProtocolEnv } from "./types";

type C = Context<ProtocolEnv>;

/** Protocol extensions served (Triton's names). */
export const EXTENSIONS = ["binary_tensor_data", "model_configuration"];

const HEADER_LENGTH_VALUE = /^[0-9]{1,15}$/;

/** Builds the routes; `createProtocolApp` adds request ids, middleware and error mapping around them. */
export function protocolRoutes(options: ProtocolAppOptions): Hono<ProtocolEnv> {
  const { catalog } = options;
  const server = options.server ?? { name: "edge-infer", version: "0.0.0" };
  const timeoutMs = options.backendTimeoutMs ?? 30_000;
  const cache = new DescribeCache(options.describeTtlMs ?? 60_000);
  const inferChain = options.inferMiddleware ?? [];
  const errorBody = { requestIdField: options.requestIdInErrors === true };

  const backendOf = (c: C): { model: string; backend: Backend } => {
    const model = c.req.param("model") ?? "";
    const backend = catalog.get(model);
    if (backend === undefined) throw new ModelNotFound(`unknown model ${quote(model)}`);
    c.set("model", model);
    return { model, backend };
  };
  const versionOf = (c: C): string | undefined => {
    const v = c.req.param("version");
    return v === undefined ? undefined : String(parseVersion(v));
  };
  // Deadline only: a readiness check is cheap, and the client's signal (`c.req.raw.signal`) would
  // make the node adapter build a full web Request for every call.
  const deadline = <T>(what: string, call: (signal: AbortSignal) => Promise<T>) =>
    withDeadline(timeoutMs, what, undefined, call);
  // Shared by concurrent requests, so one client leaving must not abort it: deadline only.
  const describe = (model: string, backend: Backend, version: string | undefined) =>
    cache.get(model, version, () =>
      withDeadline(timeoutMs, `model ${quote(model)}`, undefined, (signal) =>
        backend.describe(model, version, signal),
      ),
    );

  const metadata = async (c: C) => {
    const { model, backend } = backendOf(c);
    const description = await describe(model, backend, versionOf(c));
    return c.json(description.metadata);
  };
  const config = async (c: C) => {
    const { model, backend } = backendOf(c);
    const description = await describe(model, backend, versionOf(c));
    return c.json(description.config);
  };
  const modelReady = async (c: C) => {
    const { model, backend } = backendOf(c);
    const version = versionOf(c);
    const ready = await deadline(`model ${quote(model)}`, (signal) => backend.ready(model, version, signal));
    if (ready) return c.json({ name: model, ...(version === undefined ? {} : { version }), ready: true });
    const what = version === undefined ? `model ${quote(model)}` : `model ${quote(model)} version ${version}`;
    return errorResponse(c, 503, `${what} is not ready (request id ${c.get("requestId")})`, errorBody);
  };
  const infer = async (c: C) => {
    const { model, backend } = backendOf(c);
    const version = versionOf(c);
    const timer = c.get("timer") ?? new PhaseTimer();
    const body = c.get("body") ?? new Uint8Array(await c.req.arrayBuffer());
    const headerLength = headerLengthOf(c);
    let stop = timer.start("decode");
    // Structural limits first: JSON.parse of a hostile body must not be what bounds its cost.
    options.checkRequestJson?.(
      headerLength === undefined ? body : body.subarray(0, Math.min(headerLength, body.byteLength)),
    );
    const request = decodeInferRequest(body, headerLength);
    stop();
    const description = await describe(model, backend, version);
    stop = timer.start("decode");
    const requested = request.outputs?.map((o) => o.name);
    validateRequest(
      request.inputs,
      requested !== undefined && requested.length > 0 ? requested : undefined,
      signatureOf(description),
      description.config.max_batch_size,
    );
    stop();
    const ctx: InferContext = {
      model,
      version,
      description,
      request,
      backend,
      requestId: c.get("requestId"),
      http: c,
      timer,
    };
    // Deadline only, not the client's signal: a result cache may share this call with identical
    // requests (single flight), which must not fail because the first client went away.
    const result = await runChain(inferChain, ctx, () =>
      withDeadline(timeoutMs, `model ${quote(model)}`, undefined, async (signal) => {
        const started = performance.now();
        const result = await backend.infer(model, version, request, signal);
        // A backend that batches says how long the request queued and how long the run took;
        // otherwise the whole call counts as inference.
        if (result.timing?.queueMs !== undefined) timer.add("queue", result.timing.queueMs);
        timer.add("infer", result.timing?.inferMs ?? performance.now() - started);
        for (const [step, ms] of Object.entries(result.timing?.steps ?? {})) timer.add(step, ms);
        return result;
      }),
    );
    c.set("servedVersion", result.version);
    stop = timer.start("encode");
    const encoded = encodeBackendResult(model, request, result, binaryOutputsOf(request));
    stop();
    // One headers object for the response (not one c.header() call each); the body goes out as is.
    const headers: Record<string, string> = {
      "Content-Type": encoded.contentType,
      "Content-Length": String(encoded.body.byteLength),
    };
    if (encoded.headerLength !== undefined) headers[HEADER_LENGTH] = String(encoded.headerLength);
    return c.body(encoded.body as Uint8Array<ArrayBuffer>, 200, headers);
  };

  const app = new Hono<ProtocolEnv>();
  app.get("/v2", (c) => c.json({ name: server.name, version: server.version, extensions: EXTENSIONS }));
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
    return errorResponse(c, 503, message, errorBody);
  });
  for (const base of ["/v2/models/:model", "/v2/models/:model/versions/:version"]) {
    app.get(base, metadata);
    app.get(`${base}/config`, config);
    app.get(`${base}/ready`, modelReady);
    app.post(`${base}/infer`, infer);
  }
  return app;
}

/** The model signature a description carries (shapes with the batch dimension). */
function signatureOf(d: ModelDescription) {
  return { inputs: d.metadata.inputs, outputs: d.metadata.outputs };
}

function headerLengthOf(c: C): number | undefined {
  const value = c.req.header(HEADER_LENGTH);
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (!HEADER_LENGTH_VALUE.test(trimmed)) {
    throw new InvalidInput(`${HEADER_LENGTH} must be a non-negative integer, received ${quote(value)}`);
  }
  return Number(trimmed);
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
