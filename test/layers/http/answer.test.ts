import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { outgoingHeader, plainAnswer, setOutgoingHeader } from "../../../layers/http/answer";

/** An app whose route answers with `answer()` and whose middleware adds `x-added` on the way out. */
function appAnswering(answer: () => Response) {
  const app = new Hono();
  const seen: Array<string | undefined> = [];
  app.use(async (c, next) => {
    await next();
    seen.push(outgoingHeader(c, "X-Trace"));
    setOutgoingHeader(c, "x-added", "1");
  });
  app.get("/", () => answer());
  return { app, seen };
}

describe("plainAnswer and the headers added on the way out", () => {
  it("adds a header to a plain answer, keeping its status, body and headers", async () => {
    const { app, seen } = appAnswering(() =>
      plainAnswer(new TextEncoder().encode("hello"), 201, { "Content-Type": "text/plain", "X-Trace": "t1" }),
    );
    const res = await app.request("/");
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("hello");
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(res.headers.get("x-added")).toBe("1");
    // Read in any case.
    expect(seen).toEqual(["t1"]);
  });

  it("replaces a header the answer has in another case instead of sending it twice", async () => {
    const app = new Hono();
    app.use(async (c, next) => {
      await next();
      setOutgoingHeader(c, "server-timing", "total;dur=2");
    });
    app.get("/", () => plainAnswer(new Uint8Array(1), 200, { "Server-Timing": "total;dur=1" }));
    const res = await app.request("/");
    expect(res.headers.get("server-timing")).toBe("total;dur=2");
  });

  it("adds a header to any other response through its Headers", async () => {
    const app = new Hono();
    app.use(async (c, next) => {
      await next();
      expect(outgoingHeader(c, "x-trace")).toBe("t2");
      expect(outgoingHeader(c, "x-absent")).toBeUndefined();
      setOutgoingHeader(c, "x-added", "2");
    });
    app.get("/", (c) => c.json({ ok: true }, 200, { "X-Trace": "t2" }));
    const res = await app.request("/");
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get("x-added")).toBe("2");
  });

  it("copies a response whose headers cannot change, so the header is not lost", async () => {
    const { app } = appAnswering(() => Response.redirect("http://example.test/elsewhere", 302));
    const res = await app.request("/");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("http://example.test/elsewhere");
    expect(res.headers.get("x-added")).toBe("1");
  });
});
