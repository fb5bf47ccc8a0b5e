/**
 * The console's routes: `GET /` and its static files (public: they hold no data), and the two data
 * routes it adds to the protocol's own (behind the same middleware, so a key is needed in keys mode):
 * the model list with each model's backend, and the live windows.
 */
import type { Context, Hono } from "hono";
import type { ModelCatalog } from "../../layers/backend";
import type { ProtocolEnv } from "../../layers/http";
import { allowsModel } from "../auth/keys";
import type { AuthEnv } from "../auth/middleware";
import { LambdaBackend } from "../backends/lambda";
import { SageMakerBackend } from "../backends/sagemaker";
import type { ConsoleAssets } from "./assets";
import type { LiveStats } from "./live";
import type { LiveAnswer } from "./live-answer";

/** What the console is served from. */
export interface ConsoleDeps {
  /** Absent: only the data routes are served (source runs that did not build the assets). */
  assets?: ConsoleAssets;
  catalog: ModelCatalog;
  live: LiveStats;
  scope: LiveAnswer["scope"];
  dashboardUrl?: LiveAnswer["dashboardUrl"];
}

/** No inline script or style, no eval, nothing from elsewhere; data only from this origin. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const HEADERS = {
  "Content-Security-Policy": CONSOLE_CSP,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-cache",
};

/** Which kind of backend serves a model. */
export function backendKind(catalog: ModelCatalog, model: string): string {
  const b = catalog.get(model);
  if (b instanceof LambdaBackend) return "Lambda";
  if (b instanceof SageMakerBackend) return "SageMaker";
  return "in-process";
}

/** The catalog models the request's key may use (all of them without keys): the console shows no other. */
function visible(c: Context, catalog: ModelCatalog): string[] {
  const key = (c as Context<AuthEnv>).get("apiKey");
  return [...catalog.keys()].filter((m) => key === undefined || allowsModel(key, m));
}

/** Adds the console's routes to `app`. */
export function mountConsole(app: Hono<ProtocolEnv>, deps: ConsoleDeps): void {
  const { assets, catalog, live } = deps;
  if (assets !== undefined) {
    const file = (body: string, type: string) => () =>
      new Response(body, { headers: { ...HEADERS, "Content-Type": type } });
    app.get("/", file(assets.html, "text/html; charset=utf-8"));
    app.get("/console/app.js", file(assets.js, "text/javascript; charset=utf-8"));
    app.get("/console/app.css", file(assets.css, "text/css; charset=utf-8"));
  }
  app.get("/console/api/models", (c) =>
    c.json({
      models: visible(c, catalog).map((name) => ({ name, backend: backendKind(catalog, name) })),
    }),
  );
  // Asked here rather than by the page: a model without a shadow answers 404, which a browser logs as an error.
  app.get("/console/api/releases", async (c) => {
    const releases: Record<string, unknown> = {};
    for (const name of visible(c, catalog)) {
      // The same request with the caller's headers (key, origin secret): it sees what they may see.
      // Not Accept-Encoding: an inner answer is read here, not sent, and would come back compressed.
      const headers = new Headers(c.req.raw.headers);
      headers.delete("accept-encoding");
      const res = await app.request(`/v2/models/${encodeURIComponent(name)}/shadow`, { headers });
      if (res.status === 200) releases[name] = await res.json();
    }
    return c.json({ releases });
  });
  app.get("/console/api/live", (c) =>
    c.json({
      scope: deps.scope,
      ...(deps.dashboardUrl === undefined ? {} : { dashboardUrl: deps.dashboardUrl }),
      ...live.snapshot(visible(c, catalog)),
    } satisfies LiveAnswer),
  );
}
