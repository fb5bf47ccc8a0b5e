/** The gateway on Lambda (a Function URL behind CloudFront): Hono's aws-lambda adapter around createApp. */
import { handle } from "hono/aws-lambda";
import { createApp } from "./app";
import { readGatewayConfig } from "./config";
import { remoteDeps } from "./deps";

const app = createApp(remoteDeps(readGatewayConfig()));

/** The Lambda entry point. */
export const handler = handle(app);
