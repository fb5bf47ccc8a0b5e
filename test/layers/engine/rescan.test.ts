/**
 * Versions written to an S3 repository (s3rver) after the engine read it: a pinned request for one
 * is served on its first try, while a flood of requests for a version that is not there costs one
 * listing per interval, not one per request.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineBackend } from "../../../layers/backend";
import { ModelEngine } from "../../../layers/engine";
import { ModelNotFound } from "../../../layers/errors";
import { S3Repository } from "../../../layers/repository";
import { inferOn } from "../../support/infer";
import { modelConfig, offsetModel } from "../../support/models";
import { type S3rverHandle, startS3rver } from "../../support/s3rver";
import { countCommands, upload } from "../repository/s3-fixture";

let s3: S3rverHandle;
let engine: ModelEngine;
let backend: EngineBackend;
let counts: Map<string, number>;
let cacheDir: string;

const x = { name: "x", datatype: "FP32" as const, shape: [2], data: new Float32Array([0, 10]) };
const run = (version?: number) =>
  inferOn(backend, "grow", version, [x]).then((r) => ({
    version: r.version,
    y: Array.from((r.outputs[0]?.data ?? []) as Float32Array),
  }));

beforeAll(async () => {
  s3 = await startS3rver(["models"]);
  cacheDir = await mkdtemp(join(tmpdir(), "rescan-"));
  await upload(s3.client, "models", {
    "repo/grow/config.json": JSON.stringify(modelConfig("grow")),
    "repo/grow/1/model.onnx": offsetModel(1),
  });
  counts = countCommands(s3.client);
  const repo = new S3Repository({
    client: s3.client,
    bucket: "models",
    prefix: "repo",
    uri: "s3://models/repo",
    cacheDir,
  });
  engine = new ModelEngine(repo, { rescanIntervalMs: 60_000 });
  backend = new EngineBackend(engine, { batching: false });
  await backend.load("grow");
}, 60_000);

afterAll(async () => {
  await backend?.close();
  await s3?.close();
  await rm(cacheDir, { recursive: true, force: true });
});

describe("versions added to the repository after start", () => {
  it("serves a version uploaded after start on its first pinned request; unpinned ones stay put", async () => {
    await upload(s3.client, "models", { "repo/grow/2/model.onnx": offsetModel(2) });
    expect(await run(2)).toEqual({ version: 2, y: [2, 12] });
    expect(await run()).toEqual({ version: 1, y: [1, 11] });
  });

  it("answers a flood of misses from one listing per interval", async () => {
    const listings = () => counts.get("ListObjectsV2Command") ?? 0;
    const before = listings();
    const misses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        inferOn(backend, "grow", 7 + (i % 5), [x]).catch((e: unknown) => e),
      ),
    );
    for (const e of misses) {
      expect(e).toBeInstanceOf(ModelNotFound);
      expect((e as Error).message).toMatch(/^model 'grow' has no version (7|8|9|10|11)$/);
    }
    for (let i = 0; i < 20; i++) await expect(run(9)).rejects.toBeInstanceOf(ModelNotFound);
    // The first pinned request above listed once; these found that listing recent and reused it.
    expect(listings() - before).toBe(0);
  });
});
