/**
 * Downloads model files from S3 into a local cache (Lambda's /tmp), verified by size, reused while
 * the object's ETag and size are unchanged, one download per file however many callers ask.
 */
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ModelNotReady } from "../errors";
import { versionNotFound } from "./names";
import type { RepositoryLogger } from "./types";

/** One model file: where it is in S3 and where it goes on disk. */
export interface DownloadTarget {
  model: string;
  version: number;
  bucket: string;
  key: string;
  localPath: string;
}

/** The sidecar `<file>.meta.json`: which object the cached bytes are. */
interface CacheMeta {
  bucket: string;
  key: string;
  etag: string;
  size: number;
}

/** True for S3's "no such key" answers (GetObject: NoSuchKey, HeadObject: a bare 404). */
export function isS3NotFound(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const { name, $metadata } = e as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (name === "NoSuchBucket") return false;
  return name === "NoSuchKey" || name === "NotFound" || $metadata?.httpStatusCode === 404;
}

/** Local cache of S3 model files; concurrent fetches of one file share one promise. */
export class S3ModelCache {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly client: S3Client,
    private readonly log: RepositoryLogger,
  ) {}

  /** The local path of `target`, downloaded unless the cached copy matches the object's ETag and size. */
  fetch(target: DownloadTarget): Promise<string> {
    const running = this.inflight.get(target.localPath);
    if (running) return running;
    // Only in-flight work is shared: a later call checks the ETag again and sees a new upload.
    const promise = this.fetchOnce(target).finally(() => this.inflight.delete(target.localPath));
    this.inflight.set(target.localPath, promise);
    return promise;
  }

  /** Drops the cached copy at `localPath` (and its sidecar), so the next fetch downloads it again. */
  async forget(localPath: string): Promise<void> {
    await rm(metaPath(localPath), { force: true }).catch(() => undefined);
    await rm(localPath, { force: true }).catch(() => undefined);
  }

  private async fetchOnce(t: DownloadTarget): Promise<string> {
    if (!(await exists(metaPath(t.localPath)))) {
      // No sidecar, no copy to reuse (a fresh instance's /tmp): the download starts at once, its
      // HeadObject (the size, should the answer lack one) beside it, not a round trip before it.
      const size = this.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: t.key })).then(
        (h) => h.ContentLength,
        () => undefined,
      );
      return this.download(t, size);
    }
    const head = await this.send(t, () =>
      this.client.send(new HeadObjectCommand({ Bucket: t.bucket, Key: t.key })),
    );
    if (head.ETag !== undefined && head.ContentLength !== undefined) {
      const wanted: CacheMeta = { bucket: t.bucket, key: t.key, etag: head.ETag, size: head.ContentLength };
      if (await isCached(t.localPath, wanted)) {
        this.log("model file reused from cache", { model: t.model, version: t.version, etag: head.ETag });
        return t.localPath;
      }
    }
    return this.download(t, Promise.resolve(head.ContentLength));
  }

  private async download(t: DownloadTarget, headSize: Promise<number | undefined>): Promise<string> {
    const got = await this.send(t, () =>
      this.client.send(new GetObjectCommand({ Bucket: t.bucket, Key: t.key })),
    );
    const expected = got.ContentLength ?? (await headSize);
    const body = got.Body;
    if (!(body instanceof Readable) || expected === undefined || got.ETag === undefined) {
      if (body instanceof Readable) body.destroy();
      throw this.notReady(t, "the repository's answer lacks a body, a size or an ETag");
    }
    try {
      await mkdir(dirname(t.localPath), { recursive: true });
    } catch (cause) {
      body.destroy();
      throw this.notReady(t, "could not be stored in the local cache", cause);
    }
    const tmp = `${t.localPath}.${process.pid}.${randomUUID()}.tmp`;
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const out = createWriteStream(tmp);
    let diskFailed = false;
    out.once("error", () => {
      diskFailed = true;
    });
    try {
      try {
        await pipeline(body, counter, out);
      } catch (cause) {
        // A full or read-only disk is not the repository's fault: say which side failed.
        if (diskFailed) throw this.notReady(t, "could not be stored in the local cache", cause);
        if (bytes < expected) throw this.truncated(t, bytes, expected, cause);
        throw this.notReady(t, "could not be downloaded", cause);
      }
      if (bytes !== expected) throw this.truncated(t, bytes, expected);
      const record: CacheMeta = { bucket: t.bucket, key: t.key, etag: got.ETag, size: bytes };
      await this.install(t, tmp, record);
      this.log("model file downloaded", { model: t.model, version: t.version, bytes, etag: got.ETag });
      return t.localPath;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Moves a verified download into place and records what it is. */
  private async install(t: DownloadTarget, tmp: string, record: CacheMeta): Promise<void> {
    const meta = metaPath(t.localPath);
    try {
      // Drop the old sidecar first: a crash after the rename must not pair old metadata with new bytes.
      await rm(meta, { force: true });
      await rename(tmp, t.localPath);
      await writeFile(meta, JSON.stringify(record));
    } catch (cause) {
      throw this.notReady(t, "could not be stored in the local cache", cause);
    }
  }

  /** Runs an S3 call, mapping "no such key" to ModelNotFound and anything else to ModelNotReady. */
  private async send<T>(t: DownloadTarget, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (cause) {
      if (isS3NotFound(cause)) throw versionNotFound(t.model, t.version);
      throw this.notReady(t, "could not be fetched from the repository", cause);
    }
  }

  private truncated(t: DownloadTarget, bytes: number, expected: number, cause?: unknown): ModelNotReady {
    this.log("model file download truncated", { model: t.model, version: t.version, bytes, expected });
    const msg = `model '${t.model}' version ${t.version}: downloaded ${bytes} bytes, expected ${expected}`;
    return new ModelNotReady(msg, cause === undefined ? undefined : { cause });
  }

  private notReady(t: DownloadTarget, what: string, cause?: unknown): ModelNotReady {
    this.log("model file fetch failed", {
      model: t.model,
      version: t.version,
      key: t.key,
      error: String(cause),
    });
    return new ModelNotReady(`model '${t.model}' version ${t.version} ${what}`, { cause });
  }
}

/** The sidecar file recording which object a cached file holds. */
export function metaPath(localPath: string): string {
  return `${localPath}.meta.json`;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isCached(localPath: string, wanted: CacheMeta): Promise<boolean> {
  try {
    const meta = JSON.parse(await readFile(metaPath(localPath), "utf8")) as Partial<CacheMeta>;
    const same =
      meta.bucket === wanted.bucket &&
      meta.key === wanted.key &&
      meta.etag === wanted.etag &&
      meta.size === wanted.size;
    return same && (await stat(localPath)).size === wanted.size;
  } catch {
    return false; // no, unreadable or corrupt sidecar, or no file: download again
  }
}
