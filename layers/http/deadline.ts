/** Bounds a backend call in time: past the deadline the caller gets BackendTimeout and the call is aborted. */
import { BackendTimeout } from "../errors";
import { releaseController, takeController } from "./abort-pool";

/**
 * Runs `call` with a signal that aborts after `ms` or when `parent` aborts (the client went away).
 * Rejects with BackendTimeout at the deadline even if `call` ignores its signal.
 */
export function withDeadline<T>(
  ms: number,
  what: string,
  parent: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  // One promise and one timer per call (no Promise.race over a second deadline promise): this
  // runs on every backend call, and settling first wins, so the timeout still beats the abort.
  const controller = takeController();
  const onAbort = parent === undefined ? undefined : () => controller.abort(parent.reason);
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const e = new BackendTimeout(`${what} did not answer within ${ms} ms`);
      reject(e); // first, so the timeout wins the race over whatever the abort makes `call` throw
      controller.abort(e);
    }, ms);
    // A caller already gone: the call starts aborted (a listener would never hear it).
    if (parent?.aborted === true) controller.abort(parent.reason);
    else if (onAbort !== undefined) parent?.addEventListener("abort", onAbort, { once: true });
    let pending: Promise<T>;
    try {
      pending = call(controller.signal);
    } catch (e) {
      pending = Promise.reject(e);
    }
    // Anonymous callbacks: named closures cost a defineProperty each under tsx (keepNames).
    pending.then(
      (value) => {
        clearTimeout(timer);
        if (onAbort !== undefined) parent?.removeEventListener("abort", onAbort);
        releaseController(controller);
        resolve(value);
      },
      (e: unknown) => {
        clearTimeout(timer);
        if (onAbort !== undefined) parent?.removeEventListener("abort", onAbort);
        releaseController(controller);
        reject(e);
      },
    );
  });
}
