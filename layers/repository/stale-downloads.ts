/**
 * Partial downloads (`model.onnx.<pid>.<uuid>.tmp`) left in the cache by a process killed mid-download
 * would stay there for ever, filling Lambda's /tmp. At start they are removed, except those of
 * another process still running (two servers may share one cache directory).
 */
import type { Dirent } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { RepositoryLogger } from "./types";

const PARTIAL = /^model\.onnx\.(\d+)\.[0-9a-f-]{36}\.tmp$/;

/** Removes stale partial downloads under `root`; never throws (a sweep that fails leaves files, nothing else). */
export async function removeStaleDownloads(root: string, log: RepositoryLogger): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(root, { withFileTypes: true, recursive: true });
  } catch {
    return []; // no cache yet
  }
  const removed: string[] = [];
  for (const e of entries) {
    const pid = PARTIAL.exec(e.name)?.[1];
    if (!e.isFile() || pid === undefined || isOtherLiveProcess(Number(pid))) continue;
    const path = join(e.parentPath, e.name);
    try {
      await rm(path, { force: true });
      removed.push(path);
    } catch (error) {
      log("stale partial download cannot be removed", { path, error: String(error) });
    }
  }
  if (removed.length > 0) log("removed stale partial downloads", { files: removed });
  return removed;
}

/** Our own pid counts as dead: at start we have no download in flight (a container's pid repeats). */
function isOtherLiveProcess(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM"; // alive, someone else's
  }
}
