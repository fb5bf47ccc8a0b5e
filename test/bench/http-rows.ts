/**
 * Measuring a server over HTTP on loopback: `c` keep-alive connections in closed loops, the same
 * prebuilt request each time (or a stamped, unique one for cache misses); a sample of responses is
 * decoded and compared with raw ORT's outputs, so a fast wrong answer cannot pass.
 */
import type { Tensor } from "../../layers/protocol/types";
import { Connection, type RawResponse } from "./client";
import { type Measurement, type MeasureOptions, measure } from "./measure";
import { type BenchRequest, checkOutputs, checkStatus, stamp } from "./payloads";

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

function sendOn(c: Connection | undefined, bytes: Buffer): Promise<RawResponse> {
  if (c === undefined) throw new Error("no connection for this worker");
  return c.send(bytes);
}

function ownOf(own: BenchRequest[], w: number): BenchRequest {
  const r = own[w];
  if (r === undefined) throw new Error(`no request copy for worker ${w}`);
  return r;
}
