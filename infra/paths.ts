/** Where the CDK app finds what it packages: the repository root and the pinned ORT and sharp versions. */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the Docker build context of both images (see .dockerignore). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The onnxruntime-node version the lockfile pins, passed to the image builds so the images run
 * the ORT the tests ran (and a bump rebuilds them: build args are part of the asset hash).
 */
export function ortVersion(root: string = REPO_ROOT): string {
  return lockedVersion("onnxruntime-node", root);
}

/** The sharp version the lockfile pins: the images install it (with its native binary) beside ORT. */
export function sharpVersion(root: string = REPO_ROOT): string {
  return lockedVersion("sharp", root);
}

/** The version package-lock.json pins for `pkg`; throws naming it when there is none. */
function lockedVersion(pkg: string, root: string): string {
  const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
    packages?: Record<string, { version?: string }>;
  };
  const version = lock.packages?.[`node_modules/${pkg}`]?.version;
  if (version === undefined || !/^\d+\.\d+\.\d+/.test(version)) {
    throw new Error(
      `package-lock.json must pin node_modules/${pkg} to a version, received ${JSON.stringify(version)}`,
    );
  }
  return version;
}
