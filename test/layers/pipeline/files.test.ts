/** A pipeline's files, the same tree on disk and in S3 (s3rver): versions, reads, listings, bounds. */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { directoryFiles, type PipelineFiles, s3Files } from "../../../layers/pipeline";
import { type S3rverHandle, startS3rver } from "../../support/s3rver";

const TREE: Record<string, string> = {
  "p/config.json": "{}",
  "p/1/keys.txt": "a\nb\n",
  "p/1/samples/b.json": "{}",
  "p/1/samples/a.json": "{}",
  "p/2/keys.txt": "c\n",
  "p/notes/readme.txt": "not a version",
  "secret.txt": "outside every model",
};

let dir: string;
let s3: S3rverHandle;
const kinds: Record<string, () => PipelineFiles> = {
  "a directory": () => directoryFiles(dir),
  "an s3:// prefix": () => s3Files({ client: s3.client, bucket: "repo", keyPrefix: "m/" }),
};

beforeAll(async () => {
  [dir, s3] = await Promise.all([mkdtemp(join(tmpdir(), "pipeline-files-")), startS3rver(["repo"])]);
  for (const [path, text] of Object.entries(TREE)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
    await s3.client.send(new PutObjectCommand({ Bucket: "repo", Key: `m/${path}`, Body: text }));
  }
});
afterAll(async () => {
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

describe.each(Object.keys(kinds))("pipeline files in %s", (kind) => {
  const files = () => (kinds[kind] as () => PipelineFiles)();
  const text = async (p: Promise<Uint8Array>) => new TextDecoder().decode(await p);

  it("lists the numeric version directories, ascending", async () => {
    expect(await files().versions("p")).toEqual([1, 2]);
    expect(await files().versions("absent")).toEqual([]);
  });

  it("reads a version's file, normalising its path", async () => {
    expect(await text(files().read("p", 1, "keys.txt"))).toBe("a\nb\n");
    expect(await text(files().read("p", 2, "./samples/../keys.txt"))).toBe("c\n");
  });

  it("lists a folder of a version by name; an absent one is empty", async () => {
    expect(await files().list("p", 1, "samples")).toEqual(["a.json", "b.json"]);
    expect(await files().list("p", 2, "samples")).toEqual([]);
  });

  it.each([
    ["../../secret.txt", "model 'p': file '../../secret.txt' is outside its version directory"],
    ["/etc/passwd", "model 'p': file '/etc/passwd' is outside its version directory"],
    ["missing.txt", "model 'p' version 1: file 'missing.txt' cannot be read"],
  ])("refuses %s: not ready, the path named", async (path, message) => {
    await expect(files().read("p", 1, path)).rejects.toMatchObject({ kind: "model_not_ready", message });
  });
});
