/**
 * A Triton-style dynamic batcher: compatible requests queued for a model are stacked along dim 0,
 * run once and split back in order. Generic over the run function, so it knows nothing of ORT.
 */
import { InvalidInput, Overloaded } from "../errors";
import type { Tensor } from "../protocol/types";
import type { ValidatedRequest } from "../validation/request";
import { checkOptions } from "./options";
import { abortReason, type Pending, release, shuttingDown, timedOut } from "./pending";
import { checkOutput, prepareRequest, prepareValidated, splitOutputs, stackInputs } from "./tensors";
import type {
  BatcherStats,
  BatchInfo,
  DynamicBatcherOptions,
  RunBatch,
  SubmitOptions,
  SubmitResult,
} from "./types";

/** Queues requests for one model and runs them in batches; see `DynamicBatcherOptions`. */
export class DynamicBatcher {
  private readonly runBatch: RunBatch;
  private readonly maxBatchSize: number;
  private readonly preferred: ReadonlySet<number>;
  private readonly maxDelayMs: number;
  private readonly maxQueueSize: number;
  private readonly defaultTimeoutMicros: number;
  private readonly maxConcurrent: number;
  private readonly instances: number;
  private readonly onBatch: ((info: BatchInfo) => void) | undefined;

  /** FIFO: the oldest request is always at the head, and every batch starts with it. */
  private readonly queue: Pending[] = [];
  private running = 0;
  private batches = 0;
  private requests = 0;
  private closed = false;
  private scheduled = false;
  private delayTimer: ReturnType<typeof setTimeout> | undefined;
  private delayFor: Pending | undefined;
  private readonly drained: Array<() => void> = [];

  constructor(opts: DynamicBatcherOptions) {
    checkOptions(opts);
    this.runBatch = opts.run;
    this.maxBatchSize = opts.maxBatchSize;
    this.preferred = new Set(opts.preferredBatchSizes);
    this.maxDelayMs = opts.maxQueueDelayMicros / 1000;
    this.maxQueueSize = opts.maxQueueSize;
    this.defaultTimeoutMicros = opts.defaultTimeoutMicros;
    this.maxConcurrent = opts.maxConcurrentBatches ?? 1;
    this.instances = opts.instances ?? 1;
    this.onBatch = opts.onBatch;
  }

