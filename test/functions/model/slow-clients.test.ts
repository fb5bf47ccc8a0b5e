/**
 * The model container's server (functions/model/main.ts) bounds slow and idle clients by its HTTP_*
 * variables: repro 3 of issue 12 with the timeouts set small.
 */
import { afterAll, beforeAll, describe, it } from "vitest";
import { makeTestRepository } from "../../support/models";
import { type Started, startModelServer } from "../../support/server";
import { expectSlowClientsBounded, SMALL_SERVER_LIMITS } from "../../support/slow-clients";

let repo: Awaited<ReturnType<typeof makeTestRepository>>;
let proc: Started;

beforeAll(async () => {
  repo = await makeTestRepository();
  proc = await startModelServer(["--import", "tsx", "functions/model/main.ts"], repo.dir, {
    BACKEND_TIMEOUT_MS: "500",
    ...SMALL_SERVER_LIMITS,
  });
});

afterAll(async () => {
  proc?.kill();
  await repo?.cleanup();
});

describe("model container server limits", () => {
  it("closes slow heads, slow bodies, idle sockets and connections past HTTP_MAX_CONNECTIONS", async () => {
    await expectSlowClientsBounded(Number(proc.match[1]), "/v2/models/add/infer");
  });
});
