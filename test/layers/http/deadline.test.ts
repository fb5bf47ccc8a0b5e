/** withDeadline: a backend call bounded in time, and aborted when the caller goes away. */
import { describe, expect, it } from "vitest";
import { BackendTimeout } from "../../../layers/errors";
import { withDeadline } from "../../../layers/http";

describe("withDeadline", () => {
  it("passes a result through", async () => {
    expect(await withDeadline(1000, "m", undefined, async () => 42)).toBe(42);
  });

  it("rejects with BackendTimeout when the call never settles, and aborts its signal", async () => {
    let seen: AbortSignal | undefined;
    const call = withDeadline(20, 'model "m"', undefined, (signal) => {
      seen = signal;
      return new Promise<never>(() => undefined);
    });
    await expect(call).rejects.toThrow(new BackendTimeout('model "m" did not answer within 20 ms'));
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(BackendTimeout);
  });

  it("wins over the error a call throws once aborted", async () => {
    const call = withDeadline(
      20,
      "m",
      undefined,
      (signal) =>
        new Promise((_, reject) =>
          signal.addEventListener("abort", () => reject(new Error("socket hang up"))),
        ),
    );
    await expect(call).rejects.toBeInstanceOf(BackendTimeout);
  });

  it("aborts the call when the caller's signal aborts", async () => {
    const parent = new AbortController();
    let seen: AbortSignal | undefined;
    const call = withDeadline(60_000, "m", parent.signal, (signal) => {
      seen = signal;
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    });
    parent.abort(new Error("client went away"));
    await expect(call).rejects.toThrow("client went away");
    expect(seen?.aborted).toBe(true);
  });

  it("starts the call aborted when the caller's signal aborted before it", async () => {
    const parent = new AbortController();
    parent.abort(new Error("client went away"));
    let seen: AbortSignal | undefined;
    await withDeadline(60_000, "m", parent.signal, async (signal) => {
      seen = signal;
    });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toEqual(new Error("client went away"));
  });

  it("rejects with what a call throws synchronously, and clears its timer", async () => {
    const call = withDeadline(60_000, "m", undefined, () => {
      throw new Error("bad call");
    });
    await expect(call).rejects.toThrow("bad call");
  });

  it("stops listening to the caller's signal once the call settled", async () => {
    const parent = new AbortController();
    let seen: AbortSignal | undefined;
    const result = await withDeadline(60_000, "m", parent.signal, async (signal) => {
      seen = signal;
      return "ok";
    });
    parent.abort(new Error("too late"));
    expect(result).toBe("ok");
    expect(seen?.aborted).toBe(false);
  });

  it("hands a signal that ended clean to the next call, and never one that aborted or is listened to", async () => {
    const signals: AbortSignal[] = [];
    const keep = async (signal: AbortSignal) => {
      signals.push(signal);
      return 1;
    };
    await withDeadline(60_000, "m", undefined, keep);
    await withDeadline(60_000, "m", undefined, keep);
    // No AbortSignal per call (each costs the garbage collector, abort-pool.ts): the second reused the first.
    expect(signals[1]).toBe(signals[0]);
    expect(signals[1]?.aborted).toBe(false);
    // A consumer that left its listener on: that signal is not handed out again.
    const listened = await withDeadline(60_000, "m", undefined, async (signal) => {
      signal.addEventListener("abort", () => undefined);
      return signal;
    });
    const next = await withDeadline(60_000, "m", undefined, async (signal) => signal);
    expect(next).not.toBe(listened);
    // One that timed out stays aborted and is not handed out again either.
    let late: AbortSignal | undefined;
    await expect(
      withDeadline(10, "m", undefined, (signal) => {
        late = signal;
        return new Promise<never>(() => undefined);
      }),
    ).rejects.toBeInstanceOf(BackendTimeout);
    const fresh = await withDeadline(60_000, "m", undefined, async (signal) => signal);
    expect(late?.aborted).toBe(true);
    expect(fresh).not.toBe(late);
    expect(fresh.aborted).toBe(false);
  });
});
