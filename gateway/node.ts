/**
 * `npm start`: the gateway on a Node HTTP server. Local mode by default (every model of
 * MODEL_REPOSITORY in-process, warmed before the server listens); see the README for the variables.
 */
import { exitOnStopSignals } from "../layers/http/shutdown";
import { readGatewayConfig } from "./config";
import { startGateway } from "./serve";

try {
  const gateway = await startGateway(readGatewayConfig());
  exitOnStopSignals(
    () => gateway.close(),
    (line) => console.log(line),
  );
} catch (e) {
  console.error(`edge-infer failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
