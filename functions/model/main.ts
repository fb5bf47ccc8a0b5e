/**
 * The model container's entry point: serves createServerApp on HOST:PORT (0.0.0.0:8080), starts
 * loading the live version at once (`/ping` answers 503 until it is warm), and on SIGTERM stops
 * accepting, finishes the requests in flight, unloads the model and exits 0.
 */
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { applyServerLimits } from "../../layers/config/server-limits";
import { drainServer, exitOnStopSignals } from "../../layers/http/shutdown";
import { createServerApp } from "./server";
import { modelService } from "./service";

function main(): void {
  // Many requests at once: the model's dynamic_batching stacks them, and inference runs on its own
  // thread (a GPU run would otherwise block HTTP work for its whole duration).
  const service = modelService({ batching: true, inferenceThread: "worker" });
  const { config, logger } = service;
  // The run metrics (EMF lines on stdout) leave once a minute, CloudWatch's resolution.
  const metricsTimer = setInterval(() => service.metrics.flush(), 60_000);
  metricsTimer.unref();
  service.warm().then(
    () => logger.info("live model version ready"),
    (e: unknown) =>
      logger.error("live model version failed to load", {
        error: e instanceof Error ? e.message : String(e),
      }),
  );
  const server = serve(
    { fetch: createServerApp(service).fetch, hostname: config.host, port: config.port },
    (info) => {
      console.log(
        `edge-infer model server for '${config.modelName}' listening on ${info.address}:${info.port}`,
      );
    },
  ) as Server;
  applyServerLimits(server, config.server);

  exitOnStopSignals(
    async () => {
      await drainServer(server);
      clearInterval(metricsTimer);
      service.metrics.flush();
      await service.close();
    },
    (line) => logger.info(line),
  );
}

try {
  main();
} catch (e) {
  console.error(`edge-infer model server failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
