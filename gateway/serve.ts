/**
 * The gateway on a Node HTTP server (`npm start`, and the tests' real server): builds the runtime,
 * warms the models, prints the auth mode and the ready line, and stops gracefully.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { applyServerLimits } from "../layers/config/server-limits";
import { nodeClientSignal } from "../layers/http/node-client";
import { drainServer } from "../layers/http/shutdown";
import { createApp } from "./app";
import type { GatewayConfig } from "./config";
import type { GatewayOptions } from "./deps";
import { readNodeBody } from "./node-body";
import { createRuntime, type Runtime } from "./runtime";

/** A gateway listening on HTTP. */
export interface RunningGateway {
  /** `http://<host>:<port>` */
  url: string;
  server: Server;
  runtime: Runtime;
  /** Finishes the requests in flight, then releases the models and clients. */
  close(): Promise<void>;
}

/** Options of startGateway. */
export interface StartOptions extends GatewayOptions {
  /** Start-up lines (auth mode, models that failed to load, the ready line). @default console.log */
  print?: (line: string) => void;
}

/** Starts the gateway for `config` on config.host:config.port, models warmed before it listens. */
export async function startGateway(
  config: GatewayConfig,
  options: StartOptions = {},
): Promise<RunningGateway> {
  const print = options.print ?? ((line: string) => console.log(line));
  // The node adapter reads bodies from Node's request itself: no web Request, no web stream.
  const runtime = await createRuntime(config, {
    readBody: readNodeBody,
    clientSignal: nodeClientSignal,
    ...options,
  });
  for (const notice of runtime.gateway.notices) print(notice);
  const failed = await runtime.warm();
  for (const f of failed) print(`model '${f.model}' failed to load: ${f.error}`);
  const { server, info } = await new Promise<{ server: Server; info: AddressInfo }>((resolve) => {
    const s = serve({ fetch: createApp(runtime.deps).fetch, hostname: config.host, port: config.port }, (i) =>
      resolve({ server: s, info: i }),
    ) as Server;
    applyServerLimits(s, config.server);
  });
  const url = `http://${info.family === "IPv6" ? `[${info.address}]` : info.address}:${info.port}`;
  const example = runtime.models[0] ?? "<model>";
  print(
    `edge-infer ready at ${url} — ${runtime.mode}: ${runtime.models.join(", ")} — try: curl ${url}/v2/models/${example}`,
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    runtime,
    close() {
      closing ??= drainServer(server).then(() => runtime.close());
      return closing;
    },
  };
}
