/**
 * `npm start`: the gateway on a Node HTTP server. Local mode by default (every model of
 * MODEL_REPOSITORY in-process, warmed before the server listens); see the README for the variables.
 */
import { readGatewayConfig } from "./config";
import { startGateway } from "./serve";

try {
  const gateway = await startGateway(readGatewayConfig());
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1); // a second signal: do not wait any longer
    stopping = true;
    console.log(`${signal}: finishing requests in flight, then exiting`);
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
} catch (e) {
  console.error(`edge-infer failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
