import { afterEach, describe, expect, it, vi } from "vitest";
import type { RunBatch } from "../../../layers/batching";
import { BackendFailure, InvalidInput } from "../../../layers/errors";
import type { Tensor } from "../../../layers/protocol/types";
import { doubler, fp32, gated, tick, track } from "./helpers";
import { make, values } from "./make";

afterEach(() => {
  vi.useRealTimers();
});

describe("stacking and splitting", () => {
  it("stacks requests of 1, 2 and 3 rows into one run and gives each its own rows, in order", async () => {
    const { run, calls } = doubler();
    const { batcher, infos } = make(run);
    const reqs = [fp32("x", 1, 4, 0), fp32("x", 2, 4, 100), fp32("x", 3, 4, 1000)];
    const results = await Promise.all(reqs.map((x) => batcher.submit([x])));

    expect(calls).toHaveLength(1);
    expect(calls[0]?.[0]?.shape).toEqual([6, 4]);
    expect(values(calls[0]?.[0])).toEqual(reqs.flatMap((x) => values(x)));
    results.forEach((r, k) => {
      const y = r.outputs[0];
      expect(y?.name).toBe("y");
      expect(y?.shape).toEqual([k + 1, 4]);
      expect(values(y)).toEqual(values(reqs[k]).map((v) => v * 2));
      expect(Number.isInteger(r.queueMicros) && r.queueMicros >= 0).toBe(true);
      expect(r.batchSize).toBe(6);
    });
    // One run, so one run time shared by the whole batch.
    expect(new Set(results.map((r) => r.runMicros)).size).toBe(1);
    expect(Number.isInteger(results[0]?.runMicros) && (results[0]?.runMicros ?? -1) >= 0).toBe(true);
    expect(infos).toHaveLength(1);
    expect(infos[0]?.size).toBe(6);
    expect(infos[0]?.requests).toBe(3);
    expect(infos[0]?.queueMicros).toHaveLength(3);
    expect(batcher.stats()).toEqual({ queued: 0, running: 0, batches: 1, requests: 3 });
  });

  it("passes a lone request's tensors through untouched (zero copy)", async () => {
    const out: Tensor = { name: "y", datatype: "FP32", shape: [2, 1], data: new Float32Array([7, 8]) };
    let seen: Tensor[] | undefined;
    const { batcher } = make(async (inputs) => {
      seen = inputs;
      return [out];
    });
    const inputs = [fp32("x", 2, 1, 0)];
    const r = await batcher.submit(inputs);
    expect(seen).toBe(inputs);
    expect(r.outputs[0]).toBe(out);
  });

  it("stacks requests listing the same inputs in another order", async () => {
    const { run, calls } = doubler();
    const { batcher } = make(run);
    const a = [fp32("x", 1, 2, 0), fp32("z", 1, 3, 10)];
    const b = [fp32("z", 1, 3, 20), fp32("x", 1, 2, 30)];
    const [ra, rb] = await Promise.all([batcher.submit(a), batcher.submit(b)]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.map((t) => `${t.name}:${t.shape.join("x")}`)).toEqual(["x:2x2", "z:2x3"]);
    expect(values(calls[0]?.[1])).toEqual([10, 11, 12, 20, 21, 22]);
    expect(values(ra?.outputs[0])).toEqual([0, 2]);
    expect(values(rb?.outputs[0])).toEqual([60, 62]);
  });

  it("stacks INT64 and BYTES tensors and splits them back", async () => {
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const calls: Tensor[][] = [];
    const run: RunBatch = async (inputs) => {
      calls.push(inputs);
      const [ids, text] = inputs;
      if (!(ids?.data instanceof BigInt64Array) || text === undefined || !Array.isArray(text.data)) {
        throw new Error("expected ids INT64 then text BYTES");
      }
      const upper = text.data.map((b) => enc.encode(dec.decode(b).toUpperCase()));
      return [
        { name: "ids2", datatype: "INT64", shape: [...ids.shape], data: ids.data.map((v) => v * 2n) },
        { name: "upper", datatype: "BYTES", shape: [...text.shape], data: upper },
      ];
    };
    const { batcher } = make(run);
    const req = (ids: bigint[], words: string[]): Tensor[] => [
      { name: "text", datatype: "BYTES", shape: [words.length, 1], data: words.map((w) => enc.encode(w)) },
      { name: "ids", datatype: "INT64", shape: [words.length, 2], data: BigInt64Array.from(ids) },
    ];
    const big = -(2n ** 40n);
    const [r1, r2] = await Promise.all([
      batcher.submit(req([1n, 2n], ["ab"])),
      batcher.submit(req([3n, 4n, big, 6n], ["cd", "éf"])),
    ]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.[0]?.shape).toEqual([3, 2]);
    expect(calls[0]?.[0]?.data).toEqual(BigInt64Array.from([1n, 2n, 3n, 4n, big, 6n]));
    expect(calls[0]?.[1]?.shape).toEqual([3, 1]);
    const words = (t: Tensor | undefined) => {
      if (t === undefined || !Array.isArray(t.data)) throw new Error("expected a BYTES tensor");
      return t.data.map((b) => dec.decode(b));
    };
    expect(r1?.outputs[0]).toEqual({
      name: "ids2",
      datatype: "INT64",
      shape: [1, 2],
      data: BigInt64Array.from([2n, 4n]),
    });
    expect(r2?.outputs[0]?.shape).toEqual([2, 2]);
    expect(r2?.outputs[0]?.data).toEqual(BigInt64Array.from([6n, 8n, big * 2n, 12n]));
    expect(words(r1?.outputs[1])).toEqual(["AB"]);
    expect(words(r2?.outputs[1])).toEqual(["CD", "ÉF"]);
    expect(r2?.outputs[1]?.shape).toEqual([2, 1]);
  });

  it("fails the whole batch with BackendFailure when an output does not have the batch's rows", async () => {
    const { batcher } = make(async (inputs) => {
      const rows = inputs[0]?.shape[0] ?? 0;
      return [{ name: "y", datatype: "FP32", shape: [rows - 1, 1], data: new Float32Array(rows - 1) }];
    });
    const results = await Promise.allSettled([
      batcher.submit([fp32("x", 1, 1, 0)]),
      batcher.submit([fp32("x", 2, 1, 0)]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    for (const r of results) {
      const e = r.status === "rejected" ? r.reason : undefined;
      expect(e).toBeInstanceOf(BackendFailure);
      expect((e as Error).message).toBe(
        'model output "y" has batch size 2, expected 3 (the rows of the batch)',
      );
    }
  });

  it("checks a lone request's outputs too", async () => {
    const { batcher } = make(async () => [
      { name: "s", datatype: "FP32", shape: [], data: new Float32Array(1) },
    ]);
    await expect(batcher.submit([fp32("x", 1, 1, 0)])).rejects.toThrow(
      'model output "s" has no batch dimension, expected 1 (the rows of the batch)',
    );
  });
});

describe("forming batches", () => {
  it("sends incompatible requests in separate batches, oldest first", async () => {
    const { run: inner, calls } = doubler();
    const { run, open } = gated(inner);
    const { batcher, infos } = make(run);
    const first = batcher.submit([fp32("x", 1, 4, 0)]);
    await tick(); // `first` runs alone and holds the batcher while the others queue
    const a = batcher.submit([fp32("x", 1, 4, 10)]);
    const b = batcher.submit([fp32("x", 1, 5, 20)]); // other non-batch dims
    const c = batcher.submit([fp32("x", 1, 4, 30)]);
    const d = batcher.submit([fp32("x", 1, 4, 40)], ["y"]); // other requested outputs
    const e = batcher.submit([
      { name: "x", datatype: "FP64", shape: [1, 4], data: new Float64Array(4).fill(5) },
    ]);
    expect(batcher.stats()).toEqual({ queued: 5, running: 1, batches: 1, requests: 1 });
    open();
    const [rf, ra, rb, rc, rd, re] = await Promise.all([first, a, b, c, d, e]);

    expect(calls.map((inputs) => `${inputs[0]?.datatype}${JSON.stringify(inputs[0]?.shape)}`)).toEqual([
      "FP32[1,4]",
      "FP32[2,4]", // a + c
      "FP32[1,5]", // b
      "FP32[1,4]", // d
      "FP64[1,4]", // e
    ]);
    expect(infos.map((i) => i.requests)).toEqual([1, 2, 1, 1, 1]);
    expect(values(rf.outputs[0])).toEqual([0, 2, 4, 6]);
    expect(values(ra.outputs[0])).toEqual([20, 22, 24, 26]);
    expect(values(rb.outputs[0])).toEqual([40, 42, 44, 46, 48]);
    expect(values(rc.outputs[0])).toEqual([60, 62, 64, 66]);
    expect(values(rd.outputs[0])).toEqual([80, 82, 84, 86]);
    expect(re.outputs[0]?.datatype).toBe("FP64");
    expect(values(re.outputs[0])).toEqual([10, 10, 10, 10]);
  });

  it("never exceeds maxBatchSize, and a request that did not fit heads the next batch", async () => {
    const { run: inner, calls } = doubler();
    const { run, open } = gated(inner);
    const { batcher, infos } = make(run, { maxBatchSize: 4 });
    const first = batcher.submit([fp32("x", 1, 1, 0)]);
    await tick();
    const r3 = batcher.submit([fp32("x", 3, 1, 10)]);
    const r2 = batcher.submit([fp32("x", 2, 1, 20)]); // 3 + 2 > 4: waits, but is not overtaken twice
    const r1a = batcher.submit([fp32("x", 1, 1, 30)]);
    const r1b = batcher.submit([fp32("x", 1, 1, 40)]);
    const r1c = batcher.submit([fp32("x", 1, 1, 50)]);
    open();
    const results = await Promise.all([first, r3, r2, r1a, r1b, r1c]);

    expect(infos.map((i) => i.size)).toEqual([1, 4, 4]);
    expect(calls.map((inputs) => values(inputs[0]))).toEqual([[0], [10, 11, 12, 30], [20, 21, 40, 50]]);
    expect(results.map((r) => values(r.outputs[0]))).toEqual([
      [0],
      [20, 22, 24],
      [40, 42],
      [60],
      [80],
      [100],
    ]);
  });

  it("splits a burst larger than maxBatchSize into full batches", async () => {
    const { run, calls } = doubler();
    const { batcher, infos } = make(run, { maxBatchSize: 4 });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, k) => batcher.submit([fp32("x", 1, 1, k)])),
    );
    expect(infos.map((i) => i.size)).toEqual([4, 2]);
    expect(calls).toHaveLength(2);
    expect(results.map((r) => values(r.outputs[0])[0])).toEqual([0, 2, 4, 6, 8, 10]);
  });

  it("refuses a request larger than maxBatchSize", async () => {
    const { run, calls } = doubler();
    const { batcher } = make(run, { maxBatchSize: 4 });
    const p = batcher.submit([fp32("x", 5, 1, 0)]);
    await expect(p).rejects.toBeInstanceOf(InvalidInput);
    await expect(p).rejects.toThrow("request batch size 5 is more than the model's max_batch_size 4");
    expect(calls).toHaveLength(0);
  });
});

