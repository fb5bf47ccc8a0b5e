import { getEventListeners } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { DynamicBatcher, type RunBatch } from "../../../layers/batching";
import { BackendTimeout, InvalidInput, ModelNotReady, Overloaded } from "../../../layers/errors";
import type { Tensor } from "../../../layers/protocol/types";
import { doubler, fp32, gate, gated, tick, track } from "./helpers";
import { make, values } from "./make";

/** Every value of input "x" that reached the run function, in order. */
function ran(calls: Tensor[][]): number[] {
  return calls.flatMap((inputs) => values(inputs[0]));
}

/** Submits one single-row request of input "x" per value, in order. */
function submitEach(batcher: DynamicBatcher, vs: number[]) {
  return vs.map((v) => batcher.submit([fp32("x", 1, 1, v)]));
}

describe("failures", () => {
  it("rejects only the failing batch's requests, with the real error; the next batch succeeds", async () => {
    const boom = new Error("kernel exploded");
    const { run: inner, calls } = doubler();
    const g = gate();
    let n = 0;
    const run: RunBatch = async (inputs, outputs) => {
      n++;
      if (n === 1) {
        await g.wait;
        throw boom;
      }
      return inner(inputs, outputs);
    };
    const { batcher, infos } = make(run);
    const a = batcher.submit([fp32("x", 1, 1, 1)]);
    const b = batcher.submit([fp32("x", 2, 1, 2)]);
    await tick();
    const c = batcher.submit([fp32("x", 1, 1, 7)]);
    g.open();
    const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
    expect(ra).toEqual({ status: "rejected", reason: boom });
    expect(rb).toEqual({ status: "rejected", reason: boom });
    expect(rc.status === "fulfilled" && values(rc.value.outputs[0])).toEqual([14]);
    expect(infos.map((i) => i.requests)).toEqual([2, 1]);
    expect(calls).toHaveLength(1);
  });

  it("rejects a run function that throws synchronously like one that rejects", async () => {
    const { batcher } = make(() => {
      throw new TypeError("not a promise");
    });
    await expect(batcher.submit([fp32("x", 1, 1, 0)])).rejects.toThrow("not a promise");
    expect(batcher.stats()).toEqual({ queued: 0, running: 0, batches: 1, requests: 1 });
  });

  it("ignores an onBatch hook that throws", async () => {
    const { run } = doubler();
    const batcher = new DynamicBatcher({
      run,
      maxBatchSize: 2,
      preferredBatchSizes: [],
      maxQueueDelayMicros: 0,
      maxQueueSize: 0,
      defaultTimeoutMicros: 0,
      onBatch: () => {
        throw new Error("metrics down");
      },
    });
    const r = await batcher.submit([fp32("x", 1, 1, 4)]);
    expect(values(r.outputs[0])).toEqual([8]);
  });
});

