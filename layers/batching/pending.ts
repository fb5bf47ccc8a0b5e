/** A queued request and the small helpers around it. */
import { BackendTimeout, ModelNotReady } from "../errors";
import type { Tensor } from "../protocol/types";
import type { SubmitResult } from "./types";

/** One request waiting in a batcher's queue. */
export interface Pending {
  /** As submitted: a batch of one passes them to `run` untouched. */
  readonly inputs: Tensor[];
  /** Sorted by name, for stacking. */
  readonly sorted: Tensor[];
  readonly outputs: string[] | undefined;
  readonly rows: number;
  readonly key: string;
  /** `performance.now()` at submission, in ms. */
  readonly submittedAt: number;
  /** ms on the same clock; Infinity = none. */
  readonly deadline: number;
  readonly timeoutMicros: number;
  /**
   * Set when the queue-delay timer fired while this request was the oldest: its batch goes now,
   * whatever the clock says (a timer may fire a hair before the clock agrees).
   */
  due: boolean;
  /** The client's signal: a request that has to wait leaves the queue when it aborts. */
  readonly signal: AbortSignal | undefined;
  /** Set once the request has had to wait and guardWaiting gave it its deadline timer and abort listener. */
  guarded: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  detach: (() => void) | undefined;
  resolve(result: SubmitResult): void;
  reject(error: unknown): void;
}

/** Stops its deadline timer and abort listener: it leaves the queue. */
export function release(p: Pending): void {
  if (p.timer !== undefined) clearTimeout(p.timer);
  p.timer = undefined;
  p.detach?.();
  p.detach = undefined;
}

/** The error of a request whose deadline passed while queued. */
export function timedOut(p: Pending): BackendTimeout {
  const waited = Math.round((performance.now() - p.submittedAt) * 1000);
  return new BackendTimeout(
    `request waited ${waited} µs in the model queue, past its deadline of ${p.timeoutMicros} µs`,
  );
}

/** The error of a request refused or dropped by `close()`. */
export function shuttingDown(): ModelNotReady {
  return new ModelNotReady("model is shutting down: the request was not run");
}

/** What an aborted request is rejected with: the signal's reason, as fetch does. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}
