/**
 * Single flight: concurrent calls with the same key share one execution. The promise is forgotten
 * as soon as it settles, so a failure reaches the callers of that flight but is never remembered.
 *
 * Each caller may bring its client's signal. A caller whose signal aborts stops waiting at once
 * (rejected with the signal's reason); the shared execution is aborted only when every caller has
 * gone, so one client leaving never fails another.
 */
import { releaseController, takeController } from "../../layers/http/abort-pool";

interface Flight {
  promise: Promise<unknown>;
  controller: AbortController;
  /** Callers still waiting whose client may go away. */
  waiting: number;
  /** A caller without a signal joined: the execution is never aborted for a client. */
  held: boolean;
}

export class SingleFlight {
  private readonly flights = new Map<string, Flight>();

  /** Keys with an execution in progress. */
  get size(): number {
    return this.flights.size;
  }

  /**
   * Runs `fn` unless a call with `key` is already running, in which case its result is shared.
   * `fn`'s signal aborts once every caller's `signal` has aborted (never if one came without).
   */
  do<T>(key: string, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted === true) return Promise.reject(signal.reason);
    let flight = this.flights.get(key);
    if (flight === undefined) {
      const controller = takeController();
      // Starting fn from a then() makes a synchronous throw a rejection that still clears the entry.
      const promise: Promise<T> = Promise.resolve()
        .then(() => fn(controller.signal))
        .finally(() => {
          if (this.flights.get(key)?.promise === promise) this.flights.delete(key);
          releaseController(controller);
        });
      flight = { promise, controller, waiting: 0, held: false };
      this.flights.set(key, flight);
    }
    if (signal === undefined) {
      flight.held = true;
      return flight.promise as Promise<T>;
    }
    return this.wait(key, flight, signal) as Promise<T>;
  }

  /** The flight's result for one caller, or its own signal's reason as soon as its client goes. */
  private wait(key: string, flight: Flight, signal: AbortSignal): Promise<unknown> {
    flight.waiting++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        reject(signal.reason);
        flight.waiting--;
        if (flight.waiting > 0 || flight.held) return;
        // Everyone left: a newcomer with the same key starts afresh rather than join an aborted call.
        if (this.flights.get(key) === flight) this.flights.delete(key);
        flight.controller.abort(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      flight.promise.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }
}
