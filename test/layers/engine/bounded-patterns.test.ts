/**
 * ORT's memory pattern for a free-dimension model, bounded (bounded-patterns.ts), on the real ocr-det
 * (input [-1, 3, -1, -1]): the first shapes run on the patterned session, later ones on a plain
 * session opened once, with the same answers.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BoundedPatternSession,
  PATTERNED_SHAPES,
  PlainSessionUnavailable,
} from "../../../layers/engine/bounded-patterns";
import { ModelEngine } from "../../../layers/engine/engine";
import { type EngineSession, openEngineSession } from "../../../layers/engine/session";
import { InvalidInput } from "../../../layers/errors";
import { openRepository } from "../../../layers/repository";
import type { SessionOptions } from "../../../layers/repository/types";
import { inferOn } from "../../support/infer";
import { buildModel, modelConfig, writeModelDir } from "../../support/models";
import { cpuOptions } from "../../support/session-options";
import { fp32 } from "../../support/tensors";

const DET = fileURLToPath(new URL("../../../functions/models/ocr-det/1/model.onnx", import.meta.url));
const cpu = cpuOptions({ intra_op_threads: 1 });
const where = { model: "ocr-det", version: 1 };
const log = () => undefined;

function image(h: number, w: number): ort.InferenceSession.FeedsType {
  const data = Float32Array.from({ length: 3 * h * w }, (_, i) => ((i * 7919) % 255) / 255 - 0.5);
  return { x: new ort.Tensor("float32", data, [1, 3, h, w]) };
}

/** A session that counts its runs and releases, and opens of it. */
class Counted implements EngineSession {
  runs = 0;
  releases = 0;
  constructor(readonly inner: ort.InferenceSession) {}
  get inputMetadata() {
    return this.inner.inputMetadata;
  }
  get outputMetadata() {
    return this.inner.outputMetadata;
  }
  run(feeds: ort.InferenceSession.FeedsType, fetches: readonly string[]) {
    this.runs++;
    return this.inner.run(feeds, fetches);
  }
  release() {
    this.releases++;
    return this.inner.release();
  }
}

let reference: ort.InferenceSession;
beforeAll(async () => {
  reference = await ort.InferenceSession.create(DET, { enableMemPattern: false, enableCpuMemArena: false });
});
afterAll(() => reference.release());

async function outputOf(
  session: EngineSession | ort.InferenceSession,
  feeds: ort.InferenceSession.FeedsType,
) {
  const out = await session.run(feeds, ["sigmoid_0.tmp_0"]);
  return Array.from(out["sigmoid_0.tmp_0"]?.data as Float32Array);
}

describe("BoundedPatternSession", () => {
  it("runs the first `limit` shapes patterned and any other on one plain session, with the same answers", async () => {
    const patterned = new Counted(await openRaw(true));
    const opened: Counted[] = [];
    const session = new BoundedPatternSession(
      patterned,
      async () => {
        const plain = new Counted(await openRaw(false));
        opened.push(plain);
        return plain;
      },
      2,
    );
    try {
      const first: Array<[number, number]> = [
        [32, 32],
        [64, 32],
        [32, 32],
      ];
      for (const [h, w] of first)
        expect(await outputOf(session, image(h, w))).toEqual(await outputOf(reference, image(h, w)));
      expect(opened).toHaveLength(0);
      // Two new shapes at once: one plain session opened for both.
      const [a, b] = await Promise.all([outputOf(session, image(96, 32)), outputOf(session, image(32, 96))]);
      expect(a).toEqual(await outputOf(reference, image(96, 32)));
      expect(b).toEqual(await outputOf(reference, image(32, 96)));
      // A shape the patterned session already has stays there.
      await outputOf(session, image(64, 32));
      expect(opened).toHaveLength(1);
      expect(session.runs).toEqual({ patterned: 4, plain: 2 });
      expect(patterned.runs).toBe(4);
      expect(opened[0]?.runs).toBe(2);
    } finally {
      await session.release();
    }
    expect(patterned.releases).toBe(1);
    expect(opened[0]?.releases).toBe(1);
  });

  it("releases only the patterned session when no other shape came", async () => {
    const patterned = new Counted(await openRaw(true));
    let opens = 0;
    const session = new BoundedPatternSession(patterned, async () => {
      opens++;
      return openRaw(false);
    });
    await outputOf(session, image(32, 32));
    await session.release();
    expect(opens).toBe(0);
    expect(patterned.releases).toBe(1);
  });
});

