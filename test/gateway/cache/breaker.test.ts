import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../gateway/cache/breaker";

describe("CircuitBreaker", () => {
  it("opens after threshold consecutive failures, probes once after the cool-down, closes on success", () => {
    const c = { t: 0 };
    const b = new CircuitBreaker({ threshold: 3, cooldownMs: 1000, now: () => c.t });
    expect(b.failure()).toBe(false);
    b.success(); // resets the streak
    expect(b.failure()).toBe(false);
    expect(b.failure()).toBe(false);
    expect(b.state).toBe("closed");
    expect(b.failure()).toBe(true);
    expect(b.state).toBe("open");
    expect(b.allow()).toBe(false);
    c.t = 1000;
    expect(b.state).toBe("half-open");
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false); // one probe at a time
    b.success();
    expect(b.state).toBe("closed");
    expect(b.allow()).toBe(true);
  });

  it("re-opens for another cool-down when the probe fails", () => {
    const c = { t: 0 };
    const b = new CircuitBreaker({ threshold: 1, cooldownMs: 500, now: () => c.t });
    b.failure();
    c.t = 600;
    expect(b.allow()).toBe(true);
    expect(b.failure()).toBe(false); // was already open: no second "opened" log
    expect(b.state).toBe("open");
    c.t = 1099;
    expect(b.allow()).toBe(false);
    c.t = 1100;
    expect(b.allow()).toBe(true);
  });

  it("lets another probe through after release()", () => {
    const b = new CircuitBreaker({ threshold: 1, cooldownMs: 0 });
    b.failure();
    expect(b.allow()).toBe(true);
    b.release();
    expect(b.allow()).toBe(true);
  });
});
