/**
 * Credentials for AWS look-alikes on this machine (s3rver, LocalStack, dynalite, DynamoDB Local):
 * they accept a placeholder key, so a local endpoint must not make the start depend on AWS
 * credentials the machine has no reason to hold (the SDK would fail with CredentialsProviderError).
 */
import type { Env } from "./env";

/** The key pair sent to a local endpoint when the environment names none. */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * `{ credentials: LOCAL_CREDENTIALS }` for a loopback `endpoint` when neither AWS_ACCESS_KEY_ID nor
 * AWS_PROFILE is set; `{}` otherwise, leaving the SDK's default chain (a real endpoint, real keys).
 */
export function localEndpointCredentials(
  endpoint: string | undefined,
  env: Env = process.env,
): { credentials?: typeof LOCAL_CREDENTIALS } {
  if (endpoint === undefined || !URL.canParse(endpoint)) return {};
  if (!LOOPBACK.has(new URL(endpoint).hostname)) return {};
  if (env.AWS_ACCESS_KEY_ID !== undefined || env.AWS_PROFILE !== undefined) return {};
  return { credentials: LOCAL_CREDENTIALS };
}