describe("dispatch timing (fake clock)", () => {
  const fake = () => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });

  it("dispatches a preferred size at once, the largest one reachable, and holds the rest for the delay", async () => {
    fake();
    const { run, calls } = doubler();
    const { batcher, infos } = make(run, { preferredBatchSizes: [2, 4], maxQueueDelayMicros: 1_000_000 });
    const ps = Array.from({ length: 5 }, (_, k) => track(batcher.submit([fp32("x", 1, 1, k)])));
    await tick();
    await tick();
    expect(infos.map((i) => i.size)).toEqual([4]);
    expect(ps.map((p) => p.state)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled", "pending"]);
    await vi.advanceTimersByTimeAsync(999);
    expect(ps[4]?.state).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(ps[4]?.state).toBe("fulfilled");
    expect(ps[4]?.value?.queueMicros).toBe(1_000_000);
    expect(calls.map((inputs) => values(inputs[0]))).toEqual([[0, 1, 2, 3], [4]]);
  });

  it("sends a lone request once maxQueueDelay has passed, not before", async () => {
    fake();
    const { run, calls } = doubler();
    const { batcher } = make(run, { preferredBatchSizes: [4], maxQueueDelayMicros: 50_000 });
    const p = track(batcher.submit([fp32("x", 1, 1, 3)]));
    await tick();
    await vi.advanceTimersByTimeAsync(49);
    expect(calls).toHaveLength(0);
    expect(batcher.stats().queued).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(1);
    expect(p.state).toBe("fulfilled");
    expect(p.value?.queueMicros).toBe(50_000);
    expect(values(p.value?.outputs[0])).toEqual([6]);
  });

  it("measures the delay from the oldest request: a later one does not extend it", async () => {
    fake();
    const { run } = doubler();
    const { batcher, infos } = make(run, { maxQueueDelayMicros: 10_000 });
    const a = track(batcher.submit([fp32("x", 1, 1, 0)]));
    await vi.advanceTimersByTimeAsync(6);
    const b = track(batcher.submit([fp32("x", 1, 1, 1)]));
    await vi.advanceTimersByTimeAsync(4);
    expect([a.state, b.state]).toEqual(["fulfilled", "fulfilled"]);
    expect(infos).toEqual([{ size: 2, requests: 2, queueMicros: [10_000, 4_000] }]);
  });
});
