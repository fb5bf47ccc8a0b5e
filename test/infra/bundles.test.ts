/** infra/bundles.ts: the three deployable bundles, their shape, and the build command. */
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLES } from "../../infra/bundles";
import { WORKER_BUNDLE_FILE } from "../../layers/engine/worker-thread";
import { buildBundles } from "../functions/model/fixtures";

let bundles: Awaited<ReturnType<typeof buildBundles>>;

beforeAll(async () => {
  bundles = await buildBundles(["gateway", "model-function", "model-server"]);
});

afterAll(() => bundles?.cleanup());

describe("bundle()", () => {
  it("builds one minified ESM file per deployable, with a source map and require() for CommonJS deps", async () => {
    expect(bundles.built.map((b) => b.name)).toEqual(["gateway", "model-function", "model-server"]);
    for (const b of bundles.built) {
      expect(b.file).toMatch(new RegExp(`/${BUNDLES[b.name].outdir}/index\\.mjs$`));
      const code = await readFile(b.file, "utf8");
      expect(b.bytes).toBe(Buffer.byteLength(code));
      expect(code.startsWith("import{createRequire as __cr}from'node:module';")).toBe(true);
      expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
      expect((await stat(`${b.file}.map`)).size).toBeGreaterThan(0);
      // Minified: a few very long lines, not one statement per line.
      expect(code.length / code.split("\n").length).toBeGreaterThan(2000);
    }
  });

  it("keeps onnxruntime-node and sharp external in the model bundles, imported on demand, and out of the gateway", async () => {
    const [gateway, fn, server] = await Promise.all(bundles.built.map((b) => readFile(b.file, "utf8")));
    expect(gateway).not.toContain("onnxruntime");
    expect(gateway).not.toMatch(/"sharp"/);
    for (const code of [fn, server]) {
      // Dynamic imports (layers/engine/ort.ts, layers/pipeline/image.ts): neither loads before it is needed.
      expect(code).toMatch(/import\("onnxruntime-node"\)/);
      expect(code).toMatch(/import\("sharp"\)/);
      expect(code).not.toMatch(/from\s*"(onnxruntime-node|sharp)"/);
    }
  });

  it("bundles prom-client only where /metrics is served: the container, not the gateway on Lambda", async () => {
    const [gateway, , server] = await Promise.all(bundles.built.map((b) => readFile(b.file, "utf8")));
    const promClient = "le is a reserved label keyword"; // one of prom-client's own messages
    expect(server).toContain(promClient);
    expect(gateway).not.toContain(promClient);
    expect(gateway).not.toContain("nv_inference_request_success");
  });

  it("writes the inference worker beside the container server's bundle (INFERENCE_THREAD=worker)", async () => {
    const server = bundles.built.find((b) => b.name === "model-server");
    const worker = await readFile(String(server?.file).replace(/index\.mjs$/, WORKER_BUNDLE_FILE), "utf8");
    expect(worker).toMatch(/import\("onnxruntime-node"\)/);
    expect(worker).toContain("parentPort");
  });

  it("refuses an unknown bundle name on the command line", async () => {
    const run = promisify(execFile)(process.execPath, ["--import", "tsx", "infra/bundles.ts", "frontend"]);
    await expect(run).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        'unknown bundle "frontend": expected gateway, model-function, model-server',
      ),
    });
  });
});
