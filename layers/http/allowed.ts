/**
 * The methods each known path answers, so that a wrong method gets 405 with `Allow` rather than a
 * 404 that reads as "no such path". Hono's router only says "no match": the list is kept here.
 */

/** A path pattern and the methods it answers (HEAD is implied by GET). */
export type RouteMethods = readonly [pattern: RegExp, methods: readonly string[]];

const MODEL = "/v2/models/[^/]+(?:/versions/[^/]+)?";

/** The protocol's own routes (layers/http/routes.ts and its extensions). */
export const PROTOCOL_ROUTES: readonly RouteMethods[] = [
  [/^\/v2\/?$/, ["GET"]],
  [/^\/v2\/health\/(?:live|ready)$/, ["GET"]],
  [new RegExp(`^${MODEL}(?:/config|/ready|/stats)?$`), ["GET"]],
  [/^\/v2\/models\/stats$/, ["GET"]],
  [new RegExp(`^${MODEL}/infer$`), ["POST"]],
  [/^\/v2\/repository\/(?:index|models\/[^/]+\/(?:load|unload))$/, ["POST"]],
];

/** The `Allow` value for `path` (e.g. "GET, HEAD"), or undefined when no route has that path. */
export function allowedMethods(path: string, routes: readonly RouteMethods[]): string | undefined {
  for (const [pattern, methods] of routes) {
    if (!pattern.test(path)) continue;
    return (methods.includes("GET") ? [...methods, "HEAD"] : methods).join(", ");
  }
  return undefined;
}
