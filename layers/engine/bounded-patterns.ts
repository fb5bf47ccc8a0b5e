/**
 * ORT's memory pattern for a model with free input dimensions, bounded. With the pattern on, ORT plans
 * one block per run for the input shapes it sees and keeps that plan for the session's life, one per
 * distinct shape: it saved 4–6 % of ocr-det's run (README, "Thread modes, a lone request, cold start").
 * Clients choose the shapes of a free-dimension model, so a patterned session serves the first
 * PATTERNED_SHAPES distinct input shapes only; any other shape runs on a second session without the
 * pattern, opened the first time one arrives. The plans kept are bounded, and a model whose clients
 * send few shapes never opens the second session. Only for CPU models up to
 * BOUNDED_PATTERN_MAX_MODEL_BYTES (session.ts, openEngineSession).
 */
import type * as ort from "onnxruntime-node";
import type { EngineSession } from "./session";

/** Distinct input shapes (every input's dims) a free-dimension model's patterned session serves. */
export const PATTERNED_SHAPES = 16;

/**
 * The largest model file bounded here: the second session costs the model's memory once more, which a
 * small model can spare and a large one (a Lambda function sized to it) may not. Larger models, and
 * models on CUDA (GPU memory), run free dimensions without the pattern, on one session.
 */
export const BOUNDED_PATTERN_MAX_MODEL_BYTES = 256 * 1024 * 1024;

/**
 * The plain session could not be opened (memory, the model file gone): the version's or the host's
 * fault, never the client's, so it is not reported as a refused input (a 500, not a 400). ORT's text
 * stays in `cause`.
 */
export class PlainSessionUnavailable extends Error {
  constructor(cause: unknown) {
    super("the session for input shapes past the patterned ones could not be opened", { cause });
    this.name = "PlainSessionUnavailable";
  }
}

/** The feeds' shapes as one key: input names and dims. */
function shapeKey(feeds: ort.InferenceSession.FeedsType): string {
  let key = "";
  for (const name in feeds) key += `${name}:${feeds[name]?.dims.join(",")};`;
  return key;
}

/** A patterned session for the first `limit` distinct shapes, a plain one (opened on demand) for the rest. */
export class BoundedPatternSession implements EngineSession {
  private readonly patternedShapes = new Set<string>();
  private plainSession: Promise<EngineSession> | undefined;
  /** Runs each session took (diagnostics and tests). */
  readonly runs = { patterned: 0, plain: 0 };

  constructor(
    private readonly patterned: EngineSession,
    private readonly openPlain: () => Promise<EngineSession>,
    private readonly limit = PATTERNED_SHAPES,
  ) {}

  get inputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.patterned.inputMetadata;
  }

  get outputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.patterned.outputMetadata;
  }

  async run(
    feeds: ort.InferenceSession.FeedsType,
    fetches: readonly string[],
    options?: ort.InferenceSession.RunOptions,
  ): Promise<ort.InferenceSession.ReturnType> {
    const key = shapeKey(feeds);
    const known = this.patternedShapes.has(key);
    if (known || this.patternedShapes.size < this.limit) {
      if (!known) this.patternedShapes.add(key);
      this.runs.patterned++;
      try {
        return await this.patterned.run(feeds, fetches, options);
      } catch (e) {
        // A shape the model refuses leaves no plan behind: it does not keep a place from shapes that run.
        if (!known) this.patternedShapes.delete(key);
        throw e;
      }
    }
    // One open for every caller; a failed open is retried by the next shape that needs it.
    this.plainSession ??= this.openPlain().catch((e: unknown) => {
      this.plainSession = undefined;
      throw new PlainSessionUnavailable(e);
    });
    const plain = await this.plainSession;
    this.runs.plain++;
    return plain.run(feeds, fetches, options);
  }

  async release(): Promise<void> {
    const plain = this.plainSession;
    this.plainSession = undefined;
    await Promise.all([
      this.patterned.release(),
      plain?.then(
        (s) => s.release(),
        () => undefined,
      ),
    ]);
  }
}
