/**
 * esbuild bundles of the deployables (`npm run build`): the gateway's Lambda handler, the model
 * function's Lambda handler and the model container's server, each one ESM file under dist/.
 * onnxruntime-node stays external: it is native and installed in the images (functions/Dockerfile*).
 */
import { stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { WORKER_BUNDLE_FILE } from "../layers/engine/worker-thread";
import { REPO_ROOT } from "./paths";

/** The bundles, by name: entry point (from the repository root) and output folder under dist/. */
export const BUNDLES = {
  gateway: { entry: "gateway/lambda.ts", outdir: "gateway" },
  "model-function": { entry: "functions/model/lambda.ts", outdir: "model-function" },
  "model-server": { entry: "functions/model/main.ts", outdir: "model-server" },
} as const;

/** Extra entry points written beside a bundle: the container's inference worker (INFERENCE_THREAD=worker). */
const COMPANIONS: Partial<Record<keyof typeof BUNDLES, Record<string, string>>> = {
  "model-server": { [WORKER_BUNDLE_FILE]: "layers/engine/worker-entry.ts" },
};

export type BundleName = keyof typeof BUNDLES;

/** One built bundle. */
export interface BuiltBundle {
  name: BundleName;
  /** Absolute path of `index.mjs`. */
  file: string;
  bytes: number;
}

/** Some CommonJS dependencies call require() (Node built-ins, e.g. the AWS SDK's); ESM has none. */
const BANNER =
  "import{createRequire as __cr}from'node:module';import{fileURLToPath as __fu}from'node:url';" +
  "import{dirname as __dn}from'node:path';const require=__cr(import.meta.url);" +
  "const __filename=__fu(import.meta.url);const __dirname=__dn(__filename);";

/** Options of bundle(). */
export interface BundleOptions {
  /** The repository root. @default the root this file lives in */
  root?: string;
  /**
   * Where `<name>/index.mjs` go. @default `<root>/dist`. Keep it inside the repository: the
   * bundles import onnxruntime-node from the node_modules above them.
   */
  outDir?: string;
  /** @default true */
  minify?: boolean;
}

/** Builds the named bundles (all by default) into `<outDir>/<name>/index.mjs`. */
export async function bundle(
  names: BundleName | readonly BundleName[] = Object.keys(BUNDLES) as BundleName[],
  options: BundleOptions = {},
): Promise<BuiltBundle[]> {
  const root = options.root ?? REPO_ROOT;
  const outDir = options.outDir ?? join(root, "dist");
  const list = typeof names === "string" ? [names] : names;
  const built: BuiltBundle[] = [];
  for (const name of list) {
    const { entry, outdir } = BUNDLES[name];
    const outfile = join(outDir, outdir, "index.mjs");
    const files: Record<string, string> = { [outfile]: entry };
    for (const [file, source] of Object.entries(COMPANIONS[name] ?? {}))
      files[join(outDir, outdir, file)] = source;
    for (const [file, source] of Object.entries(files)) await buildOne(root, source, file, options);
    built.push({ name, file: outfile, bytes: (await stat(outfile)).size });
  }
  return built;
}

function buildOne(root: string, entry: string, outfile: string, options: BundleOptions) {
  return build({
    absWorkingDir: root,
    entryPoints: [join(root, entry)],
    outfile,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    mainFields: ["module", "main"],
    external: ["onnxruntime-node"],
    banner: { js: BANNER },
    minify: options.minify ?? true,
    sourcemap: true,
    sourcesContent: false,
    legalComments: "none",
    logLevel: "warning",
  });
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  for (const n of names) {
    if (!(n in BUNDLES))
      throw new Error(`unknown bundle ${JSON.stringify(n)}: expected ${Object.keys(BUNDLES).join(", ")}`);
  }
  const built = await bundle(names.length > 0 ? (names as BundleName[]) : undefined);
  for (const b of built) {
    console.log(`${relative(REPO_ROOT, b.file).padEnd(32)} ${(b.bytes / 1024).toFixed(1).padStart(9)} KiB`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  });
}
