/**
 * Bounds on slow and idle clients for every Node HTTP server we run (the local gateway and the model
 * container): Node's defaults (60 s for headers, 300 s per request, no idle bound, no connection cap)
 * let a slow-loris hold sockets for minutes. Read once from the environment, applied with one call.
 */
import type { Server } from "node:http";
import { ConfigError, type Env, envText, integer } from "./env";

/** Timeouts and the connection cap of one HTTP server. */
export interface ServerLimits {
  /** HTTP_HEADERS_TIMEOUT_MS, default 20000: the whole request head must arrive within this. */
  headersTimeoutMs: number;
  /** HTTP_REQUEST_TIMEOUT_MS, default 120000: the whole request (head and body) must arrive within this. */
  requestTimeoutMs: number;
  /** HTTP_KEEP_ALIVE_TIMEOUT_MS, default 5000: an idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** HTTP_IDLE_TIMEOUT_MS, default 75000: a socket with no traffic either way (a client that stops reading) is closed. */
  idleTimeoutMs: number;
  /** HTTP_MAX_CONNECTIONS, default 1024: connections past this are refused at once. */
  maxConnections: number;
}

/** The defaults: a mobile client on a slow link survives them, a slow-loris holds a socket 20 s at most. */
export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 75_000,
  maxConnections: 1_024,
};

/**
 * Reads the HTTP_* variables. `backendTimeoutMs` is the longest a response may take to start: an
 * idle timeout below it would cut a slow inference's socket, so it is refused.
 */
export function readServerLimits(env: Env, backendTimeoutMs: number): ServerLimits {
  const text = envText(env);
  const d = DEFAULT_SERVER_LIMITS;
  const ms = (name: string, fallback: number) => integer(name, text(name), fallback, 1, 3_600_000);
  const limits: ServerLimits = {
    headersTimeoutMs: ms("HTTP_HEADERS_TIMEOUT_MS", d.headersTimeoutMs),
    requestTimeoutMs: ms("HTTP_REQUEST_TIMEOUT_MS", d.requestTimeoutMs),
    keepAliveTimeoutMs: ms("HTTP_KEEP_ALIVE_TIMEOUT_MS", d.keepAliveTimeoutMs),
    idleTimeoutMs: ms("HTTP_IDLE_TIMEOUT_MS", Math.max(d.idleTimeoutMs, backendTimeoutMs + 5_000)),
    maxConnections: integer(
      "HTTP_MAX_CONNECTIONS",
      text("HTTP_MAX_CONNECTIONS"),
      d.maxConnections,
      1,
      1_000_000,
    ),
  };
  if (limits.requestTimeoutMs < limits.headersTimeoutMs) {
    throw new ConfigError(
      "HTTP_REQUEST_TIMEOUT_MS",
      `must be at least HTTP_HEADERS_TIMEOUT_MS (${limits.headersTimeoutMs}), got ${limits.requestTimeoutMs}`,
    );
  }
  if (limits.idleTimeoutMs <= backendTimeoutMs) {
    throw new ConfigError(
      "HTTP_IDLE_TIMEOUT_MS",
      `must be longer than BACKEND_TIMEOUT_MS (${backendTimeoutMs}), or a slow inference's socket is cut; got ${limits.idleTimeoutMs}`,
    );
  }
  return limits;
}

/**
 * Applies `limits` to a server just created (before it emits 'listening': Node reads the checking
 * interval when it starts listening). Head and request timeouts answer 408 and close the socket.
 */
export function applyServerLimits(server: Server, limits: ServerLimits): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.maxConnections = limits.maxConnections;
  server.setTimeout(limits.idleTimeoutMs);
  // Node checks the two timeouts every 30 s by default, which would let a 20 s bound hold for 50 s.
  const check = Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4)));
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = check;
}