describe("bounded queue, deadlines, abort", () => {
  it("refuses with Overloaded (retry after 1 s) beyond maxQueueSize waiting requests", async () => {
    const { run: inner, calls } = doubler();
    const { run, open } = gated(inner);
    const { batcher } = make(run, { maxQueueSize: 2 });
    const a = batcher.submit([fp32("x", 1, 1, 1)]);
    await tick(); // a is running, not waiting
    const b = batcher.submit([fp32("x", 1, 1, 2)]);
    const c = batcher.submit([fp32("x", 1, 1, 3)]);
    const d = batcher.submit([fp32("x", 1, 1, 4)]);
    await expect(d).rejects.toBeInstanceOf(Overloaded);
    await expect(d).rejects.toMatchObject({
      kind: "overloaded",
      retryAfter: 1,
      message: "model queue is full (2 requests waiting): retry later",
    });
    expect(batcher.stats()).toEqual({ queued: 2, running: 1, batches: 1, requests: 1 });
    open();
    await Promise.all([a, b, c]);
    expect(ran(calls)).toEqual([1, 2, 3]);
  });

  it("rejects a request still queued past its deadline with BackendTimeout, and never runs it", async () => {
    const { run: inner, calls } = doubler();
    const { run, open } = gated(inner);
    const { batcher } = make(run, { defaultTimeoutMicros: 20_000 });
    const a = batcher.submit([fp32("x", 1, 1, 1)]);
    await tick();
    const late = track(batcher.submit([fp32("x", 1, 1, 2)])); // default deadline
    const patient = batcher.submit([fp32("x", 1, 1, 3)], undefined, { timeoutMicros: 0 }); // none
    // A 60 ms timer fires after the 20 ms deadline timer: ordering, not speed, is asserted.
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(late.state).toBe("rejected");
    expect(late.error).toBeInstanceOf(BackendTimeout);
    expect((late.error as Error).message).toMatch(
      /^request waited \d+ µs in the model queue, past its deadline of 20000 µs$/,
    );
    expect(batcher.stats().queued).toBe(1);
    open();
    await Promise.all([a, patient]);
    expect(ran(calls)).toEqual([1, 3]);
    expect(batcher.stats()).toEqual({ queued: 0, running: 0, batches: 2, requests: 2 });
  });

  it("a per-request timeout overrides the default, and a dispatched request no longer times out", async () => {
    const { run: inner } = doubler();
    const { run, open } = gated(inner);
    const { batcher } = make(run, { defaultTimeoutMicros: 0 });
    const a = batcher.submit([fp32("x", 1, 1, 1)], undefined, { timeoutMicros: 5_000 });
    await tick(); // a is dispatched: its deadline no longer applies
    const b = track(batcher.submit([fp32("x", 1, 1, 2)], undefined, { timeoutMicros: 5_000 }));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(b.state).toBe("rejected");
    expect(b.error).toBeInstanceOf(BackendTimeout);
    open();
    expect(values((await a).outputs[0])).toEqual([2]);
  });

  it("removes a queued request when its signal aborts, with the signal's reason", async () => {
    const { run: inner, calls } = doubler();
    const { run, open } = gated(inner);
    const { batcher } = make(run);
    const running = new AbortController();
    const a = batcher.submit([fp32("x", 1, 1, 1)], undefined, { signal: running.signal });
    await tick();
    const queued = new AbortController();
    const b = batcher.submit([fp32("x", 1, 1, 2)], undefined, { signal: queued.signal });
    const c = batcher.submit([fp32("x", 1, 1, 3)]);
    expect(batcher.stats().queued).toBe(2);
    const reason = new Error("client went away");
    queued.abort(reason);
    running.abort(new Error("too late: already running"));
    await expect(b).rejects.toBe(reason);
    expect(batcher.stats().queued).toBe(1);
    open();
    const [ra, rc] = await Promise.all([a, c]);
    expect(values(ra.outputs[0])).toEqual([2]);
    expect(values(rc.outputs[0])).toEqual([6]);
    expect(ran(calls)).toEqual([1, 3]);
  });

  it("listens on a request's signal, and arms its deadline, only while it waits", async () => {
    const { run: inner } = doubler();
    const { run, open } = gated(inner);
    const { batcher } = make(run, { defaultTimeoutMicros: 60_000_000 });
    const listeners = (s: AbortSignal) => getEventListeners(s, "abort").length;
    // Dispatched in the microtask that schedules it: neither a listener nor a timer, ever.
    const alone = new AbortController();
    const addAlone = alone.signal.addEventListener.bind(alone.signal);
    let added = 0;
    alone.signal.addEventListener = (...args: Parameters<typeof addAlone>) => {
      added++;
      addAlone(...args);
    };
    const timers = vi.spyOn(globalThis, "setTimeout");
    const a = batcher.submit([fp32("x", 1, 1, 1)], undefined, { signal: alone.signal });
    await tick();
    expect(batcher.stats()).toMatchObject({ queued: 0, running: 1 });
    expect(added).toBe(0);
    expect(timers).not.toHaveBeenCalled();
    // Queued behind the running batch: it listens (and would leave on abort) until it is dispatched.
    const waiting = new AbortController();
    const b = batcher.submit([fp32("x", 1, 1, 2)], undefined, { signal: waiting.signal });
    await tick();
    expect(batcher.stats().queued).toBe(1);
    expect(listeners(waiting.signal)).toBe(1);
    expect(timers).toHaveBeenCalledTimes(1); // its deadline
    timers.mockRestore();
    open();
    const [ra, rb] = await Promise.all([a, b]);
    expect(values(ra.outputs[0])).toEqual([2]);
    expect(values(rb.outputs[0])).toEqual([4]);
    expect(listeners(waiting.signal)).toBe(0);
    expect(added).toBe(0);
  });

  it("refuses at once a request whose signal is already aborted", async () => {
    const { run, calls } = doubler();
    const { batcher } = make(run);
    const p = batcher.submit([fp32("x", 1, 1, 1)], undefined, { signal: AbortSignal.abort() });
    await expect(p).rejects.toMatchObject({ name: "AbortError" });
    await tick();
    expect(calls).toHaveLength(0);
  });
});

