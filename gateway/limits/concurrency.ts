/**
 * Per-model concurrency limit with a bounded wait queue. Past both bounds a request is shed at
 * once (Overloaded: 503 + Retry-After) instead of piling up until every request times out.
 */
import { Overloaded } from "../../layers/errors";

/** Options of ConcurrencyLimiter. */
export interface ConcurrencyOptions {
  /** Requests running at once per model. */
  maxInFlight: number;
  /** Requests waiting per model; 0 sheds as soon as all slots are busy. */
  maxQueued: number;
  /** How long a request may wait for a slot before it is shed. @default 5_000 */
  queueTimeoutMs?: number;
  /** `Retry-After` seconds on a shed request. @default 1 */
  retryAfterSeconds?: number;
  /** Clock in ms for `waitedMs`. @default performance.now */
  now?: () => number;
}

/** A held slot: call release() exactly once (extra calls are ignored). */
export interface Permit {
  release(): void;
  /** Time spent queued for the slot, ms: the "queue" phase. */
  readonly waitedMs: number;
}

interface Waiter {
  grant: () => void;
}

interface Lane {
  inFlight: number;
  queue: Waiter[];
}

/** Limits requests in flight per key (model name), with a bounded FIFO queue. */
export class ConcurrencyLimiter {
  readonly #opts: Required<Omit<ConcurrencyOptions, "now">>;
  readonly #now: () => number;
  readonly #lanes = new Map<string, Lane>();

  constructor(options: ConcurrencyOptions) {
    if (!Number.isInteger(options.maxInFlight) || options.maxInFlight < 1) {
      throw new RangeError(`maxInFlight must be an integer >= 1, got ${options.maxInFlight}`);
    }
    if (!Number.isInteger(options.maxQueued) || options.maxQueued < 0) {
      throw new RangeError(`maxQueued must be an integer >= 0, got ${options.maxQueued}`);
    }
    this.#opts = {
      maxInFlight: options.maxInFlight,
      maxQueued: options.maxQueued,
      queueTimeoutMs: options.queueTimeoutMs ?? 5_000,
      retryAfterSeconds: options.retryAfterSeconds ?? 1,
    };
    this.#now = options.now ?? (() => performance.now());
  }

  /** Requests running and waiting for `key`. */
  stats(key: string): { inFlight: number; queued: number } {
    const lane = this.#lanes.get(key);
    return { inFlight: lane?.inFlight ?? 0, queued: lane?.queue.length ?? 0 };
  }

  /** Waits for a slot of `key`; throws Overloaded when the queue is full, times out or `signal` aborts. */
  acquire(key: string, signal?: AbortSignal): Promise<Permit> {
    const start = this.#now();
    let lane = this.#lanes.get(key);
    if (lane === undefined) {
      lane = { inFlight: 0, queue: [] };
      this.#lanes.set(key, lane);
    }
    const l = lane;
    if (l.inFlight < this.#opts.maxInFlight) {
      l.inFlight++;
      return Promise.resolve(this.#permit(key, l, 0));
    }
    if (l.queue.length >= this.#opts.maxQueued) {
      return Promise.reject(
        this.#shed(
          `model "${key}" is overloaded: ${l.inFlight} requests running and ${l.queue.length} queued`,
        ),
      );
    }
    return new Promise<Permit>((resolve, reject) => {
      const leave = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const i = l.queue.indexOf(waiter);
        if (i >= 0) l.queue.splice(i, 1);
      };
      const waiter: Waiter = {
        // Called by a releasing permit, which hands its slot over (inFlight stays the same).
        grant: () => {
          leave();
          resolve(this.#permit(key, l, this.#now() - start));
        },
      };
      const timer = setTimeout(() => {
        leave();
        this.#dropIfIdle(key, l);
        reject(
          this.#shed(`model "${key}" is overloaded: no slot free within ${this.#opts.queueTimeoutMs} ms`),
        );
      }, this.#opts.queueTimeoutMs);
      const onAbort = (): void => {
        leave();
        this.#dropIfIdle(key, l);
        reject(signal?.reason ?? new Error("aborted"));
      };
      if (signal?.aborted === true) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      l.queue.push(waiter);
    });
  }

  /** Runs `fn` holding a slot of `key`; the slot is released however `fn` ends. */
  async run<T>(key: string, fn: (permit: Permit) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const permit = await this.acquire(key, signal);
    try {
      return await fn(permit);
    } finally {
      permit.release();
    }
  }

  #permit(key: string, lane: Lane, waitedMs: number): Permit {
    return new LanePermit(waitedMs, () => {
      const next = lane.queue[0];
      if (next !== undefined) next.grant();
      else {
        lane.inFlight--;
        this.#dropIfIdle(key, lane);
      }
    });
  }

  /** Forgets idle lanes so a stream of distinct (even bogus) keys cannot grow the map. */
  #dropIfIdle(key: string, lane: Lane): void {
    if (lane.inFlight === 0 && lane.queue.length === 0 && this.#lanes.get(key) === lane)
      this.#lanes.delete(key);
  }

  #shed(message: string): Overloaded {
    return new Overloaded(message, this.#opts.retryAfterSeconds);
  }
}

/** A slot held; release() hands it on once, later calls do nothing. A class: no closure per request. */
class LanePermit implements Permit {
  #released = false;
  constructor(
    readonly waitedMs: number,
    readonly onRelease: () => void,
  ) {}

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.onRelease();
  }
}
