/**
 * Triton's perf_analyzer as the bench's load generator: where the tool is, its command line for one
 * model × tensor format × concurrency point, the data file it sends, and reading what it measured
 * (its `-f` CSV for infer/s and latency percentiles, its stdout for the request count and errors).
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type BenchModel, inputData } from "./payloads";

/** The tool: `PERF_ANALYZER`, else `../shared/tools/perf_analyzer` beside the repository; undefined when neither exists. */
export function findPerfAnalyzer(
  env: Record<string, string | undefined>,
  root: string,
): { path?: string; looked: string[] } {
  const looked = [env.PERF_ANALYZER, resolve(root, "../shared/tools/perf_analyzer")].filter(
    (p): p is string => p !== undefined && p !== "",
  );
  const path = looked.find((p) => existsSync(p));
  return path === undefined ? { looked } : { path, looked };
}

/** Request and response tensor format: the binary extension or JSON both ways. */
export type TensorFormat = "binary" | "json";

/** One measured point. */
export interface PerfPoint {
  model: string;
  format: TensorFormat;
  concurrency: number;
}

/** What a run of one point needs besides the point. */
export interface PerfRunOptions {
  /** `127.0.0.1:<port>` */
  url: string;
  /** perf_analyzer's `--input-data` JSON file (writeDataFile). */
  dataFile: string;
  /** Its `-f` report. */
  csv: string;
  /** Completed requests that close a measurement window (count_windows). */
  windowRequests: number;
}

/** Measurement windows per point: perf_analyzer's stability check needs three, and merges them. */
export const TRIALS = 3;

/**
 * perf_analyzer's arguments for one point. Count windows, not time windows: a window closes once
 * `windowRequests` requests completed (and at least 1 s passed), so a point whose requests take
 * seconds (ocr-det JSON at c=32) still fills its windows, where a fixed time window would record
 * none. The stability threshold is set out of reach: the three windows are measured and merged
 * whatever the machine's other load does to them, which keeps every point bounded.
 */
export function perfAnalyzerArgs(p: PerfPoint, o: PerfRunOptions): string[] {
  return [
    ...["-m", p.model, "-u", o.url, "-i", "http", "--input-data", o.dataFile],
    ...["--input-tensor-format", p.format, "--output-tensor-format", p.format],
    ...["--concurrency-range", `${p.concurrency}:${p.concurrency}`],
    ...["--measurement-mode", "count_windows", "--measurement-request-count", String(o.windowRequests)],
    ...["--max-trials", String(TRIALS), "--stability-percentage", "1000"],
    ...["-H", "Cache-Control:no-cache, no-store", "-f", o.csv],
  ];
}

/** The fewest completed requests that close a window, whatever the concurrency: 8, or 1 when quick. */
export const windowFloor = (quick: boolean): number => (quick ? 1 : 8);

/** Requests per window: at least `c` (every connection answered once) and at least the floor. */
export function windowRequests(concurrency: number, quick: boolean): number {
  return Math.max(concurrency, windowFloor(quick));
}

/** A command line to paste into a shell. */
export function shellLine(bin: string, args: readonly string[]): string {
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
  return [bin, ...args].map(quote).join(" ");
}

/**
 * perf_analyzer's data file for `model`'s bench input (payloads.ts inputData, batch 1): the floats
 * as base64 of their little-endian bytes. perf_analyzer sends them as they are in binary requests and
 * as full-precision numbers in JSON ones, as stock clients do (random data would include NaN, which
 * JSON cannot carry).
 */
export async function writeDataFile(model: BenchModel, path: string): Promise<void> {
  const x = inputData(model, 1);
  const b64 = Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("base64");
  await writeFile(path, JSON.stringify({ data: [{ x: { content: { b64 }, shape: model.item } }] }));
}

/** What perf_analyzer measured at one point. */
export interface PerfFigures {
  inferPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Requests in the merged windows. */
  requests: number;
}

/** infer/s, p50 and p99 from perf_analyzer's `-f` CSV (latencies in µs; columns by name, server columns optional). */
export function parseCsv(text: string): Omit<PerfFigures, "requests"> {
  const [head, row] = text.trim().split("\n");
  if (head === undefined || row === undefined) throw new Error(`perf_analyzer CSV has no data row: ${text}`);
  const names = head.split(",");
  const values = row.split(",");
  const column = (name: string) => {
    const i = names.indexOf(name);
    const v = Number(values[i]);
    if (i < 0 || !Number.isFinite(v)) throw new Error(`perf_analyzer CSV lacks "${name}": ${head}`);
    return v;
  };
  return {
    inferPerSec: column("Inferences/Second"),
    p50Ms: column("p50 latency") / 1000,
    p99Ms: column("p99 latency") / 1000,
  };
}

/** The client's request count, and every error line, from perf_analyzer's stdout. */
export function parseStdout(text: string): { requests: number; errors: string[] } {
  const count = /Client:\s*\n\s*Request count: (\d+)/.exec(text);
  const errors = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /error|failed/i.test(l));
  return { requests: count === null ? 0 : Number(count[1]), errors };
}

/**
 * The figures of one finished run, or an error naming the point when perf_analyzer exited non-zero,
 * printed an error (a non-2xx answer, a body it could not parse) or measured nothing.
 */
export function figuresOf(
  p: PerfPoint,
  exit: number | string,
  stdout: string,
  csv: string | undefined,
): PerfFigures {
  const { requests, errors } = parseStdout(stdout);
  const at = `${p.model} ${p.format} c=${p.concurrency}`;
  if (exit !== 0 || errors.length > 0 || requests === 0 || csv === undefined) {
    const why =
      errors.length > 0 ? errors.slice(0, 3).join(" | ") : stdout.trim().split("\n").slice(-5).join(" | ");
    throw new Error(`perf_analyzer at ${at} failed (exit ${exit}): ${why}`);
  }
  return { ...parseCsv(csv), requests };
}