describe("BoundedPatternSession's failures", () => {
  it("does not give a patterned place to a shape the model refuses", async () => {
    const opened: EngineSession[] = [];
    const session = new BoundedPatternSession(
      await openRaw(true),
      async () => {
        const plain = await openRaw(false);
        opened.push(plain);
        return plain;
      },
      1,
    );
    try {
      // ocr-det needs sizes that are multiples of 32: ORT refuses 33×32.
      await expect(outputOf(session, image(33, 32))).rejects.toThrow();
      await outputOf(session, image(32, 32));
      expect(opened).toHaveLength(0);
      await outputOf(session, image(64, 32));
      expect(opened).toHaveLength(1);
    } finally {
      await session.release();
    }
  });

  it("reports a plain session that cannot be opened as PlainSessionUnavailable, and opens again later", async () => {
    let opens = 0;
    const session = new BoundedPatternSession(
      await openRaw(true),
      async () => {
        opens++;
        if (opens === 1) throw new Error("ORT: out of memory");
        return openRaw(false);
      },
      1,
    );
    try {
      await outputOf(session, image(32, 32));
      const err = await outputOf(session, image(64, 32)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PlainSessionUnavailable);
      expect(String((err as Error).cause)).toContain("out of memory");
      expect(await outputOf(session, image(96, 32))).toEqual(await outputOf(reference, image(96, 32)));
      expect(opens).toBe(2);
    } finally {
      await session.release();
    }
  });

  // y = x·x on FP32 [n, n]: free dimensions, a session per thread.
  const square = buildModel({
    inputs: [{ name: "x", datatype: "FP32", dims: ["n", "n"] }],
    outputs: [{ name: "y", datatype: "FP32", dims: ["n", "n"] }],
    nodes: [{ op: "MatMul", inputs: ["x", "x"], outputs: ["y"] }],
  });
  const identity = (n: number) =>
    fp32(
      "x",
      [n, n],
      Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)),
    );

  for (const thread of ["main", "worker"] as const) {
    it(`answers a shape whose plain session cannot open as the server's fault, not the client's (${thread} thread)`, async () => {
      const dir = await mkdtemp(join(tmpdir(), "edge-infer-bounded-"));
      const io = [{ name: "x", datatype: "FP32" as const, shape: [-1, -1] }];
      const config = modelConfig("square", { inputs: io, outputs: [{ ...io[0], name: "y" }] as typeof io });
      await writeModelDir(dir, "square", config, { 1: square });
      const engine = new ModelEngine(openRepository(dir), {
        inferenceThread: thread,
        logger: () => undefined,
      });
      try {
        // The warm-up's [1, 1] and sizes 2… fill the patterned places.
        for (let n = 2; n <= PATTERNED_SHAPES; n++) await inferOn(engine, "square", undefined, [identity(n)]);
        // The plain session opens from model.onnx when it is first needed: gone, it cannot.
        await rm(join(dir, "square", "1", "model.onnx"));
        const err = await inferOn(engine, "square", undefined, [identity(PATTERNED_SHAPES + 1)]).catch(
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(Error);
        expect(err).not.toBeInstanceOf(InvalidInput);
        expect((err as Error).message).toBe(
          "the session for input shapes past the patterned ones could not be opened",
        );
        // The patterned shapes still run.
        const again = await inferOn(engine, "square", undefined, [identity(3)]);
        expect(Array.from(again.outputs[0]?.data as Float32Array)).toEqual(
          Array.from(identity(3).data as Float32Array),
        );
      } finally {
        await engine.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

describe("openEngineSession", () => {
  it("bounds the pattern for free dimensions and not for fixed ones", async () => {
    const free = await openEngineSession(DET, cpu, log, where, false);
    const fixed = await openEngineSession(DET, cpu, log, where, true);
    try {
      expect(free).toBeInstanceOf(BoundedPatternSession);
      expect(fixed).not.toBeInstanceOf(BoundedPatternSession);
      expect(PATTERNED_SHAPES).toBe(16);
      expect(await outputOf(free, image(32, 64))).toEqual(await outputOf(reference, image(32, 64)));
    } finally {
      await Promise.all([free.release(), fixed.release()]);
    }
  });

  it("keeps one session without the pattern for a model configured for CUDA (GPU memory)", async () => {
    // No CUDA here: the session falls back to CPU, as config.json allows, and is still not bounded.
    const gpu: SessionOptions = { ...cpu, execution_providers: ["cuda", "cpu"], allow_cpu_fallback: true };
    const session = await openEngineSession(DET, gpu, log, where, false);
    try {
      expect(session).not.toBeInstanceOf(BoundedPatternSession);
      expect(await outputOf(session, image(32, 32))).toEqual(await outputOf(reference, image(32, 32)));
    } finally {
      await session.release();
    }
  });
});

function openRaw(pattern: boolean): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(DET, {
    enableMemPattern: pattern,
    enableCpuMemArena: false,
    intraOpNumThreads: 1,
  });
}
