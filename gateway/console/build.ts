/**
 * Builds the console's assets with esbuild: the client script (with uPlot from npm) as one IIFE, its
 * styles and the page. Used at build time for the Lambda bundle and at start in local mode; imports
 * esbuild, so it is never part of a bundle itself.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import type { ConsoleAssets } from "./assets";

const CLIENT = join(dirname(fileURLToPath(import.meta.url)), "client");
let built: ConsoleAssets | undefined;

/** The console's page, script and styles, built once per process. */
export function buildConsoleAssets(): ConsoleAssets {
  if (built !== undefined) return built;
  const out = buildSync({
    entryPoints: [join(CLIENT, "main.ts")],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  const js = out.outputFiles[0]?.text ?? "";
  const uplotCss = readFileSync(createRequire(import.meta.url).resolve("uplot/dist/uPlot.min.css"), "utf8");
  built = {
    html: readFileSync(join(CLIENT, "index.html"), "utf8"),
    js,
    css: `${uplotCss}\n${readFileSync(join(CLIENT, "style.css"), "utf8")}`,
  };
  return built;
}
