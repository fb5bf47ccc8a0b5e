import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { BackendFailure, ModelNotFound, ModelNotReady } from "../../../layers/errors";
import { FileRepository } from "../../../layers/repository/file";
import { openRepository } from "../../../layers/repository/index";
import { illegalNamesAreNotFound, rejection } from "./contract";

const DEMO = fileURLToPath(new URL("../../../functions/models", import.meta.url));

let base: string;
let root: string;
let repo: FileRepository;

async function put(path: string, content: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), content);
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), "repo-file-"));
  root = join(base, "root");
  // A model outside the root: reaching it by name would be a path traversal.
  await mkdir(join(base, "secret", "1"), { recursive: true });
  await writeFile(join(base, "secret", "config.json"), "{}");
  await writeFile(join(base, "secret", "1", "model.onnx"), "secret");
  await put("a/config.json", JSON.stringify({ name: "a", max_batch_size: 2 }));
  await put("a/1/model.onnx", "one");
  await put("a/2/model.onnx", "two");
  await put("a/10/model.onnx", "ten");
  await put("a/07/model.onnx", "not canonical");
  await put("a/x/model.onnx", "not numeric");
  await put("a/3/weights.bin", "no model.onnx");
  await put("b/config.json", "{}");
  await put("b/1/model.onnx", "b1");
  await put("nocfg/1/model.onnx", "no config");
  await put("empty/notes.txt", "neither config.json nor a version");
  await put("bad/config.json", "{ nope");
  await put("invalid/config.json", JSON.stringify({ max_batch_size: -1 }));
  await put("dircfg/config.json/keep", "config.json is a directory");
  await put("we ird/config.json", "{}");
  await put("file.txt", "not a model");
  await put("store/real.onnx", "linked bytes");
  await put("lnk/config.json", "{}");
  await mkdir(join(root, "lnk", "1"));
  await symlink(join(root, "store", "real.onnx"), join(root, "lnk", "1", "model.onnx"));
  await symlink(join(root, "b"), join(root, "alias"));
  repo = new FileRepository(root);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("FileRepository on a temp dir", () => {
  test("listModels: directories (or links to them) with a config.json, legal names, sorted", async () => {
    expect(await repo.listModels()).toEqual(["a", "alias", "b", "bad", "invalid", "lnk", "nocfg"]);
  });

  test("readConfig parses and applies defaults", async () => {
    const c = await repo.readConfig("a");
    expect(c.name).toBe("a");
    expect(c.max_batch_size).toBe(2);
    expect(c.cache).toEqual({ enabled: true, ttl_seconds: 3600 });
  });

  test("readConfig of a missing model is ModelNotFound", async () => {
    const e = await rejection(() => repo.readConfig("zz"));
    expect(e).toBeInstanceOf(ModelNotFound);
    expect(e.message).toBe("model 'zz' not found in repository");
    expect(await rejection(() => repo.readConfig("empty"))).toBeInstanceOf(ModelNotFound);
    expect(await rejection(() => repo.readConfig("file.txt"))).toBeInstanceOf(ModelNotFound);
  });

  illegalNamesAreNotFound(
    ["../secret", "..", ".", "", "a/../b", "a/1", "we ird", "%2e%2e", "a\0"],
    () => repo,
  );

  test("unparsable config.json is ModelNotReady naming the file", async () => {
    const e = await rejection(() => repo.readConfig("bad"));
    expect(e).toBeInstanceOf(ModelNotReady);
    expect(e.message).toBe("config.json of model 'bad' is not valid JSON");
    expect(e.cause).toBeInstanceOf(SyntaxError);
  });

  test("an invalid config.json is ModelNotReady naming the field", async () => {
    const e = await rejection(() => repo.readConfig("invalid"));
    expect(e).toBeInstanceOf(ModelNotReady);
    expect(e.message).toBe(
      "config.json of model 'invalid': max_batch_size must be a non-negative integer, received -1",
    );
  });

  test("an unreadable config.json is ModelNotReady with the cause kept", async () => {
    const e = await rejection(() => repo.readConfig("dircfg"));
    expect(e).toBeInstanceOf(ModelNotReady);
    expect(e.message).toBe("config.json of model 'dircfg' cannot be read");
    expect((e.cause as { code?: string }).code).toBe("EISDIR");
  });

  test("listVersions: canonical numeric dirs holding model.onnx, numeric order", async () => {
    expect(await repo.listVersions("a")).toEqual([1, 2, 10]);
    expect(await repo.listVersions("lnk")).toEqual([1]);
  });

  test("a folder of versions without config.json is a model with the defaults; one with neither is not", async () => {
    expect(await repo.listVersions("nocfg")).toEqual([1]);
    const config = await repo.readConfig("nocfg");
    expect(config).toMatchObject({ name: "nocfg", platform: "onnxruntime_onnx", max_batch_size: 0 });
    expect(config.inputs).toBeUndefined();
    const e = await rejection(() => repo.listVersions("empty"));
    expect(e).toBeInstanceOf(ModelNotFound);
    expect(e.message).toBe("model 'empty' not found in repository");
  });

  test("fetchModel returns the real path of the file", async () => {
    const path = await repo.fetchModel("a", 10);
    expect(path).toBe(await realpath(join(root, "a", "10", "model.onnx")));
    expect(await readFile(path, "utf8")).toBe("ten");
    const linked = await repo.fetchModel("lnk", 1);
    expect(linked).toBe(await realpath(join(root, "store", "real.onnx")));
    expect(await readFile(linked, "utf8")).toBe("linked bytes");
  });

  test("fetchModel of a missing version or model", async () => {
    const missing = await rejection(() => repo.fetchModel("a", 5));
    expect(missing).toBeInstanceOf(ModelNotFound);
    expect(missing.message).toBe("model 'a' version 5 not found in repository");
    const noModel = await rejection(() => repo.fetchModel("zz", 1));
    expect(noModel.message).toBe("model 'zz' not found in repository");
    // "07" is not version 7's directory name; version 3 has no model.onnx.
    expect((await rejection(() => repo.fetchModel("a", 7))).message).toBe(
      "model 'a' version 7 not found in repository",
    );
    expect((await rejection(() => repo.fetchModel("a", 3))).message).toBe(
      "model 'a' version 3 not found in repository",
    );
  });

  test.each([0, -1, 1.5, Number.NaN, 2 ** 60])("fetchModel version %s is ModelNotFound", async (v) => {
    const e = await rejection(() => repo.fetchModel("a", v));
    expect(e).toBeInstanceOf(ModelNotFound);
    expect(e.message).toBe(`model 'a' version ${v} not found in repository`);
  });

  test("openRepository with a file:// URL and with a plain path", async () => {
    const byUrl = openRepository(pathToFileURL(root).href);
    expect(byUrl).toBeInstanceOf(FileRepository);
    expect(byUrl.uri).toBe(pathToFileURL(root).href);
    expect(await byUrl.listVersions("b")).toEqual([1]);
    const byPath = openRepository(root);
    expect(byPath.uri).toBe(root);
    expect(await byPath.listModels()).toEqual(await repo.listModels());
  });

  test("listModels of a missing root is BackendFailure without the path", async () => {
    const logged: Array<[string, object | undefined]> = [];
    const gone = new FileRepository(join(base, "nowhere"), "file:///nowhere", (msg, fields) =>
      logged.push([msg, fields]),
    );
    const e = await rejection(() => gone.listModels());
    expect(e).toBeInstanceOf(BackendFailure);
    expect(e.message).toBe("model repository cannot be listed");
    expect(logged[0]?.[0]).toBe("model repository cannot be listed");
    expect(JSON.stringify(logged[0]?.[1])).toContain("ENOENT");
  });
});

describe("FileRepository on the demo repository", () => {
  const demo = new FileRepository(DEMO);

  test("lists the ocr pipeline and the three OCR models", async () => {
    expect(await demo.listModels()).toEqual(["ocr", "ocr-cls", "ocr-det", "ocr-rec"]);
  });

  test.each(["ocr-cls", "ocr-det", "ocr-rec"])(
    "%s: config parses, version 1 resolves into the package",
    async (m) => {
      const config = await demo.readConfig(m);
      expect(config.name).toBe(m);
      expect(config.platform).toBe("onnxruntime_onnx");
      expect(config.inputs?.[0]?.name).toBe("x");
      // ocr-cls 2 is the demo's generated shadow version (test/support/demo-variant-setup.ts).
      expect(await demo.listVersions(m)).toEqual(m === "ocr-cls" ? [1, 2] : [1]);
      const path = await demo.fetchModel(m, 1);
      expect(path).toContain(join("node_modules", "@gutenye", "ocr-models", "assets"));
      expect(path.endsWith(".onnx")).toBe(true);
      // ONNX files are protobuf; a real model is far bigger than a few bytes.
      expect((await readFile(path)).length).toBeGreaterThan(100_000);
    },
  );
});