describe("close and concurrency", () => {
  it("close() rejects queued requests with ModelNotReady, lets the running batch finish, refuses new ones", async () => {
    const { run: inner, calls } = doubler();
    const { run, open } = gated(inner);
    const { batcher } = make(run);
    const a = batcher.submit([fp32("x", 1, 1, 1)]);
    await tick();
    const b = batcher.submit([fp32("x", 1, 1, 2)]);
    const closed = track(batcher.close());
    await expect(b).rejects.toBeInstanceOf(ModelNotReady);
    await expect(b).rejects.toThrow("model is shutting down: the request was not run");
    await expect(batcher.submit([fp32("x", 1, 1, 3)])).rejects.toThrow("shutting down");
    await tick();
    expect(closed.state).toBe("pending");
    open();
    expect(values((await a).outputs[0])).toEqual([2]);
    await tick();
    expect(closed.state).toBe("fulfilled");
    expect(ran(calls)).toEqual([1]);
  });

  it("runs up to maxConcurrentBatches batches at once", async () => {
    const gates = [gate(), gate()];
    let active = 0;
    let peak = 0;
    const { run: inner } = doubler();
    const run: RunBatch = async (inputs, outputs) => {
      active++;
      peak = Math.max(peak, active);
      await gates[Math.min(peak, 2) - 1]?.wait;
      active--;
      return inner(inputs, outputs);
    };
    const { batcher } = make(run, { maxConcurrentBatches: 2, maxBatchSize: 1 });
    const ps = submitEach(batcher, [1, 2, 3]);
    await tick();
    expect(batcher.stats()).toEqual({ queued: 1, running: 2, batches: 2, requests: 2 });
    for (const g of gates) g.open();
    const rs = await Promise.all(ps);
    expect(rs.map((r) => values(r.outputs[0])[0])).toEqual([2, 4, 6]);
    expect(peak).toBe(2);
  });

  it("sends a second batch beside a running one only when it is full; a partial one waits for more", async () => {
    const { run: inner, calls } = doubler();
    const { run, open } = gated(inner);
    const { batcher, infos } = make(run, { maxConcurrentBatches: 2, maxBatchSize: 4 });
    // The first goes alone (no delay): the run is held, so what follows queues beside it.
    const first = batcher.submit([fp32("x", 1, 1, 1)]);
    await tick();
    const partial = submitEach(batcher, [2, 3]);
    await tick();
    // Two waiting with a batch running: no second batch for them (and no timer spinning).
    expect(batcher.stats()).toEqual({ queued: 2, running: 1, batches: 1, requests: 1 });
    const more = submitEach(batcher, [4, 5]);
    const done = track(Promise.all([...partial, ...more]));
    await tick();
    // Four waiting fill a batch: it went at once and is answered while the first is still held.
    expect(batcher.stats()).toEqual({ queued: 0, running: 1, batches: 2, requests: 5 });
    expect(done.state).toBe("fulfilled");
    open();
    const rs = await Promise.all([first, ...partial, ...more]);
    expect(rs.map((r) => values(r.outputs[0])[0])).toEqual([2, 4, 6, 8, 10]);
    expect(infos.map((i) => i.requests)).toEqual([1, 4]);
    // The full batch ran while the first was held.
    expect(ran(calls)).toEqual([2, 3, 4, 5, 1]);
  });

  it("with two instances, sends a partial batch beside one running batch; beside two, only a full one", async () => {
    const { run: inner, calls } = doubler();
    // The first two batches are held: two instances computing.
    const { run, open } = gated(inner, 2);
    const { batcher, infos } = make(run, { maxConcurrentBatches: 3, instances: 2, maxBatchSize: 4 });
    const first = batcher.submit([fp32("x", 1, 1, 1)]);
    await tick();
    // One instance computing: two requests go at once as a partial batch to the other.
    const second = submitEach(batcher, [2, 3]);
    await tick();
    expect(batcher.stats()).toEqual({ queued: 0, running: 2, batches: 2, requests: 3 });
    // Both computing: a partial batch waits...
    const partial = submitEach(batcher, [4, 5]);
    await tick();
    expect(batcher.stats()).toEqual({ queued: 2, running: 2, batches: 2, requests: 3 });
    // ...until it is full: then it goes beside them.
    const more = submitEach(batcher, [6, 7]);
    await tick();
    expect(batcher.stats()).toEqual({ queued: 0, running: 2, batches: 3, requests: 7 });
    open();
    const rs = await Promise.all([first, ...second, ...partial, ...more]);
    expect(rs.map((r) => values(r.outputs[0])[0])).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(infos.map((i) => i.requests)).toEqual([1, 2, 4]);
    expect(ran(calls)).toEqual([4, 5, 6, 7, 1, 2, 3]);
  });

  it("refuses more instances than batches allowed at once", () => {
    expect(() => make(doubler().run, { maxConcurrentBatches: 1, instances: 2 })).toThrow(
      "instances (2) must be at most maxConcurrentBatches (1)",
    );
    expect(() => make(doubler().run, { maxConcurrentBatches: 2, instances: 0 })).toThrow(RangeError);
  });

  it("sends a partial batch once the running one is done", async () => {
    const { run: inner } = doubler();
    const { run, open } = gated(inner);
    const { batcher, infos } = make(run, { maxConcurrentBatches: 2, maxBatchSize: 4 });
    const first = batcher.submit([fp32("x", 1, 1, 1)]);
    await tick();
    const second = batcher.submit([fp32("x", 1, 1, 2)]);
    await tick();
    expect(batcher.stats().running).toBe(1);
    open();
    const rs = await Promise.all([first, second]);
    expect(rs.map((r) => values(r.outputs[0])[0])).toEqual([2, 4]);
    expect(infos.map((i) => i.requests)).toEqual([1, 1]);
  });
});

