/**
 * esbuild bundles of the deployables (`npm run build`): the gateway's Lambda handler, the model
 * function's Lambda handler, the model container's server and the release hook, each one ESM file
 * under dist/. onnxruntime-node and sharp (pipelines' image decoding) stay external: they are native
 * and installed in the images (functions/Dockerfile*), each with its binary for the image's platform. Deterministic: the same source gives the same bytes wherever it is written
 * (source map paths are relative to `<root>/dist/<name>/`, no timestamps), so assets keep their hash.
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { type BuildOptions, build, buildSync, type OutputFile } from "esbuild";
import { ASSETS_GLOBAL } from "../gateway/console/assets";
import { buildConsoleAssets } from "../gateway/console/build";
import { WORKER_BUNDLE_FILE } from "../layers/engine/worker-thread";
import { REPO_ROOT } from "./paths";

/** The bundles, by name: entry point (from the repository root) and output folder under dist/. */
export const BUNDLES = {
  gateway: { entry: "gateway/lambda.ts", outdir: "gateway" },
  "model-function": { entry: "functions/model/lambda.ts", outdir: "model-function" },
  "model-server": { entry: "functions/model/main.ts", outdir: "model-server" },
  "release-hook": { entry: "functions/release-hook/index.ts", outdir: "release-hook" },
  "shadow-compare": { entry: "functions/shadow-compare/index.ts", outdir: "shadow-compare" },
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
    for (const [file, contents] of Object.entries(await bundleFiles(name, root, options.minify ?? true))) {
      const path = join(outDir, BUNDLES[name].outdir, file);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, contents);
    }
    const file = join(outDir, BUNDLES[name].outdir, "index.mjs");
    built.push({ name, file, bytes: (await stat(file)).size });
  }
  return built;
}

/** A bundle's files in memory, by path relative to its folder: `index.mjs`, its map, companions. */
export type BundleFiles = Record<string, Uint8Array>;

/** Builds bundle `name` in memory (synchronously: CDK constructs cannot await). */
export function bundleFilesSync(name: BundleName, root: string = REPO_ROOT): BundleFiles {
  const files: BundleFiles = {};
  for (const [file, entry] of entries(name)) {
    Object.assign(
      files,
      collect(root, name, buildSync(esbuildOptions(root, name, entry, file, true)).outputFiles),
    );
  }
  return files;
}

async function bundleFiles(name: BundleName, root: string, minify: boolean): Promise<BundleFiles> {
  const files: BundleFiles = {};
  for (const [file, entry] of entries(name)) {
    Object.assign(
      files,
      collect(root, name, (await build(esbuildOptions(root, name, entry, file, minify))).outputFiles),
    );
  }
  return files;
}

function entries(name: BundleName): [string, string][] {
  return [["index.mjs", BUNDLES[name].entry], ...Object.entries(COMPANIONS[name] ?? {})];
}

function collect(root: string, name: BundleName, outputs: OutputFile[]): BundleFiles {
  const dir = join(root, "dist", BUNDLES[name].outdir);
  return Object.fromEntries(outputs.map((o) => [relative(dir, o.path), o.contents]));
}

// Written in memory as if to `<root>/dist/<name>/`, whatever the real destination: the source
// map's relative paths, and so the bytes, do not depend on where a bundle lands.
function esbuildOptions(
  root: string,
  name: BundleName,
  entry: string,
  file: string,
  minify: boolean,
): BuildOptions & { write: false } {
  return {
    absWorkingDir: root,
    entryPoints: [join(root, entry)],
    outfile: join(root, "dist", BUNDLES[name].outdir, file),
    write: false,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    mainFields: ["module", "main"],
    external: ["onnxruntime-node", "sharp"],
    banner: { js: BANNER },
    minify,
    sourcemap: true,
    sourcesContent: false,
    legalComments: "none",
    logLevel: "warning",
    // The gateway carries its web console inlined: no CDN, no second server (gateway/console).
    ...(name === "gateway" ? { define: { [ASSETS_GLOBAL]: JSON.stringify(buildConsoleAssets()) } } : {}),
  };
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
