/**
 * Single flight: concurrent calls with the same key share one execution. The promise is forgotten
 * as soon as it settles, so a failure reaches the callers of that flight but is never remembered.
 */
export class SingleFlight {
  private readonly flights = new Map<string, Promise<unknown>>();

  /** Keys with an execution in progress. */
  get size(): number {
    return this.flights.size;
  }

  /** Runs `fn` unless a call with `key` is already running, in which case its promise is shared. */
  do<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const running = this.flights.get(key);
    if (running !== undefined) return running as Promise<T>;
    // Starting fn from a then() makes a synchronous throw a rejection that still clears the entry.
    const flight: Promise<T> = Promise.resolve()
      .then(fn)
      .finally(() => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      });
    this.flights.set(key, flight);
    return flight;
  }
}
