import { describe, expect, it } from "vitest";
import { PhaseTimer, serverTiming } from "../../../layers/telemetry/timing";

describe("serverTiming", () => {
  it("formats phases and the total as name;dur=ms, comma separated", () => {
    expect(serverTiming({ queue: 0.12, decode: 1.23456, infer: 12, encode: 0 }, 13.4567)).toBe(
      "queue;dur=0.12, decode;dur=1.235, infer;dur=12, encode;dur=0, total;dur=13.457",
    );
    expect(serverTiming({}, 0.5)).toBe("total;dur=0.5");
  });

  it("turns names into tokens and skips nonsense durations", () => {
    expect(serverTiming({ "cache lookup": 1, "a,b;c": 2, "": 3, bad: Number.NaN, neg: -1 }, 7)).toBe(
      "cache_lookup;dur=1, a_b_c;dur=2, _;dur=3, total;dur=7",
    );
  });

  it("matches the Server-Timing grammar", () => {
    const header = serverTiming({ queue: 0.5, infer: 3 }, 3.75);
    for (const part of header.split(", "))
      expect(part).toMatch(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+;dur=\d+(\.\d+)?$/);
  });
});

describe("PhaseTimer", () => {
  it("records phases with an injected clock, adding repeats", async () => {
    let t = 100;
    const timer = new PhaseTimer(() => t);
    const stop = timer.start("decode");
    t += 2;
    expect(stop()).toBe(2);
    expect(stop()).toBe(0); // second stop ignored
    await timer.measure("infer", async () => {
      t += 5;
    });
    await expect(
      timer.measure("encode", () => {
        t += 1;
        throw new Error("encode failed");
      }),
    ).rejects.toThrow("encode failed");
    timer.add("infer", 1);
    timer.add("bogus", Number.NaN);
    expect(timer.phases()).toEqual({ decode: 2, infer: 6, encode: 1 });
    expect(timer.elapsed()).toBe(8);
    expect(timer.header()).toBe("decode;dur=2, infer;dur=6, encode;dur=1, total;dur=8");
  });
});
