/**
 * The model container's repository extension over loopback: the index of its one model, unload
 * (404, /ping 503) and load back, a newer version made live by load unless MODEL_VERSION pins it,
 * and other models refused.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFunctionConfig } from "../../../functions/model/config";
import { createServerApp } from "../../../functions/model/server";
import { createModelService, type ModelService } from "../../../functions/model/service";
import { modelConfig, offsetModel, writeModelDir } from "../../support/models";
import { type Listening, listen } from "../../support/server";

let dir: string;
let service: ModelService;
let server: Listening;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "container-repository-"));
  await writeModelDir(dir, "grow", modelConfig("grow"), { 1: offsetModel(1) });
  await writeModelDir(dir, "other", modelConfig("other"), { 1: offsetModel(1) });
  const config = readFunctionConfig({
    MODEL_NAME: "grow",
    MODEL_REPOSITORY: pathToFileURL(dir).href,
    LOG_LEVEL: "SILENT",
  });
  service = createModelService(config);
  await service.warm();
  server = await listen(createServerApp(service).fetch);
}, 60_000);

afterAll(async () => {
  await server?.close();
  await service?.close();
  await rm(dir, { recursive: true, force: true });
});

const post = (path: string, body?: unknown) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

async function version(): Promise<string> {
  const res = await post("/v2/models/grow/infer", {
    inputs: [{ name: "x", datatype: "FP32", shape: [1], data: [0] }],
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { model_version: string }).model_version;
}

describe("model container: repository extension", () => {
  it("lists model_repository in GET /v2 and indexes its one model", async () => {
    const server_ = (await (await fetch(`${server.url}/v2`)).json()) as { extensions: string[] };
    expect(server_.extensions).toContain("model_repository");
    expect(await (await post("/v2/repository/index")).json()).toEqual([
      { name: "grow", version: "1", state: "READY", reason: "" },
    ]);
  });

  it("unloads (404, /ping 503) and loads back; load makes a newer version live", async () => {
    expect((await post("/v2/repository/models/grow/unload")).status).toBe(200);
    expect((await post("/v2/models/grow/infer", { inputs: [] })).status).toBe(404);
    expect((await fetch(`${server.url}/ping`)).status).toBe(503);
    await writeModelDir(dir, "grow", modelConfig("grow"), { 2: offsetModel(2) });
    const load = await post("/v2/repository/models/grow/load");
    expect(load.status).toBe(200);
    expect(await load.json()).toEqual({});
    expect((await fetch(`${server.url}/ping`)).status).toBe(200);
    expect(await version()).toBe("2");
  });

  it("refuses the models it does not serve", async () => {
    const res = await post("/v2/repository/models/other/load");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe(
      `unknown model "other": this server serves "grow"`,
    );
  });
});
