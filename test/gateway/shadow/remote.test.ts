/**
 * The gateway's hand-over to the comparison function (AWS), through the unmodified Lambda client
 * and the local Lambda API: an event over the async payload limit is skipped, a throttled Invoke
 * dropped; both are counted in EMF with {model, version} and neither throws into the request.
 */
import type { LambdaClient } from "@aws-sdk/client-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteShadow } from "../../../gateway/shadow/remote";
import type { InferContext } from "../../../layers/http";
import { type AwsApi, localLambdaClient, startLambdaApi } from "../../support/aws-apis";

const tensor = (name: string, n: number) => ({
  name,
  datatype: "FP32" as const,
  shape: [n],
  data: new Float32Array(n),
});
const shadow = { version: 1, percent: 100, argmax: [] };

let api: AwsApi;
let client: LambdaClient;

beforeAll(async () => {
  api = await startLambdaApi([], { throttle: ["throttled"] });
  client = localLambdaClient(api);
});
afterAll(async () => {
  client?.destroy();
  await api?.close();
});

/** A hand-over to `functionName` whose EMF lines land in the returned list. */
function remote(functionName: string, payloadLimit?: number) {
  const printed: string[] = [];
  const r = new RemoteShadow({
    client,
    functionName,
    namespace: "EdgeInfer",
    emit: (lines) => printed.push(...lines),
    ...(payloadLimit === undefined ? {} : { payloadLimit }),
  });
  return { r, printed };
}

/** The context of an unpinned request for `m` carrying `n` floats, live answer from version 2. */
function job(n: number): [InferContext, { version: string; outputs: ReturnType<typeof tensor>[] }] {
  const ctx = {
    model: "m",
    requestId: "req-1",
    version: undefined,
    request: { inputs: [tensor("x", n)] },
    description: { config: { release: { tolerance: { abs: 1e-4, rel: 1e-3 } } } },
  } as unknown as InferContext;
  return [ctx, { version: "2", outputs: [tensor("y", n)] }];
}

describe("RemoteShadow", () => {
  it("skips an event over the payload limit without calling Lambda, and counts it", async () => {
    const { r, printed } = remote("compare", 4096);
    const [ctx, live] = job(2048);
    await r.send(ctx, shadow, live);
    expect(api.calls).toEqual([]);
    expect(printed.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ model: "m", version: "2", shadow_skipped: 1 }),
    ]);
  });

  it("counts a throttled hand-over as dropped and does not throw", async () => {
    const { r, printed } = remote("throttled");
    const [ctx, live] = job(4);
    await expect(r.send(ctx, shadow, live)).resolves.toBeUndefined();
    expect(api.calls).toEqual(["throttled"]);
    expect(printed.map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ model: "m", version: "2", shadow_dropped: 1 }),
    ]);
  });
});
