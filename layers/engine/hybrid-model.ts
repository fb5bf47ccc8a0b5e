/**
 * INFERENCE_THREAD=auto: one version with a session on this thread and another in a worker. A run
 * that finds the process idle runs here (no thread hop, no input copy: the lone request's latency);
 * a run that arrives while another is in flight, or soon after one did, goes to the worker, so that
 * this thread keeps parsing and encoding requests while ORT computes (the worker's throughput
 * under concurrency). Under load, a run that finds the worker already computing one of this
 * version's runs and this thread computing none runs here, so that both sessions compute at once
 * on two cores, unless another model has runs in flight (this thread then stays free to parse and
 * encode for it) or this thread's own work already fills half its time (MAX_OWN_LOAD: large JSON
 * bodies to decode).
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

/**
 * Under load, how often this thread's own work (everything but the runs it computes: parsing,
 * decoding, encoding, answering) is measured, and the share of a window above which it takes no
 * run from a busy worker. ocr-cls at c=8 with every run in the worker: binary requests kept this
 * thread busy 32–37 % of the time, JSON requests (a 560 KB body to decode each) 86–90 %; taking runs
 * here gave binary +44 % req/s and cost JSON 10–16 %.
 */
export const LOAD_WINDOW_MS = 100;
export const MAX_OWN_LOAD = 0.5;
/** A window older than this when load comes back is not measured: the new load starts with room. */
export const STALE_WINDOW_MS = 1000;

/**
 * What every HybridModel of a process shares: the runs in flight on any version, and until when
 * runs go to workers. There is one main thread, so whether it is free is the process's state, not
 * a version's: a run of one model that found only its own version idle would block the event loop
 * while another model's worker computes. ocr-cls at c=4 beside ocr-det at c=1 on one gateway: 110
 * ocr-cls answers a second (p50 36.5 ms) with the idleness counted per version, 470 (p50 7.3 ms)
 * with it counted here.
 */
const MAIN_THREAD = {
  /** Runs in flight on any version, on either side. */
  inFlight: 0,
  /** Runs in flight on this thread (any version): at most one computes here at a time. */
  runsHere: 0,
  /** Until when (performance.now()) runs go to the worker, concurrency having been seen. */
  concurrentUntil: 0,
  /** The load window: when it began, the event loop's use then, and the ms of runs here since. */
  windowStart: 0,
  loop: performance.eventLoopUtilization(),
  runsHereMs: 0,
  /** Whether this thread's own work left it room for runs in the last window. */
  room: true,
};

/**
 * Under load, every LOAD_WINDOW_MS: whether this thread's own work (its event loop's active time
 * less the runs computed here) took under MAX_OWN_LOAD of the window. Load that comes back after
 * STALE_WINDOW_MS starts a fresh window, with room.
 */
function measureLoad(gate: typeof MAIN_THREAD, now: number): void {
  const age = now - gate.windowStart;
  if (age < LOAD_WINDOW_MS) return;
  if (age <= STALE_WINDOW_MS) {
    const used = performance.eventLoopUtilization(gate.loop);
    const own = Math.max(0, used.active - gate.runsHereMs);
    gate.room = own < MAX_OWN_LOAD * (used.active + used.idle);
  } else gate.room = true;
  gate.windowStart = now;
  gate.loop = performance.eventLoopUtilization();
  gate.runsHereMs = 0;
}

/** A ServedModel over a main-thread model and a worker model of the same version. */
export class HybridModel implements ServedModel {
  readonly name: string;
  readonly version: number;
  readonly config: ModelConfig;
  readonly signature: ModelSignature;
  /**
   * Requests a batcher holds for this version, queued or running (kept by the backend): a batcher
   * runs one batch at a time, so a run in flight alone does not show that others are waiting.
   */
  waiting = 0;
  /** Runs sent to each side since load (diagnostics and tests). */
  readonly runs = { main: 0, worker: 0 };
  /** This version's runs in flight: in all, and in its worker(s). */
  private readonly inFlight = { all: 0, worker: 0 };
  /** Its worker threads (config.json's `instance_group` count): runs they compute at once. */
  private readonly workers: number;

  constructor(
    private readonly here: ServedModel,
    private readonly worker: ServedModel,
  ) {
    this.name = here.name;
    this.version = here.version;
    this.config = here.config;
    this.signature = here.signature;
    this.workers = worker.concurrency ?? 1;
  }

  /** Runs that compute at once: this thread's and its workers'. */
  get concurrency(): number {
    return 1 + this.workers;
  }

  /**
   * Runs here when no run of any version is in flight and none of this version's is waiting (nor
   * was lately), else in the worker; but under load, here when this version's workers are all busy, no
   * run is in flight here, no other version has one in flight and this thread's own work leaves it
   * room (see MAX_OWN_LOAD).
   */
  async run(inputs: Tensor[], outputs?: string[]): Promise<Tensor[]> {
    const gate = MAIN_THREAD;
    const mine = this.inFlight;
    const now = performance.now();
    const alone = gate.inFlight === 0 && this.waiting <= 1;
    if (!alone) {
      measureLoad(gate, now);
      gate.concurrentUntil = now + CONCURRENCY_HOLD_MS;
    }
    const idle = alone && now >= gate.concurrentUntil;
    const share =
      mine.worker >= this.workers && gate.runsHere === 0 && gate.inFlight === mine.all && gate.room;
    const onMain = idle || share;
    this.runs[onMain ? "main" : "worker"]++;
    gate.inFlight++;
    mine.all++;
    if (onMain) gate.runsHere++;
    else mine.worker++;
    try {
      if (!share) return await (onMain ? this.here : this.worker).run(inputs, outputs);
      // onnxruntime-node computes in a setImmediate callback that its run() queues at once: two
      // more around it time the computation alone (not the other callbacks it waits behind). Where
      // the run first awaits something (a session still opening), they time less than the run:
      // this thread's own work then reads high, and it takes fewer runs, never more.
      let started = 0;
      setImmediate(() => {
        started = performance.now();
      });
      const outcome = this.here.run(inputs, outputs);
      setImmediate(() => {
        gate.runsHereMs += performance.now() - started;
      });
      return await outcome;
    } finally {
      gate.inFlight--;
      mine.all--;
      if (onMain) gate.runsHere--;
      else mine.worker--;
    }
  }

  /** Warms every session: the first run on each would otherwise pay ORT's first-run cost. */
  async warm(inputs: Tensor[]): Promise<void> {
    const worker = this.worker.warm === undefined ? this.worker.run(inputs) : this.worker.warm(inputs);
    await Promise.all([this.here.run(inputs), worker]);
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
