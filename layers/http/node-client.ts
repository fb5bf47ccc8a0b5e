/**
 * The node adapter's client signal: aborts when the connection of a request served by
 * @hono/node-server closes before its response was written (the client went away).
 *
 * One signal per connection, not per request: Node 20's AbortSignal is costly to the garbage
 * collector (abort-pool.ts), and a keep-alive client sends thousands of requests over one
 * connection. Every request on a connection is its client's, so the connection closing is the client
 * leaving for each of them; a request whose answer was written in full has taken its listeners off
 * the signal by then (test/gateway/request-path.test.ts checks it).
 */
import { setMaxListeners } from "node:events";
import { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Context } from "hono";
import { ClientClosed } from "../errors";

const signals = new WeakMap<Socket, AbortSignal>();

/** The signal of `c`'s client under @hono/node-server; undefined for any other request. */
export function nodeClientSignal(c: Context): AbortSignal | undefined {
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  if (!(outgoing instanceof ServerResponse)) return undefined;
  const socket = outgoing.socket;
  if (socket === null || socket.destroyed) return AbortSignal.abort(new ClientClosed());
  let signal = signals.get(socket);
  if (signal === undefined) {
    const controller = new AbortController();
    signal = controller.signal;
    // Pipelined requests each listen while they run: as many as the limits let in, not a leak.
    setMaxListeners(0, signal);
    socket.once("close", () => controller.abort(new ClientClosed()));
    signals.set(socket, signal);
  }
  return signal;
}
