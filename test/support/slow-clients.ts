/**
 * Slow and idle clients on raw sockets, as a slow-loris would send them: what a server answers and
 * when it closes each one. Used against every Node server we run, with its timeouts set small.
 */
import { connect } from "node:net";
import { expect } from "vitest";

/** How one raw connection ended. */
export interface Ended {
  /** The first line the server wrote ("" if it wrote nothing). */
  firstLine: string;
  /** Milliseconds from connecting until the server closed it. */
  closedAfterMs: number;
}

/** What `client` writes: called once connected, with a writer that stops when the socket closes. */
export type Client = (
  write: (bytes: string) => void,
  every: (ms: number, bytes: () => string) => void,
) => void;

/** Opens a connection to 127.0.0.1:`port`, runs `client` on it, resolves when the server closes it. */
export function rawClient(port: number, client: Client, giveUpMs = 30_000): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const timers: NodeJS.Timeout[] = [];
    let received = "";
    const socket = connect(port, "127.0.0.1", () => {
      const write = (bytes: string) => {
        if (!socket.destroyed && socket.writable) socket.write(bytes);
      };
      client(write, (ms, bytes) => timers.push(setInterval(() => write(bytes()), ms)));
    });
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server still holds the connection after ${giveUpMs} ms`));
    }, giveUpMs);
    socket.on("data", (d: Buffer) => {
      received += d.toString("latin1");
    });
    socket.on("error", () => {}); // a reset is a close too
    socket.on("close", () => {
      for (const t of timers) clearInterval(t);
      clearTimeout(giveUp);
      resolve({ firstLine: received.split("\r\n")[0] ?? "", closedAfterMs: Date.now() - start });
    });
  });
}

/** A connection that never sends a byte. */
export const idle: Client = () => {};

/** A request head sent one byte every `ms`, never finished. */
export const slowHead =
  (ms: number): Client =>
  (_write, every) => {
    let i = 0;
    every(ms, () => "GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Slow: "[i++] ?? "a");
  };

/** A full head announcing 100000 body bytes to `path` (a route that reads its body), then one body byte every `ms`. */
export const slowBody =
  (path: string, ms: number): Client =>
  (write, every) => {
    write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`);
    every(ms, () => "a");
  };

/** One complete request on a keep-alive connection, then silence. */
export const keepAliveThenIdle: Client = (write) => {
  write("GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n");
};

/** HTTP_* variables that make every bound small enough to test in a second or two. */
export const SMALL_SERVER_LIMITS = {
  HTTP_HEADERS_TIMEOUT_MS: "600",
  HTTP_REQUEST_TIMEOUT_MS: "1200",
  HTTP_KEEP_ALIVE_TIMEOUT_MS: "300",
  HTTP_MAX_CONNECTIONS: "40",
} as const;

/**
 * Runs the slow-loris cases against a server configured with SMALL_SERVER_LIMITS: slow head, slow
 * body, idle and keep-alive-idle sockets (`each` of every kind at once), then the connection cap.
 */
export async function slowLoris(port: number, inferPath: string, each = 5) {
  const many = (client: Client) => Promise.all(Array.from({ length: each }, () => rawClient(port, client)));
  const [heads, bodies, idles, keptAlive] = await Promise.all([
    many(slowHead(100)),
    many(slowBody(inferPath, 100)),
    many(idle),
    many(keepAliveThenIdle),
  ]);
  // The cap: 40 idle connections fill it, the 41st is dropped without an answer.
  const holders = Array.from({ length: 40 }, () => rawClient(port, idle));
  await new Promise((r) => setTimeout(r, 100));
  const refused = await rawClient(port, idle);
  await Promise.all(holders);
  return { heads, bodies, idles, keptAlive, refused };
}

/**
 * Asserts what SMALL_SERVER_LIMITS promise: slow heads, slow bodies and idle sockets get 408 and are
 * closed (Node's defaults would hold them 60 s or 300 s, past rawClient's 30 s), an idle keep-alive
 * socket is closed without a word, and a connection past the cap is dropped unanswered.
 */
export async function expectSlowClientsBounded(port: number, inferPath: string): Promise<void> {
  const r = await slowLoris(port, inferPath);
  for (const e of [...r.heads, ...r.bodies, ...r.idles]) {
    expect(e.firstLine).toBe("HTTP/1.1 408 Request Timeout");
  }
  for (const e of r.keptAlive) expect(e.firstLine).toBe("HTTP/1.1 200 OK");
  expect(r.refused.firstLine).toBe("");
}
