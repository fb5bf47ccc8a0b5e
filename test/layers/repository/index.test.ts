import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, test } from "vitest";
import {
  DEFAULT_CACHE_DIR,
  FileRepository,
  openRepository,
  S3Repository,
} from "../../../layers/repository/index";

const ACCEPTED = "accepted: file:///absolute/path, a plain path, s3://bucket/prefix";

describe("openRepository", () => {
  test("file:// URL → FileRepository rooted at the path", () => {
    const root = join(tmpdir(), "some repo");
    const repo = openRepository(pathToFileURL(root).href);
    expect(repo).toBeInstanceOf(FileRepository);
    expect((repo as FileRepository).root).toBe(root);
  });

  test("a plain path, relative or absolute → FileRepository", () => {
    const relative = openRepository("functions/models");
    expect((relative as FileRepository).root).toBe(resolve("functions/models"));
    expect(relative.uri).toBe("functions/models");
    expect((openRepository("/srv/models") as FileRepository).root).toBe("/srv/models");
  });

  test("s3://bucket/prefix → S3Repository; the default cache is under the OS temp dir", () => {
    const client = new S3Client({ region: "us-east-1" });
    try {
      expect(openRepository("s3://my-bucket/models/prod", { s3Client: client })).toBeInstanceOf(S3Repository);
      expect(openRepository("s3://my-bucket", { s3Client: client }).uri).toBe("s3://my-bucket");
      expect(openRepository("S3://my.bucket/a%2Fb/", { s3Client: client })).toBeInstanceOf(S3Repository);
      expect(DEFAULT_CACHE_DIR).toBe(join(tmpdir(), "edge-infer-models"));
    } finally {
      client.destroy();
    }
  });

  test.each([
    ["http://example.com/models", "unsupported scheme"],
    ["gs://bucket/models", "unsupported scheme"],
    ["", "unsupported scheme"],
    ["file://remote-host/models", "not a local file URL"],
    ["s3://Bad_Bucket/models", "invalid bucket name"],
    ["s3://ab/models", "invalid bucket name"],
    ["s3://bucket/a/../b", "invalid key prefix"],
    ["s3://bucket/a//b", "invalid key prefix"],
    ["s3://bucket//a", "invalid key prefix"],
    ["s3://bucket/./a", "invalid key prefix"],
    ["s3://bucket/models?versionId=1", "unexpected query or fragment"],
    ["s3://bucket/models#x", "unexpected query or fragment"],
    ["s3://key:secret@bucket/models", "invalid bucket name"],
    ["s3://bucket:9000/models", "invalid bucket name"],
  ])("%j is refused: %s", (uri, why) => {
    expect(() => openRepository(uri)).toThrow(
      new Error(`cannot open model repository '${uri}': ${why}; ${ACCEPTED}`),
    );
  });
});
