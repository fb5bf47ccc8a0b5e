/**
 * API keys: format, hashing and the stored record. A key is shown once at creation; only its
 * SHA-256 is stored, so a leaked table does not leak usable keys.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Every key starts with this, so leaked keys are easy to grep for in logs and repositories. */
export const KEY_PREFIX = "ei_";
/** `ei_` + base64url of 32 random bytes (43 characters, no padding). */
const KEY_PATTERN = /^ei_[A-Za-z0-9_-]{43}$/;
/** Characters of the key kept in clear to tell keys apart in `list` and `revoke`. */
const DISPLAY_PREFIX_LENGTH = KEY_PREFIX.length + 8;

/** Requests per second and burst of a key's token bucket. */
export interface RateLimit {
  rps: number;
  burst: number;
}

/** What the key store holds for one key (never the key itself). */
export interface KeyRecord {
  /** SHA-256 of the key, lowercase hex; the table's partition key. */
  keyHash: string;
  /** Human name, unique among active keys. */
  name: string;
  /** The first characters of the key (`ei_` + 8), enough to identify it, far too few to use it. */
  prefix: string;
  /** Models the key may call, or "*" for all. */
  models: string[] | "*";
  rateLimit: RateLimit;
  /** ISO 8601. */
  createdAt: string;
  revoked: boolean;
  /** May load and unload models (the repository extension). Absent: false. */
  admin?: boolean;
}

/** A fresh random key: `ei_<32 random bytes, base64url>`. */
export function generateKey(): string {
  return KEY_PREFIX + randomBytes(32).toString("base64url");
}

/** True when `key` has the shape of a key; anything else is refused without a store lookup. */
export function isWellFormedKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** SHA-256 of the key, lowercase hex. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** The displayable prefix of a key. */
export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}

/**
 * Constant-time comparison of two hex SHA-256 digests. The store finds the record by hash, so
 * this is defence in depth against a store that matches loosely (case, prefix, a cache bug).
 */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  if (x.length !== 32 || y.length !== 32) return false;
  return timingSafeEqual(x, y);
}

/** Validates a rate limit, naming the field that is wrong. */
export function checkRateLimit(limit: RateLimit): RateLimit {
  if (!Number.isFinite(limit.rps) || limit.rps <= 0) {
    throw new RangeError(`rps must be a positive number, got ${limit.rps}`);
  }
  if (!Number.isInteger(limit.burst) || limit.burst < 1) {
    throw new RangeError(`burst must be a positive integer, got ${limit.burst}`);
  }
  return limit;
}

/** Builds the record of a new key; returns the key (to show once) and the record (to store). */
export function newKeyRecord(opts: {
  name: string;
  models: string[] | "*";
  rateLimit: RateLimit;
  /** May load and unload models. @default false */
  admin?: boolean;
  now?: Date;
}): { key: string; record: KeyRecord } {
  const name = opts.name.trim();
  if (name === "") throw new RangeError("key name must not be empty");
  if (opts.models !== "*" && opts.models.length === 0) {
    throw new RangeError('models must list at least one model, or be "*"');
  }
  const key = generateKey();
  return {
    key,
    record: {
      keyHash: hashKey(key),
      name,
      prefix: displayPrefix(key),
      models: opts.models,
      rateLimit: checkRateLimit(opts.rateLimit),
      createdAt: (opts.now ?? new Date()).toISOString(),
      revoked: false,
      ...(opts.admin === true ? { admin: true } : {}),
    },
  };
}

/** True when the record may call `model`. */
export function allowsModel(record: KeyRecord, model: string): boolean {
  return record.models === "*" || record.models.includes(model);
}
