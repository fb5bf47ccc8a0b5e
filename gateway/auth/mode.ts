/**
 * Chooses between keys and open mode from the environment, once at start. Open mode is only
 * allowed where nobody else can connect: no key table and a loopback bind address.
 */
import { isIP } from "node:net";

/** The auth mode and the line to log at start. */
export type AuthMode =
  | { mode: "open"; warning: string }
  | { mode: "keys"; table: string; endpoint: string | undefined; message: string };

/** True for 127.0.0.0/8, ::1 (also IPv4-mapped) and "localhost". */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1") return true;
  const v4 = h.startsWith("::ffff:") ? h.slice("::ffff:".length) : h;
  return isIP(v4) === 4 && v4.startsWith("127.");
}

/**
 * Reads API_KEYS_TABLE, DYNAMODB_ENDPOINT and HOST (default 127.0.0.1). Throws, naming the
 * variables, when keys are off and the gateway would be reachable from outside (any non-loopback
 * HOST, or Lambda).
 */
export function authMode(env: Record<string, string | undefined>): AuthMode {
  const table = env.API_KEYS_TABLE?.trim();
  if (table !== undefined && table !== "") {
    const endpoint = env.DYNAMODB_ENDPOINT?.trim() || undefined;
    return {
      mode: "keys",
      table,
      endpoint,
      message: `auth: API keys required (DynamoDB table "${table}"${endpoint === undefined ? "" : ` at ${endpoint}`})`,
    };
  }
  const onLambda = env.AWS_LAMBDA_FUNCTION_NAME !== undefined;
  const host = env.HOST?.trim() || "127.0.0.1";
  if (onLambda || !isLoopbackHost(host)) {
    throw new Error(
      `API_KEYS_TABLE is unset but the gateway is reachable from outside (${onLambda ? "on Lambda" : `HOST=${host}`}): ` +
        "refusing to serve without API keys; set API_KEYS_TABLE, or bind HOST to 127.0.0.1 for open local mode",
    );
  }
  return {
    mode: "open",
    warning: `auth: OPEN mode, no API key required: API_KEYS_TABLE is unset and HOST=${host} is loopback only`,
  };
}
