/** ONNX Runtime sessions: options from config.json, CUDA (→ CPU only where allowed), warm-up input. */
import { stat } from "node:fs/promises";
import type * as ort from "onnxruntime-node";
import { elementCount, TYPED_ARRAY } from "../protocol/datatypes";
import type { Tensor } from "../protocol/types";
import type { ModelConfig, ModelSignature, SessionOptions } from "../repository/types";
import { BOUNDED_PATTERN_MAX_MODEL_BYTES, BoundedPatternSession } from "./bounded-patterns";
import { loadOrt } from "./ort";
import type { EngineLogger } from "./types";

/** Config entries of every session (ORT's `session.*` keys): pool threads block, not spin, when idle. */
export const SESSION_CONFIG: Readonly<Record<string, string>> = {
  "intra_op.allow_spinning": "0",
  "inter_op.allow_spinning": "0",
};

/**
 * True when config.json gives every input a fixed shape (the batch dimension aside): the shapes that
 * reach ORT are then a bounded set, and ORT's memory pattern (one plan per input shape, kept for the
 * session's life) pays off without growing with every new shape a client sends. Otherwise the
 * pattern is bounded by bounded-patterns.ts.
 */
export function fixedInputShapes(config: Pick<ModelConfig, "inputs">): boolean {
  const inputs = config.inputs ?? [];
  return inputs.length > 0 && inputs.every((t) => t.shape.every((d) => d > 0));
}

/**
 * ORT's session options for config.json's `optimization` on `providers`; `memoryPattern` for a
 * model with fixed input shapes (fixedInputShapes).
 */
export function ortOptions(
  opt: SessionOptions,
  providers: string[],
  memoryPattern = false,
): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: opt.graph_optimization_level,
    executionProviders: providers,
    // Off unless config.json turns it on: the CPU arena keeps its peak for the session's life (1.4 GB
    // after one [1,3,1,380000] image on ocr-det without limits), so it is for a model whose `limits`
    // bound its inputs; on, it took ~1.3 ms of CPU off a lone ocr-det request (README, "The CPU arena").
    // A memory pattern is one block per run; it saves ~10% of ocr-cls's run time in per-tensor allocations.
    enableCpuMemArena: opt.enable_mem_arena,
    enableMemPattern: memoryPattern,
    // ORT's pool threads otherwise spin between runs: on a host whose cores are shared (Lambda's
    // vCPUs, a small box, the gateway's own HTTP work) that burns the CPU the next request needs.
    extra: { session: { ...SESSION_CONFIG } },
  };
  if (opt.intra_op_threads !== undefined) options.intraOpNumThreads = opt.intra_op_threads;
  if (opt.inter_op_threads !== undefined) options.interOpNumThreads = opt.inter_op_threads;
  // A missing CUDA library is expected on CPU hosts; our own warn line reports it, not ORT's stderr.
  if (providers.includes("cuda")) options.logSeverityLevel = 4;
  return options;
}

/**
 * The CUDA execution provider could not be used and config.json does not allow CPU instead. The
 * message is public (it names the provider and the setting); ORT's own text is the `cause`.
 */
export class ProviderUnavailable extends Error {
  constructor(cause: unknown) {
    super("the CUDA execution provider is not available (optimization.allow_cpu_fallback is false)", {
      cause,
    });
    this.name = "ProviderUnavailable";
  }
}

/** ORT's errors about an execution provider name it (`…AppendExecutionProvider_Cuda…`, `CUDA failure…`). */
const CUDA_ERROR = /cuda/i;

/**
 * Creates a session with the configured execution providers. When that fails and CUDA was among
 * them: with `allow_cpu_fallback`, retries without CUDA and logs a warning naming the model;
 * without it, a CUDA error is a ProviderUnavailable (any other error is thrown as it is).
 */
export async function createSession(
  path: string,
  opt: SessionOptions,
  log: EngineLogger,
  where: { model: string; version: number },
  memoryPattern = false,
): Promise<ort.InferenceSession> {
  const providers = opt.execution_providers.length > 0 ? [...opt.execution_providers] : ["cpu"];
  const { InferenceSession } = await loadOrt();
  try {
    return await InferenceSession.create(path, ortOptions(opt, providers, memoryPattern));
  } catch (e) {
    if (!providers.includes("cuda")) throw e;
    const error = e instanceof Error ? e.message : String(e);
    if (!opt.allow_cpu_fallback) {
      if (!CUDA_ERROR.test(error)) throw e;
      log("error", `model '${where.model}' version ${where.version}: CUDA execution provider failed`, {
        ...where,
        provider: "cuda",
        error,
      });
      throw new ProviderUnavailable(e);
    }
    const fallback = providers.filter((p) => p !== "cuda");
    log(
      "warn",
      `model '${where.model}' version ${where.version}: CUDA execution provider failed, using CPU (optimization.allow_cpu_fallback)`,
      { ...where, provider: "cuda", error },
    );
    const cpu = fallback.length > 0 ? fallback : ["cpu"];
    return InferenceSession.create(path, ortOptions(opt, cpu, memoryPattern));
  }
}

/** One input per model input: free dimensions and the batch set to 1, zeros (empty strings for BYTES). */
export function warmupInputs(sig: ModelSignature): Tensor[] {
  return sig.inputs.map(({ name, datatype, shape }) => {
    const dims = shape.map((d) => (d < 0 ? 1 : d));
    const count = elementCount(dims);
    const data =
      datatype === "BYTES"
        ? Array.from({ length: count }, () => new Uint8Array(0))
        : new TYPED_ARRAY[datatype](count);
    return { name, datatype, shape: dims, data };
  });
}

/** What the engine uses of an ORT session (ort.InferenceSession has it). */
export interface EngineSession {
  readonly inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  run(
    feeds: ort.InferenceSession.FeedsType,
    fetches: readonly string[],
    options?: ort.InferenceSession.RunOptions,
  ): Promise<ort.InferenceSession.ReturnType>;
  release(): Promise<void>;
}

/**
 * The engine's session for a model version. With fixed input shapes, one session with ORT's memory
 * pattern. With free dimensions, on CPU and up to BOUNDED_PATTERN_MAX_MODEL_BYTES, a patterned
 * session for the first PATTERNED_SHAPES distinct shapes and a plain one, opened on demand, for any
 * other (bounded-patterns.ts); otherwise one session without the pattern.
 */
export async function openEngineSession(
  path: string,
  opt: SessionOptions,
  log: EngineLogger,
  where: { model: string; version: number },
  fixedShapes: boolean,
): Promise<EngineSession> {
  if (fixedShapes) return createSession(path, opt, log, where, true);
  const bounded =
    !opt.execution_providers.includes("cuda") && (await stat(path)).size <= BOUNDED_PATTERN_MAX_MODEL_BYTES;
  if (!bounded) return createSession(path, opt, log, where, false);
  const patterned = await createSession(path, opt, log, where, true);
  return new BoundedPatternSession(patterned, () => createSession(path, opt, log, where, false));
}
