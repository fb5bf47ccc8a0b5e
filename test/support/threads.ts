/**
 * A process's threads as Linux's /proc shows them (`/proc/<pid>/task/<tid>/stat`): CPU time and
 * priority per thread, for tests and bench scripts. Linux only.
 */
import { readdirSync, readFileSync } from "node:fs";

/** One thread's figures: CPU time in clock ticks (10 ms) and its nice value. */
export interface ThreadStat {
  tid: number;
  utime: number;
  stime: number;
  nice: number;
}

/** Every thread of `pid` (this process by default); a thread that ends while they are read is left out. */
export function threadStats(pid: number | "self" = "self"): ThreadStat[] {
  const stats: ThreadStat[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue;
    }
    // The fields after the command's ")" start at stat's 3rd (state): utime is its 14th, stime its
    // 15th, nice its 19th.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    stats.push({ tid: Number(tid), utime: Number(f[11]), stime: Number(f[12]), nice: Number(f[16]) });
  }
  return stats;
}