describe("validation", () => {
  it("refuses requests that cannot be batched, naming the tensor", async () => {
    const { run, calls } = doubler();
    const { batcher } = make(run);
    await expect(batcher.submit([])).rejects.toThrow("request has no inputs: expected at least one tensor");
    await expect(batcher.submit([fp32("x", 1, 1, 0), fp32("w", 2, 1, 0)])).rejects.toThrow(
      'input "x" has batch size 1 but input "w" has 2: every input must share dim 0',
    );
    await expect(batcher.submit([{ ...fp32("x", 1, 1, 0), shape: [] }])).rejects.toThrow(
      'input "x" has shape [] but batching needs a batch dimension first',
    );
    await expect(batcher.submit([{ ...fp32("x", 1, 3, 0), shape: [0, 3] }])).rejects.toThrow(
      'input "x" has batch size 0, expected an integer >= 1',
    );
    await expect(batcher.submit([{ ...fp32("x", 1, 3, 0), shape: [2, 3] }])).rejects.toThrow(
      'input "x" has 3 elements, expected 6 for shape [2,3]',
    );
    await expect(batcher.submit([{ ...fp32("x", 1, 3, 0), datatype: "INT32" }])).rejects.toThrow(
      'input "x" holds data of the wrong type for datatype INT32',
    );
    await expect(batcher.submit([fp32("x", 1, 1, 0), fp32("x", 1, 1, 0)])).rejects.toBeInstanceOf(
      InvalidInput,
    );
    await expect(batcher.submit([fp32("x", 1, 1, 0)], undefined, { timeoutMicros: -1 })).rejects.toThrow(
      "timeout -1 µs is invalid: expected a number >= 0",
    );
    await tick();
    expect(calls).toHaveLength(0);
  });

  it("refuses a misconfigured batcher at construction, naming the option", () => {
    const { run } = doubler();
    const base = {
      run,
      maxBatchSize: 4,
      preferredBatchSizes: [],
      maxQueueDelayMicros: 0,
      maxQueueSize: 0,
      defaultTimeoutMicros: 0,
    };
    expect(() => new DynamicBatcher({ ...base, maxBatchSize: 0 })).toThrow(
      "DynamicBatcher: maxBatchSize must be an integer >= 1, received 0",
    );
    expect(() => new DynamicBatcher({ ...base, preferredBatchSizes: [2, 8] })).toThrow(
      "DynamicBatcher: preferredBatchSizes holds 8, expected integers from 1 to maxBatchSize 4",
    );
    expect(() => new DynamicBatcher({ ...base, maxQueueDelayMicros: -1 })).toThrow(
      "DynamicBatcher: maxQueueDelayMicros must be a finite number >= 0, received -1",
    );
    expect(() => new DynamicBatcher({ ...base, maxConcurrentBatches: 0 })).toThrow(RangeError);
  });
});
