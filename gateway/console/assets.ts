/**
 * The console's static files (page, script, styles) as strings. The Lambda bundle gets them inlined
 * at build time (infra/bundles.ts defines __EDGE_INFER_CONSOLE__); local mode builds them at start
 * (gateway/console/build.ts), so the gateway never reads them from disk nor from a CDN.
 */

/** The console's files, by route path. */
export interface ConsoleAssets {
  html: string;
  js: string;
  css: string;
}

/** The global the gateway bundle's esbuild `define` fills with the built assets. */
export const ASSETS_GLOBAL = "__EDGE_INFER_CONSOLE__";

declare const __EDGE_INFER_CONSOLE__: ConsoleAssets | undefined;

/** The assets inlined in the bundle; undefined when running from source (tsx, vitest). */
export function bundledConsoleAssets(): ConsoleAssets | undefined {
  return typeof __EDGE_INFER_CONSOLE__ === "undefined" ? undefined : __EDGE_INFER_CONSOLE__;
}

/** Paths served without a key in keys mode: the page and its static files, never data. */
export const CONSOLE_PUBLIC_PATHS: ReadonlySet<string> = new Set([
  "/",
  "/console/app.js",
  "/console/app.css",
]);
