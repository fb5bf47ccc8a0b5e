/**
 * The node adapter's client signal: aborts when the connection of a request served by
 * @hono/node-server closes before its response was written (the client went away).
 */
import { ServerResponse } from "node:http";
import type { Context } from "hono";
import { ClientClosed } from "../errors";

/** The signal of `c`'s client under @hono/node-server; undefined for any other request. */
export function nodeClientSignal(c: Context): AbortSignal | undefined {
  const outgoing = (c.env as { outgoing?: unknown } | undefined)?.outgoing;
  if (!(outgoing instanceof ServerResponse)) return undefined;
  const controller = new AbortController();
  if (outgoing.destroyed) controller.abort(new ClientClosed());
  // "close" also follows a response written in full: only an unfinished one means the client left.
  else outgoing.once("close", () => outgoing.writableFinished || controller.abort(new ClientClosed()));
  return controller.signal;
}
