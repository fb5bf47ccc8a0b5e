/**
 * SageMakerBackend through the gateway app: the AWS SDK's SageMakerRuntimeClient calls a local
 * implementation of InvokeEndpoint in front of the real model container app on loopback.
 */

import { pathToFileURL } from "node:url";
import { SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFunctionConfig } from "../../../functions/model/config";
import { createServerApp } from "../../../functions/model/server";
import { createModelService, type ModelService } from "../../../functions/model/service";
import { createApp } from "../../../gateway/app";
import { remoteCatalog } from "../../../gateway/deps";
import { InvalidInput } from "../../../layers/errors";
import { type AwsApi, startSageMakerApi } from "../../support/aws-apis";
import { unchecked } from "../../support/infer";
import { makeTestRepository } from "../../support/models";
import { type Listening, listen } from "../../support/server";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let service: ModelService;
let container: Listening;
let api: AwsApi;
let client: SageMakerRuntimeClient;
let catalog: ReturnType<typeof remoteCatalog>;

beforeAll(async () => {
  repo = await makeTestRepository();
  service = createModelService(
    readFunctionConfig({
      MODEL_NAME: "add",
      MODEL_REPOSITORY: pathToFileURL(repo.dir).href,
      LOG_LEVEL: "SILENT",
    }),
  );
  container = await listen(createServerApp(service).fetch);
  api = await startSageMakerApi({ "add-gpu": container.url });
  client = new SageMakerRuntimeClient({
    endpoint: api.url,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  catalog = remoteCatalog(
    { add: { backend: "sagemaker", target: "add-gpu" }, gone: { backend: "sagemaker", target: "gone-gpu" } },
    { region: "us-east-1", lambdaEndpoint: undefined, sagemakerEndpoint: undefined },
    { sagemaker: client },
  );
});

afterAll(async () => {
  client?.destroy();
  await api?.close();
  await container?.close();
  await service?.close();
  await repo?.cleanup();
});

const body = JSON.stringify({
  inputs: [
    { name: "a", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] },
    { name: "b", shape: [1, 4], datatype: "FP32", data: [2, 2, 2, 2] },
  ],
  outputs: [{ name: "diff" }],
});

describe("SageMakerBackend", () => {
  it("runs infer on the endpoint's container and names the version that answered", async () => {
    const app = createApp({ catalog });
    const res = await app.request("/v2/models/add/infer", { method: "POST", body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      model_name: "add",
      model_version: "2",
      outputs: [{ name: "diff", datatype: "FP32", shape: [1, 4], data: [-1, 0, 1, 2] }],
    });
    expect(api.calls.every((c) => c === "add-gpu")).toBe(true);
  });

  it("reads a domain error back from ModelError: 404 for a missing version, InvalidInput for a bad tensor", async () => {
    const app = createApp({ catalog });
    const res = await app.request("/v2/models/add/versions/5/infer", { method: "POST", body });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: "model 'add' has no version 5",
      request_id: res.headers.get("x-request-id"),
    });
    const bad = {
      inputs: [{ name: "a", datatype: "FP32" as const, shape: [1, 4], data: new Float32Array(4) }],
    };
    const err = await catalog
      .get("add")
      ?.infer("add", undefined, unchecked(bad))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInput);
    expect((err as Error).message).toBe("missing input 'b': the model's inputs are a, b");
  });

  it("answers 502 for an endpoint that does not exist, without SageMaker's message", async () => {
    const res = await createApp({ catalog }).request("/v2/models/gone");
    expect(res.status).toBe(502);
    const { error } = (await res.json()) as { error: string };
    expect(error).toBe(`the backend of model "gone" failed (request id ${res.headers.get("x-request-id")})`);
  });
});
