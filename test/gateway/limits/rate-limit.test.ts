import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { newKeyRecord } from "../../../gateway/auth/keys";
import { type AuthEnv, authMiddleware } from "../../../gateway/auth/middleware";
import { MemoryKeyStore } from "../../../gateway/auth/store";
import { rateLimitMiddleware, retryAfterSeconds } from "../../../gateway/limits/rate-limit";
import { RateLimiter } from "../../../gateway/limits/token-bucket";
import { onError } from "../auth/harness";

async function setup() {
  let t = 0;
  const store = new MemoryKeyStore();
  const slow = newKeyRecord({ name: "slow", models: "*", rateLimit: { rps: 0.5, burst: 3 } });
  const other = newKeyRecord({ name: "other", models: "*", rateLimit: { rps: 0.5, burst: 1 } });
  await store.put(slow.record);
  await store.put(other.record);
  const app = new Hono<AuthEnv>();
  app.onError(onError);
  app.use(authMiddleware({ store, open: false }));
  app.use(rateLimitMiddleware({ limiter: new RateLimiter({ now: () => t }) }));
  app.post("/v2/models/:m/infer", (c) => c.text("ok"));
  const call = (key: string) =>
    app.request("/v2/models/m/infer", { method: "POST", headers: { "x-api-key": key } });
  return { call, slow: slow.key, other: other.key, advance: (ms: number) => (t += ms) };
}

describe("rateLimitMiddleware", () => {
  it("serves the burst, then answers 429 with Retry-After in whole seconds", async () => {
    const { call, slow, advance } = await setup();
    for (let i = 0; i < 3; i++) expect((await call(slow)).status).toBe(200);
    const limited = await call(slow);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("2"); // 1 token at 0.5/s
    expect(await limited.json()).toEqual({
      error: "rate limit exceeded: 0.5 requests/s with bursts of 3; retry in 2 s",
    });
    advance(1_500);
    const later = await call(slow);
    expect(later.status).toBe(429);
    expect(later.headers.get("retry-after")).toBe("1"); // 0.5 s left, rounded up
    advance(500);
    expect((await call(slow)).status).toBe(200);
    expect((await call(slow)).status).toBe(429);
  });

  it("keeps keys apart", async () => {
    const { call, slow, other } = await setup();
    for (let i = 0; i < 3; i++) await call(slow);
    expect((await call(slow)).status).toBe(429);
    expect((await call(other)).status).toBe(200);
    expect((await call(other)).status).toBe(429);
  });

  it("does not limit requests without an identity unless told how", async () => {
    let t = 0;
    const open = new Hono();
    open.onError(onError);
    open.use(rateLimitMiddleware({ limiter: new RateLimiter({ now: () => t }) }));
    open.get("/", (c) => c.text("ok"));
    for (let i = 0; i < 20; i++) expect((await open.request("/")).status).toBe(200);

    const global = new Hono();
    global.onError(onError);
    global.use(
      rateLimitMiddleware({
        limiter: new RateLimiter({ now: () => t }),
        identify: () => ({ id: "anonymous", limit: { rps: 1, burst: 1 } }),
      }),
    );
    global.get("/", (c) => c.text("ok"));
    expect((await global.request("/")).status).toBe(200);
    expect((await global.request("/")).status).toBe(429);
    t += 1000;
    expect((await global.request("/")).status).toBe(200);
  });

  it("rounds Retry-After up to at least one second", () => {
    expect([0.1, 999, 1000, 1001, 2500].map(retryAfterSeconds)).toEqual([1, 1, 1, 2, 3]);
  });
});
