/**
 * The bench's measuring loop: `concurrency` closed-loop workers call a function until time is up;
 * latencies are measured around each call, a warm-up period is run but not recorded.
 */

/** What one measured run gave. */
export interface Measurement {
  /** Calls completed in the measured window, errors included. */
  requests: number;
  errors: number;
  /** The first error's message, to show what went wrong. */
  firstError: string | undefined;
  /** Length of the measured window, in seconds. */
  seconds: number;
  /** Successful calls per second. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** How often each tag a call returned was seen (e.g. X-Cache values). */
  tags: Record<string, number>;
}

/** Options of `measure`. */
export interface MeasureOptions {
  concurrency: number;
  /** Measured window. */
  durationMs: number;
  /** Run before the window, not recorded. */
  warmupMs: number;
  /**
   * The window opens only once every worker has also completed this many calls (after warmupMs):
   * a row whose requests take hundreds of ms would otherwise time a server's first seconds under
   * that load (its JIT, its heap, its buffers growing) as if they were its steady state. @default 0
   */
  warmupCalls?: number;
  /** Stop early once this many calls were recorded (smoke tests). */
  maxRequests?: number;
}

/**
 * Runs `call(worker, seq)` in `concurrency` loops. A call resolves with an optional tag, or throws
 * (counted as an error; the loop goes on). A call is recorded when it starts in the window. Calls
 * slower than warm-up and window together (ocr-det's 6 MB JSON at c=32 on a server that parses each
 * one on its main thread: 4–10 s each) would leave the window empty, so it stays open until
 * `concurrency` calls (or `maxRequests`, if fewer) have started in it, and the rate is taken from
 * the first recorded start.
 */
export async function measure(
  options: MeasureOptions,
  call: (worker: number, seq: number) => Promise<string | undefined>,
): Promise<Measurement> {
  const latencies: number[] = [];
  const tags: Record<string, number> = {};
  let errors = 0;
  let firstError: string | undefined;
  let seq = 0;
  const t0 = performance.now();
  const warmupCalls = options.warmupCalls ?? 0;
  // With warmupCalls, the window is set once the last worker completed its share of the warm-up.
  let windowStart = warmupCalls > 0 ? Number.POSITIVE_INFINITY : t0 + options.warmupMs;
  let windowEnd = windowStart + options.durationMs;
  const warmed = new Array<number>(options.concurrency).fill(0);
  let workersWarm = 0;
  const warm = (w: number) => {
    warmed[w] = (warmed[w] ?? 0) + 1;
    if (warmed[w] !== warmupCalls || ++workersWarm < options.concurrency) return;
    windowStart = Math.max(performance.now(), t0 + options.warmupMs);
    windowEnd = windowStart + options.durationMs;
  };
  const max = options.maxRequests ?? Number.POSITIVE_INFINITY;
  const least = Math.min(options.concurrency, max);
  let claimed = 0;
  let firstRecorded: number | undefined;

  const worker = async (w: number) => {
    for (;;) {
      const started = performance.now();
      if (started >= windowEnd && claimed >= least) return;
      const recorded = started >= windowStart;
      // A call is counted when it starts in the window; claiming first keeps maxRequests exact.
      if (recorded && claimed++ >= max) return;
      if (recorded) firstRecorded ??= started;
      let tag: string | undefined;
      let failed = false;
      try {
        tag = await call(w, seq++);
      } catch (e) {
        failed = true;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
      if (!recorded) {
        if (warmupCalls > 0) warm(w);
        continue;
      }
      if (failed) errors++;
      else {
        latencies.push(performance.now() - started);
        if (tag !== undefined) tags[tag] = (tags[tag] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  const seconds = Math.max(1e-9, (performance.now() - (firstRecorded ?? windowStart)) / 1000);
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length + errors,
    errors,
    firstError,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: latencies.length === 0 ? Number.NaN : latencies.reduce((a, b) => a + b, 0) / latencies.length,
    tags,
  };
}

/** The nearest-rank percentile of ascending `sorted` (NaN when empty). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/**
 * The order in which to measure `n` systems at turn `turn` (a point, a round): the rows of a Williams
 * design. Over `turnCycle(n)` turns each system opens equally often and follows each other system
 * equally often, so that neither the slot right after the load changed nor what the system before
 * left behind (measured: a gateway timed right after a worker-mode gateway lost 5–12 % against the
 * same gateway timed after a main-mode one) falls on one system more than on another.
 */
export function turnOrder(n: number, turn: number): number[] {
  // First row 0, 1, n-1, 2, n-2, …; row k adds k (mod n); for odd n the mirrored rows follow.
  const base: number[] = [];
  for (let j = 0, lo = 1, hi = n - 1; j < n; j++) base.push(j === 0 ? 0 : j % 2 === 1 ? lo++ : hi--);
  const t = turn % turnCycle(n);
  const row = base.map((b) => (b + t) % n);
  return t < n ? row : row.reverse();
}

/** Turns after which turnOrder's rows repeat: n for an even n, 2n for an odd one. */
export function turnCycle(n: number): number {
  return n % 2 === 0 ? n : 2 * n;
}
