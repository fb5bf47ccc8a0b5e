/** EngineBackend (the in-process backend) and handleTransportEvent over it, on generated test models. */

import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Backend, EngineBackend } from "../../../layers/backend";
import { ModelEngine } from "../../../layers/engine";
import { InvalidInput, ModelNotFound } from "../../../layers/errors";
import { parseVersion } from "../../../layers/protocol/version";
import { openRepository } from "../../../layers/repository";
import type { LogSink } from "../../../layers/telemetry";
import { handleTransportEvent, inferEvent, inferResultOf } from "../../../layers/transport";
import { unchecked } from "../../support/infer";
import { makeTestRepository } from "../../support/models";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let backend: EngineBackend;

beforeAll(async () => {
  repo = await makeTestRepository();
  const engine = new ModelEngine(openRepository(pathToFileURL(repo.dir).href));
  // Live version 1 although the policy's default is 2: a function configured for version 1.
  backend = new EngineBackend(engine, { models: ["add", "pinned"], liveVersions: new Map([["add", 1]]) });
});

afterAll(async () => {
  await backend?.close();
  await repo?.cleanup();
});

const x = (values: number[]) => ({
  name: "x",
  datatype: "FP32" as const,
  shape: [values.length],
  data: new Float32Array(values),
});
const ab = () => [
  { name: "a", datatype: "FP32" as const, shape: [1, 4], data: new Float32Array([1, 2, 3, 4]) },
  { name: "b", datatype: "FP32" as const, shape: [1, 4], data: new Float32Array([1, 1, 1, 1]) },
];

describe("EngineBackend", () => {
  it("answers unversioned requests with the configured live version", async () => {
    expect(await backend.ready("add", undefined)).toBe(false);
    const d = await backend.describe("add", undefined);
    expect(d.version).toBe("1");
    expect(d.config.max_batch_size).toBe(8);
    expect(d.metadata.versions).toEqual(["1", "2"]);
    expect(await backend.ready("add", undefined)).toBe(true);
    const r = await backend.infer("add", undefined, unchecked({ inputs: ab(), outputs: [{ name: "sum" }] }));
    expect(r.version).toBe("1");
    expect(r.outputs.map((o) => [o.name, Array.from(o.data as Float32Array)])).toEqual([
      ["sum", [2, 3, 4, 5]],
    ]);
  });

  it("falls back to the version policy's default, and loads pinned versions on demand", async () => {
    expect((await backend.infer("pinned", undefined, unchecked({ inputs: [x([0])] }))).version).toBe("3");
    expect(await backend.ready("pinned", 2)).toBe(false);
    const r = await backend.infer("pinned", 2, unchecked({ inputs: [x([0, 1])] }));
    expect(r.version).toBe("2");
    expect(Array.from(r.outputs[0]?.data as Float32Array)).toEqual([2, 3]);
    expect(await backend.ready("pinned", 2)).toBe(true);
  });

  it("serves only the models it was given, and only positive integer versions", async () => {
    await expect(backend.describe("bool-not", undefined)).rejects.toThrow(
      new ModelNotFound('unknown model "bool-not"'),
    );
    expect(() => parseVersion("007")).toThrow(InvalidInput);
    expect(parseVersion("12")).toBe(12);
  });
});

describe("handleTransportEvent", () => {
  it("answers infer with a binary body of every output, keeping the request id", async () => {
    const event = JSON.parse(JSON.stringify(inferEvent("add", 2, { id: "abc", inputs: ab() })));
    const result = await handleTransportEvent(backend, event);
    expect(result).toMatchObject({
      ok: true,
      action: "infer",
      version: "2",
      headerLength: expect.any(Number),
    });
    const decoded = inferResultOf(result, "add");
    expect(decoded.outputs.map((o) => o.name)).toEqual(["sum", "diff"]);
    expect(Array.from(decoded.outputs[0]?.data as Float32Array)).toEqual([3, 4, 5, 6]);
  });

  it("answers a bug as an internal failure without its message, and logs it", async () => {
    const logged: Array<[string, (Record<string, unknown> | undefined)[]]> = [];
    const logger: LogSink = {
      debug: () => undefined,
      info: () => undefined,
      warn: () => undefined,
      error: (m, ...a) => logged.push([m, a]),
    };
    const buggy: Backend = {
      describe: () => Promise.reject(new TypeError("secret.dims is undefined")),
      ready: () => Promise.resolve(true),
      infer: () => Promise.reject(new TypeError("secret.dims is undefined")),
    };
    expect(await handleTransportEvent(buggy, { action: "metadata", model: "add" }, logger)).toEqual({
      ok: false,
      kind: "internal",
      error: "internal error in the model function",
    });
    expect(logged).toHaveLength(1);
    expect(logged[0]?.[1][0]).toMatchObject({ kind: "internal", error: "secret.dims is undefined" });
  });
});
