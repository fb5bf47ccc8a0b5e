/**
 * nodeClientSignal on a real Node server: one signal per connection, aborted when that connection
 * closes; requests on another connection have their own.
 */
import { Agent, request } from "node:http";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientClosed } from "../../../layers/errors";
import { nodeClientSignal } from "../../../layers/http/node-client";
import { type Listening, listen } from "../../support/server";

const seen: Array<AbortSignal | undefined> = [];
let server: Listening;

beforeAll(async () => {
  const app = new Hono();
  app.get("/", (c) => {
    seen.push(nodeClientSignal(c));
    return c.text("ok");
  });
  server = await listen(app.fetch);
});

afterAll(() => server?.close());

/** GET / over `agent`; resolves once the answer was read. */
const get = (agent: Agent) =>
  new Promise<void>((resolve, reject) => {
    request(`${server.url}/`, { agent }, (res) => {
      res.resume();
      res.on("end", resolve);
    })
      .on("error", reject)
      .end();
  });

describe("nodeClientSignal", () => {
  it("gives the requests of one connection one signal, and aborts it when the connection closes", async () => {
    const one = new Agent({ keepAlive: true, maxSockets: 1 });
    const other = new Agent({ keepAlive: true, maxSockets: 1 });
    seen.length = 0;
    for (let i = 0; i < 3; i++) await get(one);
    await get(other);
    const [first, second, third, elsewhere] = seen;
    expect(first).toBeInstanceOf(AbortSignal);
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(elsewhere).not.toBe(first);
    // Answers written in full abort nothing: the client is still connected.
    expect(first?.aborted).toBe(false);
    one.destroy();
    for (let i = 0; i < 100 && first?.aborted !== true; i++) await new Promise((r) => setTimeout(r, 10));
    expect(first?.aborted).toBe(true);
    expect(first?.reason).toBeInstanceOf(ClientClosed);
    expect(elsewhere?.aborted).toBe(false);
    other.destroy();
  });

  it("is undefined for a request not served by the node adapter", async () => {
    const app = new Hono();
    app.get("/", (c) => c.json({ signal: nodeClientSignal(c) === undefined }));
    expect(await (await app.request("/")).json()).toEqual({ signal: true });
  });
});
