import { describe, expect, it } from "vitest";
import { RateLimiter, TokenBucket } from "../../../gateway/limits/token-bucket";

describe("TokenBucket", () => {
  it("allows a burst, then refills at the rate", () => {
    let t = 0;
    const b = new TokenBucket({ capacity: 3, refillPerSecond: 2, now: () => t });
    expect([b.take(), b.take(), b.take()]).toEqual([0, 0, 0]);
    expect(b.take()).toBe(500); // one token in 1/2 s
    t += 250;
    expect(b.take()).toBe(250);
    t += 250;
    expect(b.take()).toBe(0);
    t += 10_000;
    expect(b.tokens).toBe(3); // never above capacity
    expect(b.full).toBe(true);
  });

  it("ignores a clock that goes backwards", () => {
    let t = 1000;
    const b = new TokenBucket({ capacity: 1, refillPerSecond: 1, now: () => t });
    b.take();
    t = 0;
    expect(b.take()).toBe(1000);
  });

  it("refuses nonsense limits", () => {
    expect(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 })).toThrow(
      "capacity must be >= 1, got 0",
    );
    expect(() => new TokenBucket({ capacity: 1, refillPerSecond: Number.NaN })).toThrow(
      "refillPerSecond must be > 0, got NaN",
    );
  });
});

describe("RateLimiter", () => {
  it("keeps one bucket per id and renews it when the limit changes", () => {
    let t = 0;
    const r = new RateLimiter({ now: () => t });
    const limit = { rps: 1, burst: 2 };
    expect([r.take("a", limit), r.take("a", limit), r.take("a", limit)]).toEqual([0, 0, 1000]);
    expect(r.take("b", limit)).toBe(0);
    expect(r.take("a", { rps: 1, burst: 5 })).toBe(0);
    t += 1;
    expect(r.size).toBe(2);
  });

  it("bounds the buckets it keeps, idle ones first", () => {
    let t = 0;
    const r = new RateLimiter({ maxBuckets: 3, now: () => t });
    const slow = { rps: 0.001, burst: 1 };
    const fast = { rps: 1000, burst: 1 };
    r.take("busy", slow); // emptied, refills in 1000 s: not idle
    r.take("x", fast);
    r.take("y", fast);
    t += 10; // x and y are full again: idle
    r.take("z", fast);
    expect(r.size).toBeLessThanOrEqual(3);
    expect(r.take("busy", slow)).toBeGreaterThan(0); // its empty bucket survived the eviction
    for (const id of ["p", "q", "r", "s"]) r.take(id, slow);
    expect(r.size).toBeLessThanOrEqual(3); // and the cap holds when nothing is idle
  });
});
