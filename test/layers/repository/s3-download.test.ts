import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { ModelNotFound, ModelNotReady } from "../../../layers/errors";
import { S3Repository } from "../../../layers/repository/s3";
import { type S3rverHandle, s3rverClientConfig, startS3rver } from "../../support/s3rver";
import { rejection } from "./contract";
import { countCommands, upload } from "./s3-fixture";

let s3: S3rverHandle;
let base: string;
let cacheDir: string;
let v1: Buffer;
let v2: Buffer;

function repository(client: S3Client = s3.client, dir = cacheDir): S3Repository {
  return new S3Repository({
    client,
    bucket: "models",
    prefix: "repo",
    uri: "s3://models/repo",
    cacheDir: dir,
  });
}

/** A fresh client counting its commands, and a repository using it. */
function counted(dir = cacheDir): { repo: S3Repository; counts: Map<string, number> } {
  const client = s3.makeClient();
  return { repo: repository(client, dir), counts: countCommands(client) };
}

/** Every file under `dir`, relative. */
async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

beforeAll(async () => {
  s3 = await startS3rver(["models"]);
  base = await mkdtemp(join(tmpdir(), "repo-s3dl-"));
  v1 = randomBytes(300_000);
  v2 = randomBytes(200_000);
  await upload(s3.client, "models", {
    "repo/a/config.json": "{}",
    "repo/a/1/model.onnx": v1,
    "repo/a/2/model.onnx": v2,
  });
});

afterAll(async () => {
  await s3.close();
  await rm(base, { recursive: true, force: true });
});

beforeEach(async () => {
  cacheDir = await mkdtemp(join(base, "cache-"));
});

describe("S3Repository.fetchModel", () => {
  test("downloads to <cacheDir>/<bucket>/<prefix>/<model>/<version>/model.onnx with a sidecar", async () => {
    const path = await repository().fetchModel("a", 1);
    expect(path).toBe(join(cacheDir, "models", "repo", "a", "1", "model.onnx"));
    expect((await readFile(path)).equals(v1)).toBe(true);
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: "models", Key: "repo/a/1/model.onnx" }),
    );
    const meta = JSON.parse(await readFile(`${path}.meta.json`, "utf8"));
    expect(meta).toEqual({ bucket: "models", key: "repo/a/1/model.onnx", etag: head.ETag, size: v1.length });
    // No temporary file is left behind.
    expect(await filesUnder(cacheDir)).toEqual([
      join("models", "repo", "a", "1", "model.onnx"),
      join("models", "repo", "a", "1", "model.onnx.meta.json"),
    ]);
  });

  test("a cached copy with the same ETag and size is reused without a download", async () => {
    const path = await repository().fetchModel("a", 1);
    const mtime = (await stat(path)).mtimeMs;
    const { repo, counts } = counted();
    expect(await repo.fetchModel("a", 1)).toBe(path);
    expect(counts.get("HeadObjectCommand")).toBe(1);
    // One GetObject per load is the model.onnx.sha256, checked against the cached copy.
    expect(counts.get("GetObjectCommand")).toBe(1);
    expect((await stat(path)).mtimeMs).toBe(mtime);
  });

  test("a new upload (new ETag, same size) is downloaded again", async () => {
    await upload(s3.client, "models", { "repo/b/config.json": "{}", "repo/b/1/model.onnx": "first" });
    const path = await repository().fetchModel("b", 1);
    expect(await readFile(path, "utf8")).toBe("first");
    await upload(s3.client, "models", { "repo/b/1/model.onnx": "secnd" });
    const { repo, counts } = counted();
    expect(await readFile(await repo.fetchModel("b", 1), "utf8")).toBe("secnd");
    expect(counts.get("GetObjectCommand")).toBe(2); // the file and its sum
    const meta = JSON.parse(await readFile(`${path}.meta.json`, "utf8"));
    const head = await s3.client.send(
      new HeadObjectCommand({ Bucket: "models", Key: "repo/b/1/model.onnx" }),
    );
    expect(meta.etag).toBe(head.ETag);
  });

  test("a damaged cached file or sidecar is downloaded again", async () => {
    const path = await repository().fetchModel("a", 1);
    await truncate(path, 10);
    const first = counted();
    expect((await readFile(await first.repo.fetchModel("a", 1))).equals(v1)).toBe(true);
    expect(first.counts.get("GetObjectCommand")).toBe(2); // the file and its sum
    await writeFile(`${path}.meta.json`, "{ broken");
    const second = counted();
    expect((await readFile(await second.repo.fetchModel("a", 1))).equals(v1)).toBe(true);
    expect(second.counts.get("GetObjectCommand")).toBe(2);
  });

  test("concurrent fetches of one file share one download; other versions get their own", async () => {
    const { repo, counts } = counted();
    const paths = await Promise.all([
      repo.fetchModel("a", 1),
      repo.fetchModel("a", 1),
      repo.fetchModel("a", 1),
      repo.fetchModel("a", 2),
    ]);
    expect(new Set(paths.slice(0, 3)).size).toBe(1);
    expect(counts.get("HeadObjectCommand")).toBe(2);
    // Two downloads, and each of the four loads reads its sum.
    expect(counts.get("GetObjectCommand")).toBe(6);
    expect((await readFile(paths[0] ?? "")).equals(v1)).toBe(true);
    expect((await readFile(paths[3] ?? "")).equals(v2)).toBe(true);
    // Once settled, a later call checks the ETag again (and reuses the file).
    await repo.fetchModel("a", 1);
    expect(counts.get("HeadObjectCommand")).toBe(3);
    expect(counts.get("GetObjectCommand")).toBe(7);
  });

  test("an unusable cache directory is ModelNotReady naming the local side", async () => {
    const notADir = join(cacheDir, "file");
    await writeFile(notADir, "x");
    const e = await rejection(() => repository(s3.client, notADir).fetchModel("a", 1));
    expect(e).toBeInstanceOf(ModelNotReady);
    expect(e.message).toBe("model 'a' version 1 could not be stored in the local cache");
    expect((e.cause as { code?: string }).code).toBe("ENOTDIR");
  });

  test("a missing version is ModelNotFound and leaves nothing in the cache", async () => {
    const e = await rejection(() => repository().fetchModel("a", 9));
    expect(e).toBeInstanceOf(ModelNotFound);
    expect(e.message).toBe("model 'a' version 9 not found in repository");
    expect(await filesUnder(cacheDir)).toEqual([]);
  });
});

