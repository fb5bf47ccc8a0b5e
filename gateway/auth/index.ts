/** API keys: records, stores, the auth middleware and the start-up mode. */
import { createKeyTable, DynamoKeyStore, fromItem, keyStoreClient, toItem } from "./dynamo-store";
import { authMode } from "./mode";
import { CachedKeyStore, type KeyCacheOptions, type KeyStore } from "./store";

export { Forbidden, PayloadTooLarge, RateLimited, Unauthorized } from "../../layers/errors";
export * from "./keys";
export {
  type AuthEnv,
  type AuthOptions,
  authMiddleware,
  extractKey,
  isPublicPath,
} from "./middleware";
export { type AuthMode, authMode, isLoopbackHost } from "./mode";
export { CachedKeyStore, type KeyCacheOptions, type KeyStore, MemoryKeyStore } from "./store";
export { createKeyTable, DynamoKeyStore, fromItem, keyStoreClient, toItem };

/**
 * The key store the environment asks for: a cached DynamoKeyStore on API_KEYS_TABLE in keys mode,
 * undefined in open mode. Throws (via authMode) when open mode would be reachable from outside.
 */
export function keyStoreFromEnv(
  env: Record<string, string | undefined>,
  cache: KeyCacheOptions = {},
): { mode: ReturnType<typeof authMode>; store: KeyStore | undefined } {
  const mode = authMode(env);
  if (mode.mode === "open") return { mode, store: undefined };
  return {
    mode,
    store: new CachedKeyStore(
      new DynamoKeyStore(keyStoreClient(env.DYNAMODB_ENDPOINT, env.AWS_REGION), mode.table),
      cache,
    ),
  };
}
