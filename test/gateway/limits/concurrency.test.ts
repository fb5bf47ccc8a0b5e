import { describe, expect, it } from "vitest";
import { ConcurrencyLimiter } from "../../../gateway/limits/concurrency";
import { Overloaded } from "../../../layers/errors";

/** A promise with its resolve, to hold a slot open until the test lets go. */
function gate() {
  let open: () => void = () => undefined;
  const p = new Promise<void>((r) => {
    open = r;
  });
  return { p, open };
}

describe("ConcurrencyLimiter", () => {
  it("runs up to maxInFlight, queues up to maxQueued, sheds the rest with Overloaded", async () => {
    const lim = new ConcurrencyLimiter({ maxInFlight: 2, maxQueued: 1, retryAfterSeconds: 3 });
    const g = gate();
    const order: number[] = [];
    const running = [1, 2, 3].map((i) =>
      lim.run("m", async () => {
        order.push(i);
        await g.p;
        return i;
      }),
    );
    await Promise.resolve();
    expect(lim.stats("m")).toEqual({ inFlight: 2, queued: 1 });

    const shed = await lim.acquire("m").catch((e: unknown) => e);
    expect(shed).toBeInstanceOf(Overloaded);
    expect(shed).toMatchObject({
      kind: "overloaded",
      retryAfter: 3,
      message: 'model "m" is overloaded: 2 requests running and 1 queued',
    });
    // Another model has its own slots.
    expect(await lim.run("other", async () => "ok")).toBe("ok");

    g.open();
    expect(await Promise.all(running)).toEqual([1, 2, 3]);
    expect(order).toEqual([1, 2, 3]);
    expect(lim.stats("m")).toEqual({ inFlight: 0, queued: 0 });
  });

  it("hands slots over in FIFO order and reports the wait", async () => {
    let t = 0;
    const lim = new ConcurrencyLimiter({ maxInFlight: 1, maxQueued: 5, now: () => t });
    const first = await lim.acquire("m");
    expect(first.waitedMs).toBe(0);
    const second = lim.acquire("m");
    const third = lim.acquire("m");
    t = 40;
    first.release();
    first.release(); // extra release is ignored, not a second slot
    const p2 = await second;
    expect(p2.waitedMs).toBe(40);
    expect(lim.stats("m")).toEqual({ inFlight: 1, queued: 1 });
    p2.release();
    (await third).release();
    expect(lim.stats("m")).toEqual({ inFlight: 0, queued: 0 });
  });

  it("sheds a waiter that times out in the queue, and frees its place", async () => {
    const lim = new ConcurrencyLimiter({ maxInFlight: 1, maxQueued: 1, queueTimeoutMs: 20 });
    const held = await lim.acquire("m");
    const err = await lim.acquire("m").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Overloaded);
    expect((err as Error).message).toBe('model "m" is overloaded: no slot free within 20 ms');
    expect(lim.stats("m")).toEqual({ inFlight: 1, queued: 0 });
    held.release();
    (await lim.acquire("m")).release();
  });

  it("drops an aborted waiter", async () => {
    const lim = new ConcurrencyLimiter({ maxInFlight: 1, maxQueued: 1 });
    const held = await lim.acquire("m");
    const ac = new AbortController();
    const waiting = lim.acquire("m", ac.signal);
    ac.abort(new Error("client went away"));
    await expect(waiting).rejects.toThrow("client went away");
    expect(lim.stats("m")).toEqual({ inFlight: 1, queued: 0 });
    held.release();
  });

  it("releases the slot when the work throws", async () => {
    const lim = new ConcurrencyLimiter({ maxInFlight: 1, maxQueued: 0 });
    await expect(
      lim.run("m", async () => {
        throw new Error("backend blew up");
      }),
    ).rejects.toThrow("backend blew up");
    expect(await lim.run("m", async () => 1)).toBe(1);
  });

  it("validates its options", () => {
    expect(() => new ConcurrencyLimiter({ maxInFlight: 0, maxQueued: 0 })).toThrow(
      "maxInFlight must be an integer >= 1, got 0",
    );
    expect(() => new ConcurrencyLimiter({ maxInFlight: 1, maxQueued: -1 })).toThrow(
      "maxQueued must be an integer >= 0, got -1",
    );
  });
});
