import { describe, expect, it } from "vitest";
import { SingleFlight } from "../../../gateway/cache/single-flight";

function gate<T>() {
  let open: (v: T) => void = () => {};
  let fail: (e: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

describe("SingleFlight", () => {
  it("runs concurrent calls with the same key once and shares the result", async () => {
    const sf = new SingleFlight();
    const g = gate<number>();
    let calls = 0;
    const all = Array.from({ length: 20 }, () =>
      sf.do("k", () => {
        calls++;
        return g.promise;
      }),
    );
    expect(sf.size).toBe(1);
    g.open(42);
    expect(await Promise.all(all)).toEqual(Array.from({ length: 20 }, () => 42));
    expect(calls).toBe(1);
    expect(sf.size).toBe(0);
  });

  it("keeps different keys apart", async () => {
    const sf = new SingleFlight();
    const [a, b] = await Promise.all([sf.do("a", async () => "A"), sf.do("b", async () => "B")]);
    expect([a, b]).toEqual(["A", "B"]);
  });

  it("shares a failure with that flight's waiters but does not remember it", async () => {
    const sf = new SingleFlight();
    const g = gate<string>();
    let calls = 0;
    const fn = () => {
      calls++;
      return g.promise;
    };
    const waiters = [sf.do("k", fn), sf.do("k", fn)];
    g.fail(new Error("backend down"));
    for (const w of waiters) await expect(w).rejects.toThrow("backend down");
    expect(await sf.do("k", async () => "ok")).toBe("ok");
    expect(calls).toBe(1);
  });

  it("turns a synchronous throw into a rejection and clears the flight", async () => {
    const sf = new SingleFlight();
    await expect(
      sf.do("k", () => {
        throw new Error("sync");
      }),
    ).rejects.toThrow("sync");
    expect(sf.size).toBe(0);
  });

  it("lets a waiter leave without failing the others, and aborts the call once all have left", async () => {
    const sf = new SingleFlight();
    const g = gate<string>();
    let seen: AbortSignal | undefined;
    const fn = (signal: AbortSignal) => {
      seen = signal;
      return g.promise;
    };
    const [a, b] = [new AbortController(), new AbortController()];
    const first = sf.do("k", fn, a.signal);
    const second = sf.do("k", fn, b.signal);
    await Promise.resolve();
    a.abort(new Error("a left"));
    await expect(first).rejects.toThrow("a left");
    expect(seen?.aborted).toBe(false);
    b.abort(new Error("b left"));
    await expect(second).rejects.toThrow("b left");
    expect(seen?.aborted).toBe(true);
    // A newcomer does not join the aborted call: it starts its own.
    expect(sf.size).toBe(0);
    expect(await sf.do("k", async () => "fresh")).toBe("fresh");
    g.open("late");
  });

  it("never aborts a call that a waiter without a signal shares", async () => {
    const sf = new SingleFlight();
    const g = gate<string>();
    let seen: AbortSignal | undefined;
    const leaving = new AbortController();
    const first = sf.do(
      "k",
      (signal) => {
        seen = signal;
        return g.promise;
      },
      leaving.signal,
    );
    const staying = sf.do("k", async () => "unused");
    leaving.abort(new Error("left"));
    await expect(first).rejects.toThrow("left");
    g.open("done");
    expect(await staying).toBe("done");
    expect(seen?.aborted).toBe(false);
  });
});
