/**
 * The version rule. A cached answer belongs to the version that produced it. A pinned request
 * looks up and stores under its version. An unpinned request cannot know which version the `live`
 * alias will pick (weighted routing during a canary), so it looks up under the model's default
 * version as the gateway's metadata names it and accepts a hit only from that version; what it
 * computes is stored under the version that actually answered. Canary answers thus serve pinned
 * requests to the canary, never unpinned ones, until the metadata names the canary as default.
 */
import { type RequestKeyParts, requestDigest, versionedKey } from "./key";
import type { CachedResult } from "./types";

/** How a request addresses versions. */
export interface VersionTarget {
  /** The version in the URL (`/versions/{v}/infer`), if any. */
  pinned?: string | undefined;
  /** The version the gateway's metadata says `live` serves, if known. */
  live?: string | undefined;
}

/** The keys one request uses; what ResultCache.run takes besides a plain key. */
export interface CachePlan {
  /** Key to look up, or undefined when no version can be expected (unpinned, default unknown). */
  lookupKey: string | undefined;
  /** The version a cached entry must carry to be served. */
  expectedVersion: string | undefined;
  /** Shared by concurrent identical requests; pinned and unpinned never share a flight. */
  flightKey: string;
  /** Key to store a computed result under: the version that answered, or undefined not to store. */
  storeKey(result: CachedResult): string | undefined;
}

/** Builds the keys of a request to `model` under the version rule; hashes the tensors once. */
export function planCache(model: string, request: RequestKeyParts, target: VersionTarget): CachePlan {
  const digest = requestDigest(request);
  const expected = target.pinned ?? target.live;
  const lookupKey = expected === undefined ? undefined : versionedKey(model, expected, digest);
  // An unpinned flight may be answered by a canary, so a pinned request must not join it.
  const flightKey =
    target.pinned !== undefined
      ? `pinned:${lookupKey}`
      : `live:${versionedKey(model, target.live ?? "", digest)}`;
  return {
    lookupKey,
    expectedVersion: expected,
    flightKey,
    storeKey(result) {
      if (result.version === "") return undefined;
      // A pinned call answered by another version would be a backend bug; do not file it under the pin.
      if (target.pinned !== undefined && result.version !== target.pinned) return undefined;
      return result.version === expected && lookupKey !== undefined
        ? lookupKey
        : versionedKey(model, result.version, digest);
    },
  };
}

/** A plan for a plain key (no version rule): look up, share and store under `key`. */
export function planForKey(key: string): CachePlan {
  return { lookupKey: key, expectedVersion: undefined, flightKey: key, storeKey: () => key };
}
