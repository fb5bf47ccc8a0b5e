/**
 * The infer answer with its headers in a plain object, and the headers the outer middleware add to
 * a response on its way out (request id, Server-Timing).
 *
 * Hono's `c.header()`, its `c.body()` with more than one header, and any read of `c.res.headers`
 * build an undici `Headers` (a sorted list, a WebIDL check of every name and value) that the node
 * adapter then turns back into an object for `writeHead`. The infer answer, the one response on the
 * hot path, skips both: it is built with a plain object, which `@hono/node-server` hands to
 * `writeHead` as it is. The route writes the outer middleware's headers into it too (request id,
 * Server-Timing), so that nothing rebuilds it per request: a header added afterwards through
 * `setOutgoingHeader` makes a new answer over a copy of the object, and doing that on every request
 * kept the first answer alive long enough to be promoted (26 KB per scavenge instead of 1 KB).
 * A plain answer's headers change only through `setOutgoingHeader` (a write to `c.res.headers` would
 * be lost at the next one); any other response keeps Hono's `Headers`, and these functions handle both.
 */
import type { Context } from "hono";

const PARTS = Symbol("plainAnswer");

interface Parts {
  body: Uint8Array;
  status: number;
  headers: Record<string, string>;
}

type Tagged = Response & { [PARTS]?: Parts };

/**
 * A response of `body` with `headers` as given. Build it last: Hono's `c.header()` values set before
 * are not merged into it (the infer path sets none; its middleware add theirs with setOutgoingHeader).
 */
export function plainAnswer(body: Uint8Array, status: number, headers: Record<string, string>): Response {
  const res = new Response(body as Uint8Array<ArrayBuffer>, { status, headers }) as Tagged;
  res[PARTS] = { body, status, headers };
  return res;
}

/** The value of header `name` (any case) on the context's response, or undefined. */
export function outgoingHeader(c: Context, name: string): string | undefined {
  const parts = (c.res as Tagged)[PARTS];
  if (parts === undefined) return c.res.headers.get(name) ?? undefined;
  const key = keyOf(parts.headers, name);
  return key === undefined ? undefined : parts.headers[key];
}

/**
 * Sets header `name` on the context's response. A response whose headers cannot change (one built
 * elsewhere, e.g. `Response.redirect`) is copied first, so the header is never silently dropped.
 */
export function setOutgoingHeader(c: Context, name: string, value: string): void {
  const res = c.res as Tagged;
  const parts = res[PARTS];
  if (parts !== undefined) {
    const headers = { ...parts.headers };
    const key = keyOf(headers, name);
    if (key !== undefined) delete headers[key];
    headers[name] = value;
    replace(c, plainAnswer(parts.body, parts.status, headers));
    return;
  }
  try {
    res.headers.set(name, value);
  } catch {
    const copy = new Response(res.body, res);
    copy.headers.set(name, value);
    replace(c, copy);
  }
}

/** `c.res = res` without Hono copying the old response's headers over the new one's. */
function replace(c: Context, res: Response): void {
  c.res = undefined;
  c.res = res;
}

function keyOf(headers: Record<string, string>, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const k in headers) if (k.length === lower.length && k.toLowerCase() === lower) return k;
  return undefined;
}
