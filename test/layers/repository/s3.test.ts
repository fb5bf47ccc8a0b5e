import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { BackendFailure, ModelNotFound, ModelNotReady } from "../../../layers/errors";
import { openRepository } from "../../../layers/repository/index";
import { S3Repository } from "../../../layers/repository/s3";
import { type S3rverHandle, s3rverClientConfig, startS3rver } from "../../support/s3rver";
import { illegalNamesAreNotFound, rejection } from "./contract";
import { countCommands, onePerPage, upload } from "./s3-fixture";

const DEMO = fileURLToPath(new URL("../../../functions/models/", import.meta.url));

let s3: S3rverHandle;
let cacheDir: string;

function repository(prefix: string, client: S3Client = s3.client, bucket = "models"): S3Repository {
  const uri = `s3://${bucket}/${prefix}`;
  return new S3Repository({ client, bucket, prefix, uri, cacheDir });
}

beforeAll(async () => {
  s3 = await startS3rver(["models", "flat"]);
  cacheDir = await mkdtemp(join(tmpdir(), "repo-s3-"));
  await upload(s3.client, "models", {
    "repo/a/config.json": JSON.stringify({ name: "a", max_batch_size: 2 }),
    "repo/a/1/model.onnx": "one",
    "repo/a/2/model.onnx": "two",
    "repo/a/10/model.onnx": "ten",
    "repo/a/07/model.onnx": "not canonical",
    "repo/a/x/model.onnx": "not numeric",
    "repo/a/3/weights.bin": "no model.onnx",
    "repo/a/4/sub/model.onnx": "too deep",
    "repo/b/config.json": "{}",
    "repo/b/1/model.onnx": "b1",
    "repo/nocfg/1/model.onnx": "no config",
    "repo/bad/config.json": "{ nope",
    "repo/invalid/config.json": JSON.stringify({ cache: { ttl_seconds: 0 } }),
    "repo/we ird/config.json": "{}",
    "repo/nested/deeper/config.json": "{}",
    "secret/config.json": "{}",
    "secret/1/model.onnx": "outside the prefix",
  });
  const demo: Record<string, string | Uint8Array> = {};
  for (const m of ["ocr-cls", "ocr-det", "ocr-rec"]) {
    demo[`demo/${m}/config.json`] = await readFile(`${DEMO}${m}/config.json`, "utf8");
  }
  demo["demo/ocr-cls/1/model.onnx"] = await readFile(`${DEMO}ocr-cls/1/model.onnx`);
  await upload(s3.client, "models", demo);
  await upload(s3.client, "flat", { "m/config.json": "{}", "m/3/model.onnx": "three" });
});

afterAll(async () => {
  await s3.close();
  await rm(cacheDir, { recursive: true, force: true });
});

describe("S3Repository listing and configs", () => {
  test("listModels: prefixes holding a config.json, legal names, sorted", async () => {
    expect(await repository("repo").listModels()).toEqual(["a", "b", "bad", "invalid"]);
    expect(await repository("").listModels()).toEqual(["secret"]);
    expect(await repository("", s3.client, "flat").listModels()).toEqual(["m"]);
  });

  test("listModels and listVersions follow continuation tokens", async () => {
    const client = s3.makeClient();
    onePerPage(client);
    const counts = countCommands(client);
    const repo = repository("repo", client);
    // s3rver pages objects but not common prefixes, so listModels still gets a single page here;
    // both go through the same paging loop.
    expect(await repo.listModels()).toEqual(["a", "b", "bad", "invalid"]);
    const before = counts.get("ListObjectsV2Command") ?? 0;
    expect(await repo.listVersions("a")).toEqual([1, 2, 10]);
    // repo/a/ holds 14 keys (8, and the sums of its 6 model.onnx): one page each, 14 requests.
    expect((counts.get("ListObjectsV2Command") ?? 0) - before).toBe(14);
  });

  test("the demo repository's copy", async () => {
    const repo = repository("demo");
    expect(await repo.listModels()).toEqual(["ocr-cls", "ocr-det", "ocr-rec"]);
    expect((await repo.readConfig("ocr-cls")).dynamic_batching.preferred_batch_size).toEqual([2, 4]);
    expect(await repo.listVersions("ocr-cls")).toEqual([1]);
    const path = await repo.fetchModel("ocr-cls", 1);
    expect((await readFile(path)).equals(await readFile(`${DEMO}ocr-cls/1/model.onnx`))).toBe(true);
  });

  test("readConfig parses and validates", async () => {
    const config = await repository("repo").readConfig("a");
    expect(config.max_batch_size).toBe(2);
    expect(config.version_policy).toEqual({ latest: { num_versions: 1 } });
  });

  test("readConfig of a missing model is ModelNotFound", async () => {
    const e = await rejection(() => repository("repo").readConfig("zz"));
    expect(e).toBeInstanceOf(ModelNotFound);
    expect(e.message).toBe("model 'zz' not found in repository");
    expect((await repository("repo").readConfig("nocfg")).max_batch_size).toBe(0);
  });

  test("a corrupt config.json is ModelNotReady naming the file", async () => {
    const e = await rejection(() => repository("repo").readConfig("bad"));
    expect(e).toBeInstanceOf(ModelNotReady);
    expect(e.message).toBe("config.json of model 'bad' is not valid JSON");
  });

  test("an invalid config.json names the field", async () => {
    const e = await rejection(() => repository("repo").readConfig("invalid"));
    expect(e).toBeInstanceOf(ModelNotReady);
    expect(e.message).toBe(
      "config.json of model 'invalid': cache.ttl_seconds must be a positive integer, received 0",
    );
  });

  illegalNamesAreNotFound(["../secret", "..", "", "a/1", "we ird"], () => repository("repo"));

  test("listVersions: canonical numeric prefixes holding model.onnx, numeric order", async () => {
    expect(await repository("repo").listVersions("a")).toEqual([1, 2, 10]);
    expect(await repository("", s3.client, "flat").listVersions("m")).toEqual([3]);
  });

  test("listVersions without config.json: the versions there, ModelNotFound when there are none", async () => {
    expect(await repository("repo").listVersions("nocfg")).toEqual([1]);
    for (const m of ["zz"]) {
      const e = await rejection(() => repository("repo").listVersions(m));
      expect(e).toBeInstanceOf(ModelNotFound);
      expect(e.message).toBe(`model '${m}' not found in repository`);
    }
  });

  test("missing version and missing model on fetch", async () => {
    const repo = repository("repo");
    const version = await rejection(() => repo.fetchModel("a", 5));
    expect(version).toBeInstanceOf(ModelNotFound);
    expect(version.message).toBe("model 'a' version 5 not found in repository");
    const model = await rejection(() => repo.fetchModel("zz", 1));
    expect(model).toBeInstanceOf(ModelNotFound);
    expect(model.message).toBe("model 'zz' not found in repository");
    expect((await rejection(() => repo.fetchModel("a", 0))).message).toBe(
      "model 'a' version 0 not found in repository",
    );
  });
});

