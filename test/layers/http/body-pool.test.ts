/** Reused buffers for all-JSON bodies: reuse, bounds, and decodes that never read a reused body. */
import { beforeEach, describe, expect, it, vi } from "vitest";
import { decodeInferBody } from "../../../layers/http/decode-body";

type Pool = typeof import("../../../layers/http/body-pool");
let pool: Pool;

beforeEach(async () => {
  // The pool is module state: a fresh module per test.
  vi.resetModules();
  pool = await import("../../../layers/http/body-pool");
});

describe("takeBodyBuffer / releaseBody", () => {
  it("lends a plain Uint8Array of the size asked, whose slice is a copy", () => {
    const body = pool.takeBodyBuffer(100_000);
    expect(body.byteLength).toBe(100_000);
    expect(body.byteOffset).toBe(0);
    expect(Buffer.isBuffer(body)).toBe(false);
    body.fill(7);
    const part = body.slice(0, 10);
    body.fill(0);
    expect([...part]).toEqual(Array(10).fill(7));
  });

  it("serves the next body from a buffer handed back, the smallest that fits", () => {
    const large = pool.takeBodyBuffer(900_000);
    const small = pool.takeBodyBuffer(300_000);
    pool.releaseBody(large);
    pool.releaseBody(small);
    expect(pool.takeBodyBuffer(250_000).buffer).toBe(small.buffer);
    expect(pool.takeBodyBuffer(250_000).buffer).toBe(large.buffer);
    expect(pool.takeBodyBuffer(250_000).buffer).not.toBe(large.buffer);
  });

  it("ignores arrays it did not lend and a body handed back twice", () => {
    const foreign = new Uint8Array(1000);
    pool.releaseBody(foreign);
    expect(pool.takeBodyBuffer(10).buffer).not.toBe(foreign.buffer);
    const body = pool.takeBodyBuffer(5000);
    pool.releaseBody(body);
    pool.releaseBody(body);
    const first = pool.takeBodyBuffer(5000);
    const second = pool.takeBodyBuffer(5000);
    expect(first.buffer).toBe(body.buffer);
    expect(second.buffer).not.toBe(body.buffer);
  });

  it("keeps at most BODY_POOL_BYTES of free buffers", () => {
    const half = pool.BODY_POOL_BYTES / 2;
    const bodies = [half, half, 1024].map((n) => pool.takeBodyBuffer(n));
    for (const b of bodies) pool.releaseBody(b);
    // The first two fill the pool; the third is dropped.
    expect(pool.takeBodyBuffer(1024).buffer).toBe(bodies[0]?.buffer);
    const over = pool.takeBodyBuffer(pool.BODY_POOL_BYTES + 1);
    pool.releaseBody(over);
    expect(pool.takeBodyBuffer(pool.BODY_POOL_BYTES + 1).buffer).not.toBe(over.buffer);
  });
});

describe("a JSON body decoded from a lent buffer", () => {
  // 4 floats: the one-pass decode; 40,000: the yielding one (over 64 KB).
  it.each([4, 40_000])("keeps nothing of the buffer once handed back (%i floats)", async (n) => {
    const floats = Array.from({ length: n }, (_, i) => i / 8);
    const json = JSON.stringify({
      inputs: [
        { name: "s", datatype: "BYTES", shape: [2], data: ["hello", "wörld"] },
        { name: "x", datatype: "FP32", shape: [n], data: floats },
      ],
    });
    const bytes = Buffer.from(json);
    const body = pool.takeBodyBuffer(bytes.byteLength);
    body.set(bytes);
    const request = await decodeInferBody(body, undefined, undefined);
    pool.releaseBody(body);
    // The next request overwrites the buffer.
    const next = pool.takeBodyBuffer(bytes.byteLength);
    expect(next.buffer).toBe(body.buffer);
    next.fill(0x30);
    const strings = (request.inputs[0]?.data ?? []) as Uint8Array[];
    expect(strings.map((b) => Buffer.from(b).toString())).toEqual(["hello", "wörld"]);
    expect([...((request.inputs[1]?.data ?? []) as Float32Array)]).toEqual(floats);
  });
});
