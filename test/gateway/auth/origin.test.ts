import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import {
  ORIGIN_VERIFY_HEADER,
  ORIGIN_VERIFY_MESSAGE,
  originVerifyMiddleware,
} from "../../../gateway/auth/origin";
import { errorHandler, requestIdMiddleware } from "../../../layers/http";
import type { ProtocolEnv } from "../../../layers/http/types";
import type { LogSink as Logger } from "../../../layers/telemetry";

const SECRET = "k3YqP0aZ7rW1mV9xT4bN8cL2dF6gH5jS0uE3iO7pA1sD4fG8";

/** Every log call, as JSON text, to show the header's value never reaches the logs. */
function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log =
    (level: string) =>
    (message: string, ...attributes: Record<string, unknown>[]) => {
      lines.push(JSON.stringify({ level, message, attributes }));
    };
  return {
    logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    lines,
  };
}

/** The protocol app's chain in miniature: request id, origin check, a route, the real error mapping. */
function appWith(secret: string | undefined, logger: Logger = recordingLogger().logger) {
  const app = new Hono<ProtocolEnv>();
  app.use(requestIdMiddleware());
  app.use(originVerifyMiddleware(secret));
  app.get("/v2/health/ready", (c) => c.text("ready"));
  app.post("/v2/models/:model/infer", async (c) =>
    c.json({ model: c.req.param("model"), got: await c.req.text() }),
  );
  app.onError(errorHandler(logger));
  return app;
}

const infer = (app: Hono<ProtocolEnv>, headers: Record<string, string> = {}) =>
  app.request("/v2/models/ocr-det/infer", { method: "POST", body: "{}", headers });

describe("originVerifyMiddleware with a secret (on AWS)", () => {
  it("serves a request carrying the secret, body intact", async () => {
    const res = await infer(appWith(SECRET), { [ORIGIN_VERIFY_HEADER]: SECRET });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ model: "ocr-det", got: "{}" });
  });

  it("refuses a request without the header with 403 and the protocol's error body", async () => {
    const res = await infer(appWith(SECRET), { "x-request-id": "direct-1" });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("x-request-id")).toBe("direct-1");
    expect(await res.json()).toEqual({ error: ORIGIN_VERIFY_MESSAGE });
    expect(ORIGIN_VERIFY_MESSAGE).toBe("requests must come through the edge-infer distribution");
  });

  it("refuses wrong values of any length: empty, a prefix, one character off, longer", async () => {
    const app = appWith(SECRET);
    const offByOne = `${SECRET.slice(0, -1)}${SECRET.endsWith("8") ? "9" : "8"}`;
    for (const value of ["", SECRET.slice(0, 10), offByOne, `${SECRET}x`, SECRET.toLowerCase()]) {
      const res = await infer(app, { [ORIGIN_VERIFY_HEADER]: value });
      expect(res.status, `value ${JSON.stringify(value)}`).toBe(403);
      expect(await res.json()).toEqual({ error: ORIGIN_VERIFY_MESSAGE });
    }
  });

  it("guards every route, health included: the Function URL is public", async () => {
    const app = appWith(SECRET);
    expect((await app.request("/v2/health/ready")).status).toBe(403);
    const ok = await app.request("/v2/health/ready", { headers: { [ORIGIN_VERIFY_HEADER]: SECRET } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("ready");
  });

  it("runs before later middleware: a refused request never reaches auth", async () => {
    let reached = 0;
    const app = new Hono<ProtocolEnv>();
    app.use(requestIdMiddleware());
    app.use(originVerifyMiddleware(SECRET));
    app.use(async (_c, next) => {
      reached++;
      await next();
    });
    app.get("/v2", (c) => c.json({ name: "edge-infer" }));
    app.onError(errorHandler(recordingLogger().logger));
    expect((await app.request("/v2", { headers: { authorization: "Bearer ek_whatever" } })).status).toBe(403);
    expect(reached).toBe(0);
    expect((await app.request("/v2", { headers: { [ORIGIN_VERIFY_HEADER]: SECRET } })).status).toBe(200);
    expect(reached).toBe(1);
  });

  it("never logs the secret nor the value it received", async () => {
    const { logger, lines } = recordingLogger();
    const app = appWith(SECRET, logger);
    const guess = "guess-0123456789abcdef";
    expect((await infer(app, { [ORIGIN_VERIFY_HEADER]: guess })).status).toBe(403);
    expect((await infer(app, { [ORIGIN_VERIFY_HEADER]: SECRET })).status).toBe(200);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).toContain(ORIGIN_VERIFY_MESSAGE);
    expect(lines.join("\n")).not.toContain(guess);
    expect(lines.join("\n")).not.toContain(SECRET);
  });
});

describe("originVerifyMiddleware without a secret (local mode)", () => {
  it("lets every request through, with or without the header", async () => {
    const app = appWith(undefined);
    expect((await infer(app)).status).toBe(200);
    expect((await infer(app, { [ORIGIN_VERIFY_HEADER]: "anything" })).status).toBe(200);
  });

  it("refuses to start with an empty secret, which would open the origin", () => {
    expect(() => originVerifyMiddleware("")).toThrow(/ORIGIN_VERIFY_SECRET is set but empty/);
  });
});