describe("S3Repository when S3 cannot be reached", () => {
  let client: S3Client;
  let repo: S3Repository;
  const logged: string[] = [];

  beforeAll(async () => {
    // A port that was free a moment ago and has nothing listening: connection refused.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const address = srv.address();
        srv.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    client = new S3Client({ ...s3rverClientConfig(`http://127.0.0.1:${port}`), maxAttempts: 1 });
    repo = new S3Repository({
      client,
      bucket: "models",
      prefix: "repo",
      uri: "s3://models/repo",
      cacheDir,
      logger: (msg, fields) => logged.push(`${msg} ${JSON.stringify(fields)}`),
    });
  });

  afterAll(() => client.destroy());

  test("each call fails with a domain error that hides SDK internals and keeps the cause", async () => {
    const cases: Array<[() => Promise<unknown>, typeof ModelNotReady | typeof BackendFailure, string]> = [
      [() => repo.listModels(), BackendFailure, "model repository cannot be listed"],
      [
        () => repo.readConfig("a"),
        ModelNotReady,
        "config.json of model 'a' cannot be read from the repository",
      ],
      [() => repo.listVersions("a"), ModelNotReady, "versions of model 'a' cannot be listed"],
      [
        () => repo.fetchModel("a", 1),
        ModelNotReady,
        "model 'a' version 1 could not be fetched from the repository",
      ],
    ];
    for (const [call, kind, message] of cases) {
      const e = await rejection(call);
      expect(e).toBeInstanceOf(kind);
      expect(e.message).toBe(message);
      expect(e.cause).toBeInstanceOf(Error);
      expect(String(e.cause)).toContain("ECONNREFUSED");
    }
    expect(logged).toHaveLength(4);
    expect(logged.every((line) => line.includes("ECONNREFUSED"))).toBe(true);
  });
});

describe("openRepository for s3://", () => {
  test("builds its own client for an endpoint (path style) and reads through it", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "S3RVER");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "S3RVER");
    try {
      const repo = openRepository("s3://models/repo/", { s3Endpoint: s3.endpoint, cacheDir });
      expect(repo).toBeInstanceOf(S3Repository);
      expect(repo.uri).toBe("s3://models/repo/");
      expect(await repo.listModels()).toEqual(["a", "b", "bad", "invalid"]);
      expect(await readFile(await repo.fetchModel("b", 1), "utf8")).toBe("b1");
    } finally {
      vi.unstubAllEnvs();
    }
  });

  test("uses a given client", async () => {
    const repo = openRepository("s3://flat", { s3Client: s3.client, cacheDir });
    expect(await repo.listVersions("m")).toEqual([3]);
    const path = await repo.fetchModel("m", 3);
    expect(path).toBe(join(cacheDir, "flat", "m", "3", "model.onnx"));
  });
});
