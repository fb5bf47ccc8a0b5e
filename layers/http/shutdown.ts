/**
 * Graceful stop of a Node HTTP server, shared by `npm start` (gateway/node.ts) and the model
 * container (functions/model/main.ts): stop accepting, let requests in flight finish, then release.
 */
import type { Server } from "node:http";

/** Closes `server` once its requests in flight have finished; keep-alive connections are dropped as they go idle. */
export function drainServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    // close() only drops connections idle right now; keep-alive ones go idle as their requests end.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearInterval(idle);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * On SIGTERM or SIGINT: says so on `log`, runs `stop`, and exits 0 (1 if it fails). A second
 * signal exits 1 at once, without waiting any longer.
 */
export function exitOnStopSignals(stop: () => Promise<void>, log: (line: string) => void): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    log(`${signal}: finishing requests in flight, then exiting`);
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}