  /**
   * Queues one request (dim 0 of every input = its batch size): a ValidatedRequest as it is, bare
   * tensors after the checks batching needs and resolves with its own rows of
   * its batch's outputs. Rejects with `InvalidInput`, `Overloaded` (queue full), `BackendTimeout`
   * (deadline passed while queued), `ModelNotReady` (closed), the signal's reason, or the batch's error.
   */
  submit(
    request: Tensor[] | ValidatedRequest,
    outputs?: string[],
    options?: SubmitOptions,
  ): Promise<SubmitResult> {
    if (this.closed) return Promise.reject(shuttingDown());
    const inputs = Array.isArray(request) ? request : request.inputs;
    let prepared: ReturnType<typeof prepareRequest>;
    try {
      // A validated request (the brand) was checked against this model's signature already.
      prepared = Array.isArray(request)
        ? prepareRequest(request, outputs, this.maxBatchSize)
        : prepareValidated(request, outputs);
    } catch (e) {
      return Promise.reject(e);
    }
    const timeoutMicros = options?.timeoutMicros ?? this.defaultTimeoutMicros;
    if (!(timeoutMicros >= 0 && Number.isFinite(timeoutMicros))) {
      return Promise.reject(
        new InvalidInput(`timeout ${timeoutMicros} µs is invalid: expected a number >= 0`),
      );
    }
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.maxQueueSize > 0 && this.queue.length >= this.maxQueueSize) {
      return Promise.reject(
        new Overloaded(`model queue is full (${this.maxQueueSize} requests waiting): retry later`, 1),
      );
    }
    const submittedAt = performance.now();
    return new Promise<SubmitResult>((resolve, reject) => {
      // No timer and no abort listener yet: most requests leave the queue in the microtask that
      // schedules them (guardWaiting gives the others theirs). An abort listener on every request
      // cost lone requests CPU and full collections (README, "Dynamic batching").
      this.queue.push({
        inputs,
        sorted: prepared.sorted,
        outputs,
        rows: prepared.rows,
        key: prepared.key,
        submittedAt,
        deadline: timeoutMicros > 0 ? submittedAt + timeoutMicros / 1000 : Number.POSITIVE_INFINITY,
        timeoutMicros,
        due: false,
        signal,
        guarded: false,
        timer: undefined,
        detach: undefined,
        resolve,
        reject,
      });
      this.wake();
    });
  }

  /** Current counters. */
  stats(): BatcherStats {
    return {
      queued: this.queue.length,
      running: this.running,
      batches: this.batches,
      requests: this.requests,
    };
  }

  /**
   * Refuses new requests, rejects the queued ones with `ModelNotReady`, and resolves once the
   * batches already running have settled (they finish normally).
   */
  close(): Promise<void> {
    this.closed = true;
    this.clearDelay();
    for (const p of this.queue.splice(0)) {
      release(p);
      p.reject(shuttingDown());
    }
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** Schedules once per microtask, so that requests submitted in the same tick can share a batch. */
  private wake(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.schedule();
    });
  }

  private schedule(): void {
    // Also those not yet guarded (no timer, no listener) that are late or whose client has gone.
    const now = performance.now();
    this.expireLate(now);
    while (this.running < this.maxConcurrent) {
      const head = this.queue[0];
      if (head === undefined) {
        this.clearDelay();
        return;
      }
      // Every instance computing: a batch only queues beside them, so only a full one goes.
      const busy = this.running >= this.instances;
      const batch = this.pick(head, now, busy);
      if (batch === undefined) {
        // Beside running batches no timer is needed: the end of one wakes the queue again.
        if (!busy) this.armDelay(head, now);
        break;
      }
      this.dispatch(batch, now);
    }
    this.guardWaiting();
  }

  /**
   * Gives each request left waiting its deadline timer and its abort listener, once: it leaves the
   * queue when its deadline passes or its client goes away, not only when the queue next moves.
   */
  private guardWaiting(): void {
    for (const p of this.queue) {
      if (p.guarded) continue;
      p.guarded = true;
      if (p.timeoutMicros > 0) {
        const left = Math.max(0, p.deadline - performance.now());
        p.timer = setTimeout(() => this.remove(p, timedOut(p)), Math.ceil(left));
      }
      const signal = p.signal;
      if (signal !== undefined) {
        const onAbort = () => this.remove(p, abortReason(signal));
        signal.addEventListener("abort", onAbort, { once: true });
        p.detach = () => signal.removeEventListener("abort", onAbort);
      }
    }
  }

  /**
   * The batch to send now, or undefined to wait. Gathers, from the head on, every compatible request
   * that still fits (skipping those that do not: they head a later batch, so none starves). Sends at
   * once a full batch or one of a preferred size; else the largest preferred prefix; else, once the
   * oldest has waited `maxQueueDelay`, what it has. With every instance computing (`busy`), only a
   * full or preferred one: a partial batch gathers more while a running one finishes.
   */
  private pick(head: Pending, now: number, busy: boolean): Pending[] | undefined {
    const members = [head];
    let rows = head.rows;
    let preferredCount = this.preferred.has(rows) ? 1 : 0;
    for (let i = 1; i < this.queue.length && rows < this.maxBatchSize; i++) {
      const p = this.queue[i];
      if (p === undefined || p.key !== head.key || rows + p.rows > this.maxBatchSize) continue;
      members.push(p);
      rows += p.rows;
      if (this.preferred.has(rows)) preferredCount = members.length;
    }
    if (rows === this.maxBatchSize || this.preferred.has(rows)) return members;
    if (preferredCount > 0) return members.slice(0, preferredCount);
    if (!busy && (head.due || now - head.submittedAt >= this.maxDelayMs)) return members;
    return undefined;
  }

  private armDelay(head: Pending, now: number): void {
    if (this.delayFor === head && this.delayTimer !== undefined) return;
    this.clearDelay();
    this.delayFor = head;
    const waitMs = Math.max(0, head.submittedAt + this.maxDelayMs - now);
    this.delayTimer = setTimeout(() => {
      this.delayTimer = undefined;
      this.delayFor = undefined;
      head.due = true;
      this.wake();
    }, Math.ceil(waitMs));
  }

  private clearDelay(): void {
    if (this.delayTimer !== undefined) clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    this.delayFor = undefined;
  }

  /**
   * A deadline timer can lag behind a busy event loop, and a request not yet guarded has neither
   * timer nor listener: one past its deadline, or whose client has gone, is never run.
   */
  private expireLate(now: number): void {
    const gone = (q: Pending) => q.deadline <= now || q.signal?.aborted === true;
    if (!this.queue.some(gone)) return;
    for (const p of this.queue.filter(gone)) {
      this.remove(p, p.signal?.aborted === true ? abortReason(p.signal) : timedOut(p));
    }
  }

  /** Takes a still-queued request out and rejects it; a no-op once it has been dispatched. */
  private remove(p: Pending, error: unknown): void {
    const i = this.queue.indexOf(p);
    if (i < 0) return;
    this.queue.splice(i, 1);
    release(p);
    if (this.delayFor === p) this.clearDelay();
    p.reject(error);
    this.wake();
  }

  private dispatch(members: Pending[], now: number): void {
    if (members.length === 1 && members[0] === this.queue[0]) this.queue.shift();
    else {
      const taken = new Set(members);
      let w = 0;
      for (const p of this.queue) if (!taken.has(p)) this.queue[w++] = p;
      this.queue.length = w;
    }
    if (this.delayFor !== undefined && members.includes(this.delayFor)) this.clearDelay();
    let rows = 0;
    const queueMicros = members.map((p) => {
      release(p);
      rows += p.rows;
      return Math.round((now - p.submittedAt) * 1000);
    });
    this.running++;
    this.batches++;
    this.requests += members.length;
    try {
      this.onBatch?.({ size: rows, requests: members.length, queueMicros });
    } catch {
      // A metrics hook must never fail inference.
    }
    void this.execute(members, rows, queueMicros);
  }

  private async execute(members: Pending[], rows: number, queueMicros: number[]): Promise<void> {
    const run = this.runBatch;
    try {
      const [only] = members;
      if (members.length === 1 && only !== undefined) {
        // Zero-copy path: the request's own tensors in, the run's tensors out.
        const started = performance.now();
        const outputs = await run(only.inputs, only.outputs);
        const runMicros = micros(started);
        for (const t of outputs) checkOutput(t, only.rows);
        only.resolve({ outputs, queueMicros: queueMicros[0] ?? 0, runMicros, batchSize: rows });
      } else {
        const stacked = stackInputs(
          members.map((p) => p.sorted),
          rows,
        );
        const started = performance.now();
        const outputs = await run(stacked, members[0]?.outputs);
        const runMicros = micros(started);
        const parts = splitOutputs(
          outputs,
          members.map((p) => p.rows),
        );
        members.forEach((p, k) => {
          p.resolve({
            outputs: parts[k] ?? [],
            queueMicros: queueMicros[k] ?? 0,
            runMicros,
            batchSize: rows,
          });
        });
      }
    } catch (e) {
      // Only this batch fails, and with the real error.
      for (const p of members) p.reject(e);
    } finally {
      this.running--;
      if (this.running === 0) for (const resolve of this.drained.splice(0)) resolve();
      this.wake();
    }
  }
}

const micros = (since: number): number => Math.round((performance.now() - since) * 1000);
