/**
 * Thread-mode rows (issue 14): ocr-cls binary requests at each concurrency against the gateway in
 * its default mode, with INFERENCE_THREAD=main and =worker, and in worker mode with two workers
 * (config.json's `instance_group` count 2, as the model container can run), batching off, each
 * gateway in its own child, taking turns; each child's resident memory (VmRSS) is read once the
 * rows are done.
 */
import { readFile } from "node:fs/promises";
import type { Tensor } from "../../layers/protocol/types";
import { benchRepository, profiled, type ServerChild, startGateway } from "./children";
import { measureHttp, settle } from "./http-rows";
import { type Measurement, type MeasureOptions, percentile, turnCycle, turnOrder } from "./measure";
import { binaryRequest, inputTensor, MODELS } from "./payloads";
import { type Row, rowOf } from "./report";
import type { BenchSettings } from "./settings";

/** The modes measured; "default" runs with INFERENCE_THREAD unset, "worker-2" is worker with two workers. */
export const MODES = ["default", "main", "worker", "worker-2"] as const;
export type Mode = (typeof MODES)[number];

/** A mode's INFERENCE_THREAD ("" unset) and instance_group count (undefined: none set). */
const setupOf = (mode: Mode): { thread: string; instances?: number } =>
  mode === "worker-2" ? { thread: "worker", instances: 2 } : { thread: mode === "default" ? "" : mode };

/** Memory of one mode's gateway after its rows. */
export interface ModeMemory {
  mode: Mode;
  rssMiB: number;
}

/** The variant a mode's rows carry in the table. */
export const modeVariant = (mode: Mode): string => {
  const { thread, instances } = setupOf(mode);
  if (thread === "") return "binary, thread default";
  return `binary, INFERENCE_THREAD=${thread}${instances === undefined ? "" : `, instance_group ${instances}`}`;
};

/** Resident set of process `pid`, MiB (Linux /proc; NaN elsewhere). */
export async function rssMiB(pid: number | undefined): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
}

/**
 * Windows per mode and concurrency, taken in turns (1 when quick): one full cycle of turnOrder's
 * balanced design, so that each mode opens a round, and follows each other mode, equally often.
 */
const ROUNDS = turnCycle(MODES.length);

/** Rounds of one mode as one measurement: counts summed, rates over the summed time, median p50/p99. */
export function combined(parts: readonly Measurement[]): Measurement {
  const median = (f: (m: Measurement) => number) => percentile(Float64Array.from(parts.map(f)).sort(), 0.5);
  const sum = (f: (m: Measurement) => number) => parts.reduce((a, m) => a + f(m), 0);
  const seconds = sum((m) => m.seconds);
  const tags: Record<string, number> = {};
  for (const m of parts) for (const [k, v] of Object.entries(m.tags)) tags[k] = (tags[k] ?? 0) + v;
  return {
    requests: sum((m) => m.requests),
    errors: sum((m) => m.errors),
    firstError: parts.find((m) => m.firstError !== undefined)?.firstError,
    seconds,
    rps: sum((m) => m.rps * m.seconds) / seconds,
    p50Ms: median((m) => m.p50Ms),
    p99Ms: median((m) => m.p99Ms),
    meanMs: median((m) => m.meanMs),
    tags,
  };
}

/** Measures ocr-cls in each mode at `s.concurrency`; returns the rows and each gateway's RSS. */
export async function measureModeRows(
  s: BenchSettings,
  timing: Pick<MeasureOptions, "durationMs" | "warmupMs" | "maxRequests">,
  expected: Tensor[] | undefined,
  log: (row: Row) => void,
): Promise<{ rows: Row[]; memory: ModeMemory[] }> {
  const model = MODELS["ocr-cls"];
  if (model === undefined) throw new Error("bench: no ocr-cls");
  const rows: Row[] = [];
  const memory: ModeMemory[] = [];
  const check = { expected, tolerance: 1e-3 };
  const request = binaryRequest(model.name, inputTensor(model));
  const repos: Array<{ uri: string; cleanup(): Promise<void> }> = [];
  const gateways: ServerChild[] = [];
  try {
    for (const mode of MODES) {
      const { thread, instances } = setupOf(mode);
      const repo = await benchRepository([model.name], {
        batching: false,
        cache: false,
        threads: s.threads,
        instances,
      });
      repos.push(repo);
      const env = { INFERENCE_THREAD: thread };
      gateways.push(await startGateway(repo.uri, { ...profiled(s, `mode-${mode}`), env }));
    }
    for (const g of gateways) await settle(g.port, request, s.settleRequests);
    // The modes take turns in short windows, so that a shared machine's load falls on each alike.
    const rounds = s.quick ? 1 : ROUNDS;
    const window = { ...timing, durationMs: timing.durationMs / rounds };
    for (const c of s.concurrency) {
      const parts: Measurement[][] = MODES.map(() => []);
      for (let r = 0; r < rounds; r++) {
        for (const i of turnOrder(gateways.length, r)) {
          const gateway = gateways[i] as ServerChild;
          const m = await measureHttp(gateway.port, request, { concurrency: c, ...window }, check);
          parts[i]?.push(m);
        }
      }
      for (const [i, mode] of MODES.entries()) {
        const head = { model: model.name, system: "edge-infer", batching: "off", items: 1 } as const;
        const row = rowOf({ ...head, variant: modeVariant(mode), concurrency: c }, combined(parts[i] ?? []));
        rows.push(row);
        log(row);
      }
    }
    for (const [i, mode] of MODES.entries()) {
      memory.push({ mode, rssMiB: await rssMiB(gateways[i]?.started.child.pid) });
    }
  } finally {
    for (const g of gateways) await g.stop();
    for (const r of repos) await r.cleanup();
  }
  return { rows, memory };
}

/** The thread-mode table (markdown): items/s and p99 per concurrency, and RSS, per mode. */
export function modeTable(rows: readonly Row[], memory: readonly ModeMemory[]): string {
  const cs = [...new Set(rows.map((r) => r.concurrency))].sort((a, b) => a - b);
  const head = `| ocr-cls binary, batching off | ${cs.map((c) => `c=${c} items/s (p50 / p99 ms)`).join(" | ")} | RSS MiB |`;
  const lines = [head, `|${" --- |".repeat(cs.length + 2)}`];
  for (const { mode, rssMiB: rss } of memory) {
    const cells = cs.map((c) => {
      const r = rows.find((x) => x.variant === modeVariant(mode) && x.concurrency === c);
      return r === undefined
        ? ""
        : `${r.itemsPerSec.toFixed(1)} (${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)})`;
    });
    lines.push(
      `| ${modeVariant(mode)} | ${cells.join(" | ")} | ${Number.isFinite(rss) ? rss.toFixed(0) : ""} |`,
    );
  }
  return lines.join("\n");
}
