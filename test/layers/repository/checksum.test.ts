/**
 * Integrity of model files (issue 12, repros 4 and 5): `model.onnx.sha256` checked on every load
 * from file:// and s3:// (s3rver), a corrupted copy of the demo detector left not ready, a missing
 * sum warned about locally and refused from S3, and stale partial downloads removed at start.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { copyFile, mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelEngine } from "../../../layers/engine";
import { ModelNotReady } from "../../../layers/errors";
import { FileRepository, openRepository, S3Repository } from "../../../layers/repository";
import { type S3rverHandle, startS3rver } from "../../support/s3rver";
import { rejection } from "./contract";
import { upload } from "./s3-fixture";

const DEMO = fileURLToPath(new URL("../../../functions/models/", import.meta.url));
const SUM = /[0-9a-f]{64}/g;

let base: string;
let s3: S3rverHandle;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "checksum-"));
  s3 = await startS3rver(["sums"]);
});

afterAll(async () => {
  await s3?.close();
  await rm(base, { recursive: true, force: true });
});

/** A file:// repository holding a real copy (not the node_modules link) of a demo model and its sum. */
async function copyOfDemo(model: string): Promise<string> {
  const root = await mkdtemp(join(base, "repo-"));
  await mkdir(join(root, model, "1"), { recursive: true });
  await copyFile(join(DEMO, model, "config.json"), join(root, model, "config.json"));
  for (const f of ["model.onnx", "model.onnx.sha256"]) {
    await copyFile(join(DEMO, model, "1", f), join(root, model, "1", f));
  }
  return root;
}

const logged = () => {
  const lines: string[] = [];
  return { lines, log: (msg: string) => void lines.push(msg) };
};

describe("model.onnx.sha256 on file://", () => {
  it("ships a matching sum for every demo model", async () => {
    const { lines, log } = logged();
    const demo = new FileRepository(DEMO, DEMO, log);
    for (const m of ["ocr-cls", "ocr-det", "ocr-rec"]) await demo.fetchModel(m, 1);
    expect(lines).toEqual([]);
  });

  it("leaves ocr-det not ready when 4 KiB at offset 2,000,000 of its copy are random (repro 4)", async () => {
    const root = await copyOfDemo("ocr-det");
    const file = await open(join(root, "ocr-det", "1", "model.onnx"), "r+");
    await file.write(randomBytes(4096), 0, 4096, 2_000_000);
    await file.close();
    const engine = new ModelEngine(openRepository(root));
    try {
      const e = await rejection(() => engine.load("ocr-det"));
      expect(e).toBeInstanceOf(ModelNotReady);
      const expected = (await readFile(join(DEMO, "ocr-det", "1", "model.onnx.sha256"), "utf8")).trim();
      // The message names the file and both sums.
      expect(e.message).toContain("ocr-det/1/model.onnx has SHA-256 ");
      expect(e.message).toContain(`model.onnx.sha256 says ${expected}`);
      expect(e.message.match(SUM)?.filter((s) => s !== expected)).toHaveLength(1);
      expect(engine.isReady("ocr-det")).toBe(false);
    } finally {
      await engine.close();
    }
    // The demo model itself is untouched.
    await new FileRepository(DEMO).fetchModel("ocr-det", 1);
  });

  it("serves a local model without a sum, with a warning naming it", async () => {
    const root = await copyOfDemo("ocr-cls");
    await rm(join(root, "ocr-cls", "1", "model.onnx.sha256"));
    const { lines, log } = logged();
    await new FileRepository(root, root, log).fetchModel("ocr-cls", 1);
    expect(lines).toEqual(["ocr-cls/1/model.onnx has no model.onnx.sha256: served unverified"]);
  });

  it("refuses a sum file that is not a digest", async () => {
    const root = await copyOfDemo("ocr-cls");
    await writeFile(join(root, "ocr-cls", "1", "model.onnx.sha256"), "not a digest\n");
    const e = await rejection(() => new FileRepository(root).fetchModel("ocr-cls", 1));
    expect(e.message).toBe("ocr-cls/1/model.onnx.sha256 is not a hex SHA-256 digest");
  });
});

