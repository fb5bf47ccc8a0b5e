/**
 * AbortControllers handed from one backend call to the next. Node 20's AbortSignal is costly to the
 * garbage collector: each one keeps about 1 KB alive through two scavenges, which then promote it,
 * so two per request made the gateway's scavenges at c=1 twice as long (medians 1.8 against 0.9
 * ms: the lone request's largest stall, one every ~150 requests). A controller whose call ended
 * without an abort and with no listener left on its signal cannot be told from a new one, so the
 * next call takes it instead.
 */
import { getEventListeners } from "node:events";

const spare: AbortController[] = [];
/** Spare controllers kept: about as many calls as end together under load. */
const MAX_SPARE = 256;

/** A controller whose signal has not aborted and has no listener. */
export function takeController(): AbortController {
  return spare.pop() ?? new AbortController();
}

/**
 * Hands `controller` back once its call has ended. One that aborted, or whose signal still has a
 * listener (a consumer that did not remove its own), is left to the garbage collector.
 */
export function releaseController(controller: AbortController): void {
  const signal = controller.signal;
  if (spare.length < MAX_SPARE && !signal.aborted && getEventListeners(signal, "abort").length === 0) {
    spare.push(controller);
  }
}