/** An S3 look-alike on loopback whose answers the test writes; the way to get a cut-off body. */
async function fakeS3(handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const client = new S3Client({ ...s3rverClientConfig(`http://127.0.0.1:${port}`), maxAttempts: 1 });
  return {
    client,
    async close() {
      client.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Drops the connection once the client has written `bytes` to its temp file. Dropping at once
 * would let Node discard the received bytes unread: a download of 0 bytes, not the one meant here.
 */
async function dropWhenWritten(dir: string, bytes: number, res: ServerResponse): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const files = (await filesUnder(dir).catch(() => [])).filter((f) => f.endsWith(".tmp"));
    const sizes = await Promise.all(
      files.map((f) =>
        stat(join(dir, f)).then(
          (st) => st.size,
          () => -1,
        ),
      ),
    );
    if (sizes.includes(bytes)) break;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  res.socket?.destroy();
}

describe("S3Repository.fetchModel with a truncated download", () => {
  const ETAG = '"0123456789abcdef0123456789abcdef"';

  test("a body cut off before Content-Length is deleted and reported", async () => {
    const fake = await fakeS3((req, res) => {
      res.writeHead(200, { "Content-Length": "456", ETag: ETAG, "Content-Type": "application/octet-stream" });
      if (req.method === "HEAD") return void res.end();
      // 123 of the 456 announced bytes, then the connection drops once they are on disk.
      res.write(Buffer.alloc(123, 7));
      void dropWhenWritten(cacheDir, 123, res);
    });
    try {
      const e = await rejection(() => repository(fake.client).fetchModel("a", 1));
      expect(e).toBeInstanceOf(ModelNotReady);
      expect(e.message).toBe("model 'a' version 1: downloaded 123 bytes, expected 456");
      expect(e.cause).toBeInstanceOf(Error);
      expect(await filesUnder(cacheDir)).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  test("a body that ends cleanly but short of the size HeadObject gave is rejected", async () => {
    const fake = await fakeS3((req, res) => {
      if (req.method === "HEAD") {
        res.writeHead(200, { "Content-Length": "456", ETag: ETAG });
        return void res.end();
      }
      // No Content-Length: chunked, so the short body looks complete to HTTP.
      res.writeHead(200, { ETag: ETAG, "Transfer-Encoding": "chunked" });
      res.end(Buffer.alloc(123, 7));
    });
    try {
      const e = await rejection(() => repository(fake.client).fetchModel("a", 1));
      expect(e).toBeInstanceOf(ModelNotReady);
      expect(e.message).toBe("model 'a' version 1: downloaded 123 bytes, expected 456");
      expect(await filesUnder(cacheDir)).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  test("a truncated download does not replace a good cached copy's bytes", async () => {
    const good = await repository().fetchModel("a", 1);
    const fake = await fakeS3((req, res) => {
      res.writeHead(200, { "Content-Length": String(v1.length + 1), ETag: ETAG });
      if (req.method === "HEAD") return void res.end();
      res.write(v1.subarray(0, 1000));
      void dropWhenWritten(cacheDir, 1000, res);
    });
    try {
      const e = await rejection(() => repository(fake.client).fetchModel("a", 1));
      expect(e.message).toBe(`model 'a' version 1: downloaded 1000 bytes, expected ${v1.length + 1}`);
      expect((await readFile(good)).equals(v1)).toBe(true);
    } finally {
      await fake.close();
    }
  });
});
