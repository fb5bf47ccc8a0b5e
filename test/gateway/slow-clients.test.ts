/**
 * The local gateway's server (gateway/serve.ts, as `npm start` runs it) bounds slow and idle clients
 * by its HTTP_* variables: repro 3 of issue 12 with the timeouts set small.
 */
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTestRepository } from "../support/models";
import { startGatewayServer, type TestGateway } from "../support/server";
import { expectSlowClientsBounded, SMALL_SERVER_LIMITS } from "../support/slow-clients";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let gateway: TestGateway;

beforeAll(async () => {
  repo = await makeTestRepository();
  gateway = await startGatewayServer({
    MODEL_REPOSITORY: pathToFileURL(repo.dir).href,
    BACKEND_TIMEOUT_MS: "500",
    ...SMALL_SERVER_LIMITS,
  });
});

afterAll(async () => {
  await gateway?.close();
  await repo?.cleanup();
});

describe("gateway server limits", () => {
  it("closes slow heads, slow bodies, idle sockets and connections past HTTP_MAX_CONNECTIONS", async () => {
    expect(gateway.runtime.models).toContain("add");
    await expectSlowClientsBounded(Number(new URL(gateway.url).port), "/v2/models/add/infer");
  });
});
