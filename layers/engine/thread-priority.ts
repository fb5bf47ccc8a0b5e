/**
 * A thread's CPU priority: a worker whose version only answers mirrors (a shadow) runs at the lowest,
 * so that its runs take only the CPU time that client requests leave (worker-entry.ts).
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/** The lowest priority a thread can set itself (nice 19): it runs on what other threads leave. */
export const LOW_PRIORITY = 19;

/**
 * Lowers this thread's CPU priority (not the process's: on Linux a thread's id addresses it alone,
 * and threads started from it, such as ORT's pool, inherit it). Returns why not where it cannot.
 */
export function lowerThreadPriority(): string | undefined {
  let tid: number;
  try {
    // "<pid>/task/<tid>": Node has no gettid(); /proc names this thread.
    tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
  } catch {
    return "this system has no /proc/thread-self (not Linux)";
  }
  try {
    setPriority(tid, LOW_PRIORITY);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
