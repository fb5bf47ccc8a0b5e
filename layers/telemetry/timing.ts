/** Phase timing of a request and its `Server-Timing` header (https://www.w3.org/TR/server-timing/). */

/** A Server-Timing metric name must be an HTTP token; anything else becomes "_". */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NOT_TOKEN = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/g;

/** Milliseconds to three decimals, as Server-Timing and the request log give them. */
export const roundMs = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * `Server-Timing` value for phase durations and the total, in ms, e.g.
 * `queue;dur=0.12, infer;dur=3.4, total;dur=3.61`. One pass: it runs on every request.
 */
export function serverTiming(phases: Record<string, number>, totalMs: number): string {
  let value = "";
  for (const name in phases) {
    const ms = phases[name];
    if (ms === undefined || !Number.isFinite(ms) || ms < 0) continue;
    value += `${TOKEN.test(name) ? name : name.replace(NOT_TOKEN, "_") || "_"};dur=${roundMs(ms)}, `;
  }
  return `${value}total;dur=${roundMs(totalMs)}`;
}

/** Records how long named phases take, in ms; the same phase measured twice adds up. */
export class PhaseTimer {
  readonly #now: () => number;
  readonly #start: number;
  readonly #phases: Record<string, number> = {};

  /** @param now clock in ms, injectable for tests (default performance.now) */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
    this.#start = now();
  }

  /** Starts timing `name`; call the returned function to stop. Extra calls are ignored. */
  start(name: string): () => number {
    const t0 = this.#now();
    let done = false;
    return () => {
      if (done) return 0;
      done = true;
      const ms = this.#now() - t0;
      this.add(name, ms);
      return ms;
    };
  }

  /** Times `fn` as phase `name`, whether it resolves or throws. */
  async measure<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
    const stop = this.start(name);
    try {
      return await fn();
    } finally {
      stop();
    }
  }

  /** Adds a duration measured elsewhere (e.g. inference time reported by the backend). */
  add(name: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.#phases[name] = (this.#phases[name] ?? 0) + ms;
  }

  /** Durations so far, ms, in the order phases were first recorded. */
  phases(): Record<string, number> {
    return { ...this.#phases };
  }

  /** Time since the timer was created, ms. */
  elapsed(): number {
    return this.#now() - this.#start;
  }

  /** The `Server-Timing` header value: every phase plus `total` (the time so far). */
  header(): string {
    return serverTiming(this.#phases, this.elapsed());
  }
}
