/**
 * INFERENCE_THREAD=auto: one version with a session on this thread and another in a worker. A run
 * that finds the version idle runs here (no thread hop, no input copy: the lone request's latency);
 * a run that arrives while another is in flight, or soon after one did, goes to the worker, so that
 * this thread keeps parsing and encoding requests while ORT computes (the worker's throughput
 * under concurrency).
 */
import type { Tensor } from "../protocol/types";
import type { ModelConfig, ModelSignature } from "../repository/types";
import type { ServedModel } from "./loaded";

/**
 * After a run saw others in flight or waiting, runs keep going to the worker this long: under load
 * the worker's queue can drain for a moment between two requests, and a run taken here then would
 * block this thread (and the requests it parses) while the worker idles.
 */
export const CONCURRENCY_HOLD_MS = 100;

/** A ServedModel over a main-thread model and a worker model of the same version. */
export class HybridModel implements ServedModel {
  readonly name: string;
  readonly version: number;
  readonly config: ModelConfig;
  readonly signature: ModelSignature;
  /** Runs in flight on either side. */
  private inFlight = 0;
  /**
   * Requests a batcher holds for this version, queued or running (kept by the backend): a batcher
   * runs one batch at a time, so a run in flight alone does not show that others are waiting.
   */
  waiting = 0;
  /** Runs sent to each side since load (diagnostics and tests). */
  readonly runs = { main: 0, worker: 0 };
  /** Until when (performance.now()) runs go to the worker, concurrency having been seen. */
  private concurrentUntil = 0;

  constructor(
    private readonly here: ServedModel,
    private readonly worker: ServedModel,
  ) {
    this.name = here.name;
    this.version = here.version;
    this.config = here.config;
    this.signature = here.signature;
  }

  /** Runs here when nothing else is in flight or waiting (nor was lately), else in the worker. */
  async run(inputs: Tensor[], outputs?: string[]): Promise<Tensor[]> {
    const now = performance.now();
    const alone = this.inFlight === 0 && this.waiting <= 1;
    if (!alone) this.concurrentUntil = now + CONCURRENCY_HOLD_MS;
    const side = alone && now >= this.concurrentUntil ? "main" : "worker";
    this.runs[side]++;
    this.inFlight++;
    try {
      return await (side === "main" ? this.here : this.worker).run(inputs, outputs);
    } finally {
      this.inFlight--;
    }
  }

  /** Warms both sessions: the first run on each side would otherwise pay ORT's first-run cost. */
  async warm(inputs: Tensor[]): Promise<void> {
    await Promise.all([this.here.run(inputs), this.worker.run(inputs)]);
  }

  /** Releases both sessions (each once its runs in flight are done). */
  async release(): Promise<void> {
    await Promise.all([this.here.release(), this.worker.release()]);
  }

  /** The worker dying makes the version fail, as in worker mode: the engine reloads it. */
  onFailure(listener: (e: Error) => void): void {
    this.worker.onFailure?.(listener);
  }
}
