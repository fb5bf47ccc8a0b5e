/**
 * Thread-mode rows (issue 14): ocr-cls binary requests at each concurrency against the gateway in
 * its default mode and with INFERENCE_THREAD=main and =worker, batching off, each gateway in its own
 * child; the child's resident memory (VmRSS) is read once its rows are done.
 */
import { readFile } from "node:fs/promises";
import type { Tensor } from "../../layers/protocol/types";
import { benchRepository, profiled, startGateway } from "./children";
import { measureHttp } from "./http-rows";
import type { MeasureOptions } from "./measure";
import { binaryRequest, inputTensor, MODELS } from "./payloads";
import { type Row, rowOf } from "./report";
import type { BenchSettings } from "./settings";

/** The modes measured; "default" runs with INFERENCE_THREAD unset. */
export const MODES = ["default", "main", "worker"] as const;
export type Mode = (typeof MODES)[number];

/** Memory of one mode's gateway after its rows. */
export interface ModeMemory {
  mode: Mode;
  rssMiB: number;
}

/** The variant a mode's rows carry in the table. */
export const modeVariant = (mode: Mode): string =>
  mode === "default" ? "binary, thread default" : `binary, INFERENCE_THREAD=${mode}`;

/** Resident set of process `pid`, MiB (Linux /proc; NaN elsewhere). */
export async function rssMiB(pid: number | undefined): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024;
  } catch {
    return Number.NaN;
  }
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
  const request = binaryRequest(model.name, inputTensor(model));
  const repo = await benchRepository([model.name], { batching: false, cache: false, threads: s.threads });
  try {
    for (const mode of MODES) {
      const env = { INFERENCE_THREAD: mode === "default" ? "" : mode };
      const gateway = await startGateway(repo.uri, { ...profiled(s, `mode-${mode}`), env });
      try {
        for (const c of s.concurrency) {
          const m = await measureHttp(
            gateway.port,
            request,
            { concurrency: c, ...timing },
            { expected, tolerance: 1e-3 },
          );
          const head = { model: model.name, system: "edge-infer", batching: "off", items: 1 } as const;
          const row = rowOf({ ...head, variant: modeVariant(mode), concurrency: c }, m);
          rows.push(row);
          log(row);
        }
        memory.push({ mode, rssMiB: await rssMiB(gateway.started.child.pid) });
      } finally {
        await gateway.stop();
      }
    }
  } finally {
    await repo.cleanup();
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
