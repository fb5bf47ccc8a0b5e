/**
 * Fixtures of the model function tests (also used by the gateway's remote backend tests): fresh
 * esbuild bundles in a private folder, and the generated test models in s3rver.
 */
import { randomUUID } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { type BuiltBundle, type BundleName, bundle } from "../../../infra/bundles";
import { REPO_ROOT } from "../../../infra/paths";
import { makeTestRepository } from "../../support/models";
import { S3RVER_CREDENTIALS, type S3rverHandle, startS3rver } from "../../support/s3rver";

/** Bundles built for one test file, in their own folder under dist/ (so onnxruntime-node resolves). */
export async function buildBundles(
  names: BundleName[],
): Promise<{ files: Record<BundleName, string>; built: BuiltBundle[]; cleanup(): Promise<void> }> {
  const outDir = join(REPO_ROOT, "dist", ".test", randomUUID());
  const built = await bundle(names, { outDir });
  const files = Object.fromEntries(built.map((b) => [b.name, b.file])) as Record<BundleName, string>;
  return { files, built, cleanup: () => rm(outDir, { recursive: true, force: true }) };
}

/** s3rver holding the generated test models under `s3://<bucket>/models/`. */
export interface S3Models {
  s3: S3rverHandle;
  /** `s3://<bucket>/models` */
  uri: string;
  /** Env a child process needs to read the repository (credentials s3rver accepts). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts s3rver and uploads the models named (default: all) of `make()` (default makeTestRepository),
 * plus those `more` writes into the repository's folder (always uploaded).
 */
export async function s3Models(
  models?: string[],
  more?: (dir: string) => Promise<readonly string[]>,
  make: () => Promise<{ dir: string; cleanup(): Promise<void> }> = makeTestRepository,
): Promise<S3Models> {
  const bucket = "edge-infer-models";
  const repo = await make();
  const s3 = await startS3rver([bucket]);
  try {
    const added = more === undefined ? [] : await more(repo.dir);
    if (models !== undefined) models = [...models, ...added];
    for (const file of await listFiles(repo.dir)) {
      const key = relative(repo.dir, file).split(sep).join("/");
      if (models !== undefined && !models.includes(key.split("/")[0] ?? "")) continue;
      await s3.client.send(
        new PutObjectCommand({ Bucket: bucket, Key: `models/${key}`, Body: await readFile(file) }),
      );
    }
  } finally {
    await repo.cleanup();
  }
  return {
    s3,
    uri: `s3://${bucket}/models`,
    env: {
      S3_ENDPOINT: s3.endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    },
    close: () => s3.close(),
  };
}

/** A copy of the demo repository (functions/models: the ocr pipeline and its models), links resolved. */
export async function demoRepository(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "demo-repo-"));
  await cp(join(REPO_ROOT, "functions", "models"), dir, { recursive: true, dereference: true });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}