describe("model.onnx.sha256 on s3://", () => {
  const repository = (prefix: string, cacheDir: string, allowMissingChecksum?: boolean) =>
    new S3Repository({
      client: s3.client,
      bucket: "sums",
      prefix,
      uri: `s3://sums/${prefix}`,
      cacheDir,
      allowMissingChecksum,
    });

  it("refuses a version without a sum unless ALLOW_MISSING_CHECKSUM allows it", async () => {
    await upload(
      s3.client,
      "sums",
      { "bare/m/config.json": "{}", "bare/m/1/model.onnx": "weights" },
      { sums: false },
    );
    const cache = await mkdtemp(join(base, "cache-"));
    const e = await rejection(() => repository("bare", cache).fetchModel("m", 1));
    expect(e).toBeInstanceOf(ModelNotReady);
    expect(e.message).toBe(
      "m/1/model.onnx has no model.onnx.sha256 beside it (set ALLOW_MISSING_CHECKSUM=on to serve it unverified)",
    );
    expect(await readFile(await repository("bare", cache, true).fetchModel("m", 1), "utf8")).toBe("weights");
  });

  it("verifies after each download and drops a copy that fails, so a fixed object loads", async () => {
    await upload(s3.client, "sums", { "bad/m/config.json": "{}", "bad/m/1/model.onnx": "good weights" });
    // The object changes but its sum does not: a corrupt upload.
    await upload(s3.client, "sums", { "bad/m/1/model.onnx": "evil weights" }, { sums: false });
    const cache = await mkdtemp(join(base, "cache-"));
    const repo = repository("bad", cache);
    const e = await rejection(() => repo.fetchModel("m", 1));
    expect(e.message).toMatch(
      /^m\/1\/model\.onnx has SHA-256 [0-9a-f]{64} but model\.onnx\.sha256 says [0-9a-f]{64}$/,
    );
    expect(await readdir(join(cache, "sums", "bad", "m", "1"))).toEqual([]);
    await upload(s3.client, "sums", { "bad/m/1/model.onnx": "good weights" });
    expect(await readFile(await repo.fetchModel("m", 1), "utf8")).toBe("good weights");
  });

  it("also checks a cached copy on load (corrupted on disk after its download)", async () => {
    await upload(s3.client, "sums", { "disk/m/config.json": "{}", "disk/m/1/model.onnx": "weights" });
    const cache = await mkdtemp(join(base, "cache-"));
    const path = await repository("disk", cache).fetchModel("m", 1);
    await writeFile(path, "wEights"); // same size: the ETag/size check alone would reuse it
    await expect(repository("disk", cache).fetchModel("m", 1)).rejects.toThrow(/has SHA-256/);
    // Dropped, so the next load downloads it again.
    expect(await readFile(await repository("disk", cache).fetchModel("m", 1), "utf8")).toBe("weights");
  });

  it("removes partial downloads of dead processes at start, not those of a live one (repro 5)", async () => {
    await upload(s3.client, "sums", { "tmp/m/config.json": "{}", "tmp/m/1/model.onnx": "weights" });
    const cache = await mkdtemp(join(base, "cache-"));
    const dir = join(cache, "sums", "tmp", "m", "1");
    await mkdir(dir, { recursive: true });
    // pid 2^22+1 is above Linux's pid_max: no such process. The parent of this test runner is alive.
    const dead = `model.onnx.${2 ** 22 + 1}.${randomUUID()}.tmp`;
    const ours = `model.onnx.${process.pid}.${randomUUID()}.tmp`;
    const live = `model.onnx.${process.ppid}.${randomUUID()}.tmp`;
    for (const f of [dead, ours, live]) await writeFile(join(dir, f), "partial");
    await repository("tmp", cache).fetchModel("m", 1);
    expect((await readdir(dir)).sort()).toEqual([live, "model.onnx", "model.onnx.meta.json"].sort());
  });
});
