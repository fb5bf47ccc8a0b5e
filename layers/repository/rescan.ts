/**
 * A miss cache for repository listings: a request for a model or version the server has not seen
 * may look in the repository again, but at most once per interval per key, and concurrent misses
 * share one look. A flood of requests for something that is not there costs one listing per interval.
 */

/** Default time between two listings for the same key (ms). */
export const DEFAULT_RESCAN_INTERVAL_MS = 2000;

interface Scan {
  promise: Promise<unknown>;
  /** When the scan finished (Infinity while it runs). */
  doneAt: number;
}

/** Runs a listing per key, at most once per `intervalMs`; within it, the last one's result is reused. */
export class RateLimitedScan {
  private readonly scans = new Map<string, Scan>();

  constructor(
    private readonly intervalMs = DEFAULT_RESCAN_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The result of `scan()` run now, or of the last one for `key` if it is running or ended less than the interval ago. */
  run<T>(key: string, scan: () => Promise<T>): Promise<T> {
    const last = this.scans.get(key);
    if (last !== undefined && this.now() - last.doneAt < this.intervalMs) return last.promise as Promise<T>;
    const entry: Scan = { promise: Promise.resolve(), doneAt: Number.POSITIVE_INFINITY };
    const settle = () => {
      entry.doneAt = this.now();
    };
    const promise = scan();
    promise.then(settle, settle);
    entry.promise = promise;
    this.scans.set(key, entry);
    return promise;
  }
}
