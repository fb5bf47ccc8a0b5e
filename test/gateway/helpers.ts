/** Gateway test helpers: catalogs over real engines, and backends that count or misbehave on purpose. */
import { pathToFileURL } from "node:url";
import { type Backend, EngineBackend, type InferResult, type ModelDescription } from "../../layers/backend";
import { ModelEngine } from "../../layers/engine";
import { openRepository } from "../../layers/repository";
import type { ValidatedRequest } from "../../layers/validation/request";
import { addConfig, addModel, writeModelDir } from "../support/models";

/** The demo repository (functions/models). */
export const DEMO_DIR = new URL("../../functions/models/", import.meta.url);

/** An EngineBackend over the repository in `dir` serving `models`. */
export function engineBackend(dir: string | URL, models: string[]): EngineBackend {
  const uri = typeof dir === "string" ? pathToFileURL(dir).href : dir.href;
  return new EngineBackend(new ModelEngine(openRepository(uri)), { models });
}

/** Counts the calls that reach a backend, by method. */
export class CountingBackend implements Backend {
  readonly calls = { describe: 0, ready: 0, infer: 0 };
  constructor(readonly inner: Backend) {}
  describe(model: string, version: number | undefined, signal?: AbortSignal): Promise<ModelDescription> {
    this.calls.describe++;
    return this.inner.describe(model, version, signal);
  }
  ready(model: string, version: number | undefined, signal?: AbortSignal): Promise<boolean> {
    this.calls.ready++;
    return this.inner.ready(model, version, signal);
  }
  infer(
    model: string,
    version: number | undefined,
    req: ValidatedRequest,
    signal?: AbortSignal,
  ): Promise<InferResult> {
    this.calls.infer++;
    return this.inner.infer(model, version, req, signal);
  }
}

/** A backend whose infer fails as `fault` says (describe and ready pass through). */
export function faultyBackend(
  inner: Backend,
  fault: "hang" | { throws: unknown },
): Backend & { aborted: unknown[] } {
  const aborted: unknown[] = [];
  return {
    aborted,
    describe: (m, v, s) => inner.describe(m, v, s),
    ready: (m, v, s) => inner.ready(m, v, s),
    infer: (_m, _v, _r, signal) => {
      if (fault === "hang") {
        signal?.addEventListener("abort", () => aborted.push(signal.reason));
        return new Promise<never>(() => undefined);
      }
      return Promise.reject(fault.throws);
    },
  };
}

/** Little-endian bytes of float32 values. */
export function f32bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** Writes model `cached-add` (a, b → sum, diff over FP32 [4], batching up to 8) with its result cache on. */
export async function writeCachedAdd(dir: string): Promise<void> {
  const config = { ...addConfig("cached-add"), cache: { enabled: true, ttl_seconds: 60 } };
  await writeModelDir(dir, "cached-add", config, { 1: addModel(0) });
}
