/**
 * `npm run bench`: measures raw onnxruntime-node, a hand-written server and edge-infer local mode
 * on loopback, prints the table and writes it (markdown, JSON) with a chart (SVG, PNG) under
 * bench-results/<timestamp>/. Settings: see settings.ts (BENCH_SECONDS=1 for a quick run).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { panels, svgChart } from "./chart";
import { ROOT, shippedBatching } from "./children";
import { coldTable, coldTarget } from "./cold-rows";
import { type DecodeRow, decodeTable, decodeTargets, encodeTable } from "./decode-rows";
import { SETTLE_MAX_MS } from "./http-rows";
import { modeTable } from "./mode-rows";
import { perfAnalyzerTable, perfAnalyzerTargets } from "./perf-analyzer-rows";
import { perfTargets } from "./perf-targets";
import { pipelineTable } from "./pipeline-rows";
import { renderChart } from "./png";
import { readmeTable } from "./readme-table";
import { markdown, type Row, type Target, targets, withRatios } from "./report";
import { type BenchSettings, readSettings } from "./settings";
import { runSuite, type SuiteResult } from "./suite";

/** What a finished run wrote, and where. */
export interface BenchReport {
  rows: Row[];
  decode: DecodeRow[];
  targets: Target[];
  files: { markdown: string; json: string; svg: string; png: string };
}

/** The lines above the table: when, where, with what. */
export function preamble(s: BenchSettings, ortVersion: string): string {
  const cpu = cpus();
  return [
    `# edge-infer bench, ${new Date().toISOString()}`,
    "",
    `Machine: ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; onnxruntime-node ${ortVersion}.`,
    `Settings: every server settled by ${s.settleRequests} binary requests at c=1 (ocr-cls when benched; at most ${SETTLE_MAX_MS / 1000} s) before its first row; ${s.seconds} s per row after ${s.warmupSeconds} s warm-up; ORT intra-op threads ${s.threads} (inter-op 1, graph optimisation all, CPU) for every system; concurrency ${s.concurrency.join(", ")}.`,
    "Inputs: ocr-cls x [1,3,48,192], ocr-det x [1,3,320,320], FP32. edge-infer runs `gateway/node.ts` (local mode, LOG_LEVEL=ERROR) in a child process over a temporary copy of the demo repository (cache disabled except in the cache rows; batching per row). Clients: keep-alive HTTP/1.1 on loopback from the bench process; latency is measured client-side.",
  ].join("\n");
}

/** Runs the bench with `s` and writes its results; returns them. */
export async function runBench(
  s: BenchSettings,
  log: (line: string) => void = console.log,
): Promise<BenchReport> {
  const out = resolve(s.out);
  await mkdir(out, { recursive: true });
  const started = performance.now();
  const result: SuiteResult = await runSuite({ ...s, out }, log);
  const rows = withRatios(result.rows);
  const goals = [
    ...targets(rows),
    ...decodeTargets(result.decode),
    ...perfTargets(rows, await shippedBatching(rows)),
    ...perfAnalyzerTargets(result.perfAnalyzer),
  ];
  if (result.cold !== undefined) goals.push(coldTarget(result.cold));
  const ortPackage = JSON.parse(
    await readFile(join(ROOT, "node_modules/onnxruntime-node/package.json"), "utf8"),
  );
  const ortVersion = String(ortPackage.version);
  const decode =
    (result.decode.length === 0 ? "" : `\n${decodeTable(result.decode)}\n`) +
    (result.encode.length === 0 ? "" : `\n${encodeTable(result.encode)}\n`);
  const modes = result.memory.length === 0 ? "" : `\n${modeTable(rows, result.memory)}\n`;
  const cold = result.cold === undefined ? "" : `\n${coldTable(result.cold)}\n`;
  const readme = `\nFor the README (\`${commandOf()}\`):\n\n${readmeTable(rows)}\n`;
  const pipeline = result.pipeline === undefined ? "" : `\n${pipelineTable(result.pipeline)}\n`;
  const pa = `\n${perfAnalyzerTable(result.perfAnalyzer)}\n`;
  const md = markdown(rows, goals, preamble(s, ortVersion)) + decode + modes + cold + pipeline + pa + readme;
  const files = {
    markdown: join(out, "results.md"),
    json: join(out, "results.json"),
    svg: join(out, "chart.svg"),
    png: join(out, "chart.png"),
  };
  const title = `edge-infer bench: throughput (items/s) with p50/p99 latency, ${new Date().toISOString().slice(0, 16)}`;
  const ps = panels(rows);
  await writeFile(files.markdown, md);
  await writeFile(
    files.json,
    `${JSON.stringify({ settings: { ...s, out }, ortVersion, rows, targets: goals, decode: result.decode, encode: result.encode, memory: result.memory, cold: result.cold, pipeline: result.pipeline, rawBatchSweep: result.sweep }, null, 2)}\n`,
  );
  const svg = svgChart(ps, title);
  await writeFile(files.svg, svg);
  await writeFile(files.png, renderChart(svg).asPng());
  log("");
  log(md);
  log(
    `Took ${((performance.now() - started) / 1000).toFixed(0)} s. Results: ${out}/ (results.md, results.json, chart.svg, chart.png)`,
  );
  return { rows, decode: result.decode, targets: goals, files };
}

/** The command line that repeats a run with `s` (the variables that differ from the defaults). */
function commandOf(): string {
  const vars = Object.entries(process.env)
    .filter(([k]) => (k.startsWith("BENCH_") && k !== "BENCH_OUT") || k === "INFERENCE_THREAD")
    .map(([k, v]) => `${k}=${v}`);
  const flags = process.argv.slice(2);
  return [...vars, "npm run bench", ...(flags.length > 0 ? ["--", ...flags] : [])].join(" ");
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("test/bench/run.ts")) {
  runBench(readSettings()).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exit(1);
    },
  );
}
