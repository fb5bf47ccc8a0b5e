/**
 * The auth middleware: finds the key in the request, checks it against the store and the model in
 * the path, and puts the key's record on the context for the rate limiter and the logs.
 */
import type { Context, MiddlewareHandler } from "hono";
import { DependencyUnavailable, Forbidden, Unauthorized } from "../../layers/errors";
import { BEARER_CHALLENGE } from "../../layers/http/errors";
import { targetOf } from "../../layers/http/target";
import { quote } from "../../layers/protocol/quote";
import { allowsModel, hashesEqual, hashKey, isWellFormedKey, type KeyRecord } from "./keys";
import type { KeyStore } from "./store";

/** Hono variables the auth middleware sets. `apiKey` is absent in open mode and on public routes. */
export type AuthEnv = { Variables: { apiKey?: KeyRecord } };

/** Options of authMiddleware. */
export interface AuthOptions {
  /** Where keys are looked up; wrap it in CachedKeyStore. Unused when `open`. */
  store?: KeyStore;
  /** Local mode: every request passes and no key is required. */
  open: boolean;
  /** Routes served without a key. @default isPublicPath */
  isPublic?: (path: string) => boolean;
}

/** Server metadata and health stay open so probes and load balancers need no key. */
export function isPublicPath(path: string): boolean {
  return path === "/v2" || path === "/v2/" || path.startsWith("/v2/health/");
}

/** The key a request carries: `Authorization: Bearer <key>`, else `x-api-key`. */
export function extractKey(headers: Headers): string | undefined {
  const auth = headers.get("authorization");
  if (auth !== null) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m?.[1] !== undefined) return m[1];
  }
  const header = headers.get("x-api-key")?.trim();
  return header === undefined || header === "" ? undefined : header;
}

/** The accepted ways to send a key, said by every 401 about a missing or refused one. */
const KEY_FORMS = "send 'Authorization: Bearer <key>' or 'x-api-key: <key>'";

/** The scheme of an Authorization header that is not a usable Bearer one (undefined: none sent). */
function otherScheme(header: string | undefined): string | undefined {
  const value = header?.trim();
  if (value === undefined || value === "") return undefined;
  const scheme = value.split(/[ \t]/, 1)[0] ?? value;
  // "Bearer" with no key is reported as missing, like no header at all.
  return scheme.toLowerCase() === "bearer" ? undefined : scheme.slice(0, 32);
}

function unauthorized(c: Context, message: string): Unauthorized {
  const err = new Unauthorized(message);
  // Set here as well as by the error mapper, so the challenge survives whichever builds the response.
  c.header("WWW-Authenticate", BEARER_CHALLENGE);
  return err;
}

/** Hono middleware: 401 without a valid active key, 403 for a model the key may not call. */
export function authMiddleware(options: AuthOptions): MiddlewareHandler<AuthEnv> {
  const isPublic = options.isPublic ?? isPublicPath;
  const { store } = options;
  if (!options.open && store === undefined) throw new TypeError("authMiddleware: keys mode needs a store");
  return async (c, next) => {
    if (options.open || store === undefined || isPublic(c.req.path)) return next();
    const key = extractKey(c.req.raw.headers);
    if (key === undefined) {
      const scheme = otherScheme(c.req.header("authorization"));
      // "missing" would be wrong when an Authorization header was sent: name the scheme refused.
      if (scheme !== undefined) {
        throw unauthorized(c, `Authorization scheme ${quote(scheme)} is not accepted: ${KEY_FORMS}`);
      }
      throw unauthorized(c, `missing API key: ${KEY_FORMS}`);
    }
    // A malformed key cannot match: refuse it without touching the store.
    if (!isWellFormedKey(key)) throw unauthorized(c, "invalid API key");
    const hash = hashKey(key);
    let record: KeyRecord | undefined;
    try {
      record = await store.lookup(hash);
    } catch (e) {
      // Fail closed, and keep the store's message (table names, AWS errors) out of the response.
      throw new DependencyUnavailable("the API key store is unavailable; retry later", { cause: e });
    }
    if (record === undefined || !hashesEqual(record.keyHash, hash)) throw unauthorized(c, "invalid API key");
    if (record.revoked) throw unauthorized(c, "API key has been revoked");
    const model = targetOf(c)?.model;
    if (model !== undefined && !allowsModel(record, model)) {
      throw new Forbidden(`API key ${quote(record.name)} may not use model ${quote(model)}`);
    }
    c.set("apiKey", record);
    return next();
  };
}
