/**
 * What `cdk synth` packages, built from the checked-out source at every synthesis: a Lambda bundle
 * folder, or a Docker build context holding exactly a Dockerfile and the bundle it copies. Each lands
 * in a folder named by its content hash, so two synths of the same source stage the same bytes
 * (same asset hashes, no new Lambda version), and concurrent synths never write into one another.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { IConstruct } from "constructs";
import { BUNDLES, type BundleFiles, type BundleName, bundleFilesSync } from "./bundles";
import type { ImageSource } from "./constructs/backend";
import { REPO_ROOT } from "./paths";

/** Where staged folders go (ignored by git), unless the app's context sets STAGE_DIR_CONTEXT. */
export const DEFAULT_STAGE_DIR = join(REPO_ROOT, "dist", "stage");
/** Context key naming another staging folder (`-c edge-infer:stageDir=...`; tests: a fresh one). */
export const STAGE_DIR_CONTEXT = "edge-infer:stageDir";

function stageDirOf(scope: IConstruct): string {
  const dir: unknown = scope.node.tryGetContext(STAGE_DIR_CONTEXT);
  return typeof dir === "string" && dir !== "" ? dir : DEFAULT_STAGE_DIR;
}

const staged = new Map<string, string>();

/** Writes `files` (relative path → bytes) to `<stageDir>/<label>-<hash>/` once; returns that folder. */
function stage(stageDir: string, label: string, files: BundleFiles): string {
  const hash = createHash("sha256");
  for (const path of Object.keys(files).sort()) {
    hash
      .update(path)
      .update("\0")
      .update(files[path] as Uint8Array)
      .update("\0");
  }
  const dir = join(stageDir, `${label}-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(dir)) return dir;
  // Written aside, then renamed into place: a reader never sees a half-written folder.
  const tmp = `${dir}.${randomUUID()}.tmp`;
  for (const [path, bytes] of Object.entries(files)) {
    mkdirSync(dirname(join(tmp, path)), { recursive: true });
    writeFileSync(join(tmp, path), bytes);
  }
  try {
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(dir)) throw e; // another synth staged the same content first: fine
  }
  return dir;
}

function memo(key: string, make: () => string): string {
  const hit = staged.get(key);
  if (hit !== undefined && existsSync(hit)) return hit;
  const dir = make();
  staged.set(key, dir);
  return dir;
}

/** A folder holding bundle `name` (`index.mjs` and its map), built now from the source. */
export function stageBundle(scope: IConstruct, name: BundleName): string {
  const stageDir = stageDirOf(scope);
  return memo(`bundle:${name}:${stageDir}`, () => stage(stageDir, name, bundleFilesSync(name)));
}

/** The images: Dockerfile (relative to the repository root) and the bundle it copies into `dist/`. */
const IMAGES = {
  cpu: { dockerfile: "functions/Dockerfile", bundle: "model-function" },
  gpu: { dockerfile: "functions/Dockerfile.gpu", bundle: "model-server" },
} as const satisfies Record<string, { dockerfile: string; bundle: BundleName }>;

/** A Docker build context for the CPU or GPU model image, built now from the source. */
export function stageImage(scope: IConstruct, kind: keyof typeof IMAGES): ImageSource {
  const stageDir = stageDirOf(scope);
  const { dockerfile, bundle } = IMAGES[kind];
  const directory = memo(`image:${kind}:${stageDir}`, () => {
    const files: BundleFiles = { [dockerfile]: readFileSync(join(REPO_ROOT, dockerfile)) };
    for (const [path, bytes] of Object.entries(bundleFilesSync(bundle)))
      files[`dist/${BUNDLES[bundle].outdir}/${path}`] = bytes;
    return stage(stageDir, `image-${kind}`, files);
  });
  return { directory, file: dockerfile };
}
