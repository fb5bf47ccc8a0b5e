import { describe, expect, it } from "vitest";
import {
  allowsModel,
  checkRateLimit,
  displayPrefix,
  generateKey,
  hashesEqual,
  hashKey,
  isWellFormedKey,
  newKeyRecord,
} from "../../../gateway/auth/keys";
import { extractKey, isPublicPath } from "../../../gateway/auth/middleware";

describe("API keys", () => {
  it("generates ei_ + 43 base64url characters, all different", () => {
    const keys = new Set(Array.from({ length: 200 }, generateKey));
    expect(keys.size).toBe(200);
    for (const k of keys) {
      expect(k).toMatch(/^ei_[A-Za-z0-9_-]{43}$/);
      expect(isWellFormedKey(k)).toBe(true);
      expect(Buffer.from(k.slice(3), "base64url")).toHaveLength(32);
    }
  });

  it("refuses malformed keys", () => {
    const k = generateKey();
    for (const bad of [
      "",
      "ei_",
      k.slice(0, -1),
      `${k}x`,
      `xx_${k.slice(3)}`,
      `${k.slice(0, -1)}=`,
      ` ${k}`,
    ]) {
      expect(isWellFormedKey(bad), bad).toBe(false);
    }
  });

  it("hashes with SHA-256 hex and compares hashes exactly", () => {
    expect(hashKey("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const h = hashKey(generateKey());
    expect(hashesEqual(h, h)).toBe(true);
    expect(hashesEqual(h, hashKey(generateKey()))).toBe(false);
    expect(hashesEqual(h, h.slice(0, 62))).toBe(false);
    expect(hashesEqual(h, "zz")).toBe(false);
  });

  it("builds a record with hash, prefix and no key", () => {
    const now = new Date("2025-01-02T03:04:05Z");
    const { key, record } = newKeyRecord({
      name: " ci ",
      models: ["a"],
      rateLimit: { rps: 5, burst: 10 },
      now,
    });
    expect(record).toEqual({
      keyHash: hashKey(key),
      name: "ci",
      prefix: displayPrefix(key),
      models: ["a"],
      rateLimit: { rps: 5, burst: 10 },
      createdAt: "2025-01-02T03:04:05.000Z",
      revoked: false,
    });
    expect(record.prefix).toHaveLength(11);
    expect(JSON.stringify(record)).not.toContain(key);
  });

  it("validates names, models and limits with messages", () => {
    const rateLimit = { rps: 1, burst: 1 };
    expect(() => newKeyRecord({ name: "  ", models: "*", rateLimit })).toThrow("key name must not be empty");
    expect(() => newKeyRecord({ name: "x", models: [], rateLimit })).toThrow(
      "models must list at least one model",
    );
    expect(() => checkRateLimit({ rps: 0, burst: 1 })).toThrow("rps must be a positive number, got 0");
    expect(() => checkRateLimit({ rps: 1, burst: 1.5 })).toThrow("burst must be a positive integer, got 1.5");
  });

  it("allows listed models or all with *", () => {
    const { record } = newKeyRecord({ name: "x", models: ["a", "b"], rateLimit: { rps: 1, burst: 1 } });
    expect(allowsModel(record, "a")).toBe(true);
    expect(allowsModel(record, "c")).toBe(false);
    expect(allowsModel({ ...record, models: "*" }, "c")).toBe(true);
  });
});

describe("request parsing", () => {
  it("reads Bearer before x-api-key", () => {
    expect(extractKey(new Headers({ authorization: "Bearer k1", "x-api-key": "k2" }))).toBe("k1");
    expect(extractKey(new Headers({ authorization: "bearer   k1 " }))).toBe("k1");
    expect(extractKey(new Headers({ authorization: "Basic dXNlcjpwdw==", "x-api-key": "k2" }))).toBe("k2");
    expect(extractKey(new Headers({ authorization: "Bearer" }))).toBeUndefined();
    expect(extractKey(new Headers({ "x-api-key": "  " }))).toBeUndefined();
    expect(extractKey(new Headers())).toBeUndefined();
  });

  it("keeps only server metadata and health public", () => {
    for (const p of ["/v2", "/v2/", "/v2/health/live", "/v2/health/ready"])
      expect(isPublicPath(p), p).toBe(true);
    for (const p of ["/v2/models/a", "/v2/models/a/infer", "/metrics", "/v2/healthz", "/"]) {
      expect(isPublicPath(p), p).toBe(false);
    }
  });
});
