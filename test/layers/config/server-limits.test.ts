/**
 * The HTTP_* bounds: read and validated once, and applied to a real Node server (a plain one here;
 * the gateway's and the container's own servers are probed in their tests).
 */
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../../layers/config/env";
import {
  applyServerLimits,
  DEFAULT_SERVER_LIMITS,
  readServerLimits,
} from "../../../layers/config/server-limits";
import { type Listening, listen } from "../../support/server";
import { expectSlowClientsBounded, idle, rawClient, SMALL_SERVER_LIMITS } from "../../support/slow-clients";

let server: Listening | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const served = async (env: Record<string, string>, backendTimeoutMs: number) => {
  server = await listen(async (req) => new Response(await req.text()));
  applyServerLimits(server.server, readServerLimits(env, backendTimeoutMs));
  // listen() resolved after 'listening': restart so the checking interval is read again.
  const port = Number(new URL(server.url).port);
  await new Promise<void>((r) => server?.server.close(() => r()));
  await new Promise<void>((r) => server?.server.listen(port, "127.0.0.1", r));
  return port;
};

describe("server limits", () => {
  it("defaults to bounds a slow mobile client survives and a slow-loris cannot hold past 20 s", () => {
    expect(readServerLimits({}, 30_000)).toEqual(DEFAULT_SERVER_LIMITS);
    expect(DEFAULT_SERVER_LIMITS.headersTimeoutMs).toBe(20_000);
    // The idle bound stays above the backend timeout, or a slow inference's socket would be cut.
    expect(readServerLimits({}, 90_000).idleTimeoutMs).toBe(95_000);
  });

  it("names the variable of a bad or inconsistent value", () => {
    expect(() => readServerLimits({ HTTP_MAX_CONNECTIONS: "0" }, 1000)).toThrow(ConfigError);
    expect(() =>
      readServerLimits({ HTTP_HEADERS_TIMEOUT_MS: "5000", HTTP_REQUEST_TIMEOUT_MS: "4000" }, 1000),
    ).toThrow(/^HTTP_REQUEST_TIMEOUT_MS: must be at least HTTP_HEADERS_TIMEOUT_MS/);
    expect(() => readServerLimits({ HTTP_IDLE_TIMEOUT_MS: "30000" }, 30_000)).toThrow(
      /^HTTP_IDLE_TIMEOUT_MS: must be longer than BACKEND_TIMEOUT_MS/,
    );
  });

  it("closes slow heads, slow bodies, idle sockets and connections past the cap", async () => {
    await expectSlowClientsBounded(await served(SMALL_SERVER_LIMITS, 100), "/echo");
  });

  it("closes a socket with no traffic after HTTP_IDLE_TIMEOUT_MS when the head bound is longer", async () => {
    const port = await served({ HTTP_HEADERS_TIMEOUT_MS: "20000", HTTP_IDLE_TIMEOUT_MS: "500" }, 100);
    // Destroyed by the idle bound (no 408: that is the head bound's answer), long before 20 s.
    const ended = await rawClient(port, idle, 10_000);
    expect(ended.firstLine).toBe("");
  });
});
