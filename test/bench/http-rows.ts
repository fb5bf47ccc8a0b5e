/**
 * Measuring a server over HTTP on loopback: `c` keep-alive connections in closed loops, the same
 * prebuilt request each time (or a stamped, unique one for cache misses); a sample of responses is
 * decoded and compared with raw ORT's outputs, so a fast wrong answer cannot pass.
 */
import type { Tensor } from "../../layers/protocol/types";
import { Connection, type RawResponse } from "./client";
import { type Measurement, type MeasureOptions, measure } from "./measure";
import {
  type BenchRequest,
  binaryRequest,
  checkOutputs,
  checkStatus,
  inputTensor,
  MODELS,
  stamp,
} from "./payloads";

/** How a measured HTTP run checks its responses. */
export interface HttpCheck {
  /** Raw ORT's outputs for this request; undefined when the request changes (stamped). */
  expected: Tensor[] | undefined;
  /** Check the outputs of every n-th response (all statuses are checked). @default 16 */
  every?: number;
  tolerance?: number;
}

/** Sends `request` from `concurrency` connections; tags each call with the response's X-Cache. */
export async function measureHttp(
  port: number,
  request: BenchRequest,
  options: MeasureOptions & { unique?: boolean },
  check: HttpCheck,
): Promise<Measurement> {
  const connections = await Promise.all(
    Array.from({ length: options.concurrency }, () => Connection.open(port)),
  );
  const every = check.every ?? 16;
  // A stamped request is rewritten before each send: one copy per connection.
  const own = options.unique
    ? connections.map(() => ({ bytes: Buffer.from(request.bytes), lastFloatAt: request.lastFloatAt }))
    : [];
  const verify = (r: RawResponse, seq: number) => {
    if (check.expected !== undefined && seq % every === 0) checkOutputs(r, check.expected, check.tolerance);
    else checkStatus(r);
  };
  try {
    // One checked request first: a server answering wrongly is reported, not measured.
    const first = await sendOn(connections[0], options.unique ? stamp(ownOf(own, 0), -1) : request.bytes);
    verify(first, 0);
    return await measure(options, async (w, seq) => {
      const bytes = options.unique ? stamp(ownOf(own, w), seq) : request.bytes;
      const r = await sendOn(connections[w], bytes);
      verify(r, seq);
      return r.headers.get("x-cache");
    });
  } finally {
    for (const c of connections) c.close();
  }
}

/** The request servers settle with: binary, of ocr-cls when it is benched (the cheapest), else the first model. */
export function settleRequest(models: readonly string[], headers: Record<string, string> = {}): BenchRequest {
  const name = models.includes("ocr-cls") ? "ocr-cls" : (models[0] ?? "ocr-cls");
  const model = MODELS[name];
  if (model === undefined) throw new Error(`bench: no model ${name} to settle with`);
  return binaryRequest(name, inputTensor(model), headers);
}

/** The bound on each server's settling, whatever its request count: ocr-det's requests take ~25 ms each. */
export const SETTLE_MAX_MS = 10_000;

/**
 * Brings a fresh server to its steady state before its first measured row: `requests` calls at c=1
 * (or `maxMs`, whichever comes first), every answer checked for a 200. V8 compiles a server's
 * request path over its first thousands of requests, on threads that share the machine's cores with
 * the server and the client. A fresh gateway under ocr-cls binary at c=1 (`--trace-opt`) finished
 * 130 TurboFan compiles (542 ms of compile time) in its first 1000 requests, 31 in its third 1000 and
 * 2 in its fifth; the hand-written server 55, 9 and 1. Its CPU per request against the hand-written
 * server's, in alternating rounds of 500: 1.50× over the first 2000 requests, 1.18× over the next
 * 6000. A row measured before that times the compiler, not the server. Returns the calls made.
 */
export async function settle(
  port: number,
  request: BenchRequest,
  requests: number,
  maxMs = SETTLE_MAX_MS,
): Promise<number> {
  if (requests <= 0) return 0;
  const connection = await Connection.open(port);
  const until = performance.now() + maxMs;
  let sent = 0;
  try {
    while (sent < requests && performance.now() < until) {
      checkStatus(await connection.send(request.bytes));
      sent++;
    }
    return sent;
  } finally {
    connection.close();
  }
}

function sendOn(c: Connection | undefined, bytes: Buffer): Promise<RawResponse> {
  if (c === undefined) throw new Error("no connection for this worker");
  return c.send(bytes);
}

function ownOf(own: BenchRequest[], w: number): BenchRequest {
  const r = own[w];
  if (r === undefined) throw new Error(`no request copy for worker ${w}`);
  return r;
}
