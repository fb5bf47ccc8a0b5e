/**
 * `npm start`: the gateway on a Node HTTP server. Local mode by default (every model of
 * MODEL_REPOSITORY in-process, warmed before the server listens); see the README for the variables.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createApp } from "./app";
import { readGatewayConfig } from "./config";
import { createRuntime } from "./runtime";

async function main(): Promise<void> {
  const config = readGatewayConfig();
  const runtime = await createRuntime(config);
  const failed = await runtime.warm();
  for (const f of failed) console.error(`model '${f.model}' failed to load: ${f.error}`);
  const server = serve(
    { fetch: createApp(runtime.deps).fetch, hostname: config.host, port: config.port },
    (info) => {
      const url = `http://${hostOf(info)}:${info.port}`;
      const example = runtime.models[0] ?? "<model>";
      console.log(
        `edge-infer ready at ${url} — ${runtime.mode}: ${runtime.models.join(", ")} — try: curl ${url}/v2/models/${example}`,
      );
    },
  ) as Server;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1); // a second signal: do not wait any longer
    stopping = true;
    console.log(`${signal}: finishing requests in flight, then exiting`);
    // close() only drops connections idle right now; keep-alive ones go idle as their requests end.
    const idle = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearInterval(idle);
      runtime.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

function hostOf(info: AddressInfo): string {
  return info.family === "IPv6" ? `[${info.address}]` : info.address;
}

main().catch((e: unknown) => {
  console.error(`edge-infer failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
