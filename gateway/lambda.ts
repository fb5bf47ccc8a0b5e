/** The gateway on Lambda (a Function URL behind CloudFront): Hono's aws-lambda adapter around createApp. */
import { handle } from "hono/aws-lambda";
import { createApp } from "./app";
import { readGatewayConfig } from "./config";
import { bundledConsoleAssets } from "./console/assets";
import { remoteGateway } from "./deps";

const gateway = remoteGateway(readGatewayConfig(), { consoleAssets: bundledConsoleAssets() });
for (const notice of gateway.notices) console.log(notice);

/** The Lambda entry point. */
export const handler = handle(createApp(gateway.deps));
