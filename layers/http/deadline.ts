/** Bounds a backend call in time: past the deadline the caller gets BackendTimeout and the call is aborted. */
import { BackendTimeout } from "../errors";

/**
 * Runs `call` with a signal that aborts after `ms` or when `parent` aborts (the client went away).
 * Rejects with BackendTimeout at the deadline even if `call` ignores its signal.
 */
export async function withDeadline<T>(
  ms: number,
  what: string,
  parent: AbortSignal | undefined,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new BackendTimeout(`${what} did not answer within ${ms} ms`);
      reject(e); // first, so the timeout wins the race over whatever the abort makes `call` throw
      controller.abort(e);
    }, ms);
  });
  const onAbort = () => controller.abort(parent?.reason);
  parent?.addEventListener("abort", onAbort, { once: true });
  try {
    return await Promise.race([call(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener("abort", onAbort);
  }
}
