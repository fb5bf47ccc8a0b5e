/**
 * The perf_analyzer rows of `npm run bench` (BENCH_PERF_ANALYZER): Triton's perf_analyzer drives the
 * hand-written server, then edge-infer started as `npm start` starts it, at every model × tensor
 * format (binary, JSON) × concurrency of the settings, with the same arguments, cache bypassed
 * (`Cache-Control: no-cache, no-store`); a markdown table with edge-infer ÷ hand-written, and the
 * command line. A third server, the hand-written one in echo mode (BENCH_ECHO: it reads each body and
 * answers from memory), gives the load generator's own ceiling on this machine at each JSON point: on 2
 * vCPUs perf_analyzer's client work (it writes every JSON body's numbers anew) bounds what any server
 * can show. Any failed request fails the part. Bounded: each point is 3 count windows of at
 * least 1 s (perf-analyzer.ts).
 */
import { execFile, spawn } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { benchRepository, ROOT, type ServerChild, startGateway, startHandwritten } from "./children";
import { settle, settleRequest } from "./http-rows";
import { turnOrder } from "./measure";
import { MODELS } from "./payloads";
import {
  figuresOf,
  findPerfAnalyzer,
  type PerfFigures,
  type PerfPoint,
  perfAnalyzerArgs,
  shellLine,
  type TensorFormat,
  windowFloor,
  windowRequests,
  writeDataFile,
} from "./perf-analyzer";
import type { Target } from "./report";
import { type BenchSettings, readSettings } from "./settings";

/** One point measured on each server. */
export interface PerfRow extends PerfPoint {
  edge: PerfFigures;
  hand: PerfFigures;
  /** The same point against a server that reads each body and answers from memory (JSON points only). */
  ceiling?: PerfFigures;
}

/** What the part measured, or why it did not run. */
export type PerfAnalyzerResult =
  | { ran: false; why: string }
  | { ran: true; rows: PerfRow[]; command: string; seconds: number; windowFloor: number; leftOut: string[] };

type Servers = "edge" | "hand" | "ceiling";

const SERVER_NAMES: Record<Servers, string> = {
  edge: "edge-infer",
  hand: "hand-written",
  ceiling: "ceiling",
};

/** The perf_analyzer the part runs, or why it runs none. */
export type PerfAnalyzerTool = { path: string } | { why: string };

/**
 * Which perf_analyzer the part will run, checked before the bench's first row: found (PERF_ANALYZER,
 * else beside the repository) and able to start (`--version` exits 0; the build needs gRPC, protobuf,
 * curl and b64 libraries, which a fresh machine may lack). Off, missing or unable to start: the part
 * is left out with the reason, unless BENCH_PERF_ANALYZER asked for it, which then stops the bench
 * at once rather than after every other row.
 */
export async function perfAnalyzerTool(
  s: Pick<BenchSettings, "perfAnalyzer">,
  env: Record<string, string | undefined> = process.env,
  root = ROOT,
): Promise<PerfAnalyzerTool> {
  if (s.perfAnalyzer === false) return { why: "BENCH_PERF_ANALYZER is off" };
  const { path, looked } = findPerfAnalyzer(env, root);
  let why = `perf_analyzer not found (looked at ${looked.join(", ")}; set PERF_ANALYZER)`;
  if (path !== undefined) {
    const failed = await cannotStart(path);
    if (failed === undefined) return { path };
    why = failed;
  }
  if (s.perfAnalyzer === true) throw new Error(`bench: BENCH_PERF_ANALYZER is on but ${why}`);
  return { why };
}

/** Why `bin --version` fails (its first line of output), or undefined when it runs. */
function cannotStart(bin: string): Promise<string | undefined> {
  return new Promise((done) => {
    execFile(bin, ["--version"], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error === null) return done(undefined);
      const said = `${stderr}\n${stdout}`.split("\n").find((l) => l.trim() !== "") ?? error.message;
      done(
        `${bin} does not start (${said.trim()}); on Debian 12 it needs ` +
          "`apt-get install -y libgrpc++1.51 libprotobuf32 libcurl4 libb64-0d`",
      );
    });
  });
}

/** Runs the part with `tool` (perfAnalyzerTool); `log` gets one line per point. */
export async function measurePerfAnalyzerRows(
  s: BenchSettings,
  log: (line: string) => void,
  tool: PerfAnalyzerTool,
): Promise<PerfAnalyzerResult> {
  if ("why" in tool) return skipped(tool.why, log);
  const started = performance.now();
  const dir = join(s.out, "perf-analyzer");
  await mkdir(dir, { recursive: true });
  const data = new Map<string, string>();
  for (const name of s.models) {
    const model = MODELS[name];
    if (model === undefined) throw new Error(`unknown bench model ${name}`);
    const file = join(dir, `${name}.json`);
    data.set(name, file);
    await writeDataFile(model, file);
  }
  const formats: TensorFormat[] = s.json ? ["binary", "json"] : ["binary"];
  const points = s.models.flatMap((model) =>
    formats.flatMap((format) => s.concurrency.map((concurrency) => ({ model, format, concurrency }))),
  );
  const figures: Record<Servers, Map<PerfPoint, PerfFigures>> = {
    edge: new Map(),
    hand: new Map(),
    ceiling: new Map(),
  };
  /** Quick runs leave out the points whose requests would take seconds (decided on the hand-written server). */
  const leftOut = new Set<PerfPoint>();
  let command = "";
  const runOn = async (server: Servers, child: ServerChild, p: PerfPoint) => {
    const first = points.find((q) => q.model === p.model && q.format === p.format) as PerfPoint;
    const lone = figures.hand.get(first)?.p50Ms;
    if (s.quick && lone !== undefined && slowWhenQuick(p.concurrency, lone)) leftOut.add(p);
    if (leftOut.has(p)) return;
    // A binary client's work is small (its ceiling ran 8-12x the servers'), and perf_analyzer keeps
    // memory per request: against a server that answers ocr-det from memory at c=8 it grew past 23 GB.
    if (server === "ceiling" && p.format === "binary") return;
    const csv = join(dir, `${server}-${p.model}-${p.format}-c${p.concurrency}.csv`);
    const args = perfAnalyzerArgs(p, {
      url: `127.0.0.1:${child.port}`,
      dataFile: data.get(p.model) ?? "",
      csv,
      windowRequests: windowRequests(p.concurrency, s.quick),
    });
    if (server === "edge" && command === "") command = shellLine(tool.path, args);
    const t = performance.now();
    const f = await runPoint(tool.path, args, p, csv);
    figures[server].set(p, f);
    log(
      `perf_analyzer | ${SERVER_NAMES[server]} ${p.model} ${p.format} c=${p.concurrency}: ${f.inferPerSec.toFixed(1)} infer/s, p50 ${f.p50Ms.toFixed(2)} ms, p99 ${f.p99Ms.toFixed(2)} ms (${f.requests} requests, ${((performance.now() - t) / 1000).toFixed(1)} s)`,
    );
  };

  // The three servers up together, measured back to back at each point (the one that opens rotating),
  // so that each ratio compares figures taken seconds apart on a machine whose speed drifts.
  // The demo's config.json per model (ocr-cls batching on, ocr-det off; cache on, bypassed by the header).
  const repo = await benchRepository(s.models, { batching: "demo", cache: true, threads: s.threads });
  const stops: Array<() => Promise<void>> = [() => repo.cleanup()];
  try {
    const hand = await startHandwritten(s.models, s.threads);
    stops.push(() => hand.stop());
    const gateway = await startGateway(repo.uri);
    stops.push(() => gateway.stop());
    const ceiling = await startHandwritten(s.models, s.threads, { env: { BENCH_ECHO: "1" } });
    stops.push(() => ceiling.stop());
    const servers: Array<[Servers, ServerChild]> = [
      ["hand", hand],
      ["edge", gateway],
      ["ceiling", ceiling],
    ];
    // Settled first, as in the other rows (http-rows.ts, settle); the cache bypassed, as perf_analyzer does.
    const settling = settleRequest(s.models, { "Cache-Control": "no-cache, no-store" });
    for (const child of [hand, gateway]) await settle(child.port, settling, s.settleRequests);
    for (const [i, p] of points.entries()) {
      for (const k of turnOrder(servers.length, i)) {
        const [server, child] = servers[k] as [Servers, ServerChild];
        await runOn(server, child, p);
      }
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
  const rows = points
    .filter((p) => !leftOut.has(p))
    .map(
      (p) =>
        ({
          ...p,
          edge: figures.edge.get(p),
          hand: figures.hand.get(p),
          ceiling: figures.ceiling.get(p),
        }) as PerfRow,
    );
  const seconds = (performance.now() - started) / 1000;
  const left = [...leftOut].map((p) => `${p.model} ${p.format} c=${p.concurrency}`);
  return { ran: true, rows, command, seconds, windowFloor: windowFloor(s.quick), leftOut: left };
}

/**
 * The Python peers' perf_analyzer figures of issue 14 (infer/s by concurrency, measured on another
 * machine of this class; they cannot be installed here): KServe's ModelServer for binary, MLServer
 * for JSON.
 */
export const PEER_FIGURES: Record<
  string,
  Record<TensorFormat, { peer: string; inferPerSec: Record<number, number> }>
> = {
  "ocr-cls": {
    binary: { peer: "KServe ModelServer", inferPerSec: { 1: 90, 8: 92, 32: 92 } },
    json: { peer: "MLServer", inferPerSec: { 1: 97, 8: 166, 32: 166 } },
  },
  "ocr-det": {
    binary: { peer: "KServe ModelServer", inferPerSec: { 1: 6, 8: 7.5, 32: 7.8 } },
    json: { peer: "MLServer", inferPerSec: { 1: 6.0, 8: 6.0, 32: 8.1 } },
  },
};

/**
 * Issue 14's peer targets under perf_analyzer: edge-infer at least the peer's figure at each point
 * that has one. A JSON point names the load generator's ceiling on this machine and the share of it
 * the peer's figure would need, beside edge-infer's share.
 */
export function perfAnalyzerTargets(r: PerfAnalyzerResult): Target[] {
  if (!r.ran) return [];
  const out: Target[] = [];
  for (const x of r.rows) {
    const figure = PEER_FIGURES[x.model]?.[x.format];
    const want = figure?.inferPerSec[x.concurrency];
    if (figure === undefined || want === undefined) continue;
    const got = x.edge.inferPerSec;
    const ceiling = x.ceiling?.inferPerSec;
    const share =
      ceiling === undefined
        ? ""
        : `; perf_analyzer's ceiling here ${ceiling.toFixed(1)}: edge-infer ${(got / ceiling).toFixed(2)} of it, the peer's figure ${(want / ceiling).toFixed(2)}`;
    out.push({
      name: `perf_analyzer ${x.model} c=${x.concurrency} ${x.format === "json" ? "JSON" : "binary"}: ≥ ${figure.peer}'s figure (issue 14, another machine)`,
      measured: `${got.toFixed(1)} vs ${want} infer/s (${(got / want).toFixed(2)}×${share})`,
      wanted: "≥ 1.00×",
      pass: got >= want,
    });
  }
  return out;
}

/**
 * When quick: a point whose requests would take over 2 s (c × the hand-written server's p50 at the
 * first concurrency) is left out on both servers; its windows and the wait for its last requests
 * would take most of a quick run (ocr-det JSON at c=8 and 32: over a minute each on 2 loaded cores).
 */
export function slowWhenQuick(concurrency: number, firstP50Ms: number): boolean {
  return concurrency * firstP50Ms > 2000;
}

function skipped(why: string, log: (line: string) => void): PerfAnalyzerResult {
  log(`perf_analyzer rows not run: ${why}`);
  return { ran: false, why };
}

/** Runs perf_analyzer once; its figures, or an error naming the point and what it printed. */
async function runPoint(bin: string, args: string[], p: PerfPoint, csv: string): Promise<PerfFigures> {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const exit = await new Promise<number | string>((done, fail) => {
    child.on("error", fail);
    child.on("exit", (code, signal) => done(code ?? signal ?? -1));
  });
  const report = exit === 0 ? await readFile(csv, "utf8").catch(() => undefined) : undefined;
  return figuresOf(p, exit, out, report);
}

/** The part's markdown: the table (edge-infer beside hand-written, their ratio) and the command. */
export function perfAnalyzerTable(r: PerfAnalyzerResult): string {
  if (!r.ran) return `### Triton perf_analyzer\n\nNot run: ${r.why}.`;
  const f = (n: number) => n.toFixed(n >= 100 ? 0 : n >= 10 ? 1 : 2);
  const lines = [
    "### Triton perf_analyzer: edge-infer (as `npm start` runs it) and the hand-written server, cache bypassed",
    "",
    "| model | format | c | edge-infer infer/s | p50 ms | p99 ms | hand-written infer/s | p50 ms | p99 ms | infer/s ÷ hand | ceiling infer/s | edge-infer ÷ ceiling |",
    `|${" --- |".repeat(12)}`,
    ...r.rows.map(
      (x) =>
        `| ${x.model} | ${x.format} | ${x.concurrency} | ${f(x.edge.inferPerSec)} | ${f(x.edge.p50Ms)} | ${f(x.edge.p99Ms)} | ${f(x.hand.inferPerSec)} | ${f(x.hand.p50Ms)} | ${f(x.hand.p99Ms)} | ${(x.edge.inferPerSec / x.hand.inferPerSec).toFixed(2)} | ${x.ceiling === undefined ? "-" : f(x.ceiling.inferPerSec)} | ${x.ceiling === undefined ? "-" : (x.edge.inferPerSec / x.ceiling.inferPerSec).toFixed(2)} |`,
    ),
    "",
    "Ceiling (JSON points): the same perf_analyzer command against a server that reads each request body and answers it from memory (no parse, no inference): what the load generator itself can drive on this machine, sharing its cores with the server, as it writes every body's numbers anew. No server measured here can pass it. Binary points leave it out: their client work is small (a quick run: 8–12× the servers' figures), and perf_analyzer's memory grows with the requests it completes.",
    "",
    `Each point: 3 windows of at least 1 s and at least max(c, ${r.windowFloor}) completed requests, merged; every request answered 2xx.${r.leftOut.length > 0 ? ` Left out (quick: c × p50 at the first concurrency over 2 s): ${r.leftOut.join(", ")}.` : ""} Took ${r.seconds.toFixed(0)} s. One point's command (the others differ in -m, -u, the tensor formats, the concurrency, -f; the data file holds the bench input as base64 float32):`,
    "",
    "```sh",
    r.command,
    "```",
  ];
  return lines.join("\n");
}

// `npx tsx test/bench/perf-analyzer-rows.ts [--quick] [--models=…]`: these rows alone, same settings.
if (process.argv[1]?.endsWith("test/bench/perf-analyzer-rows.ts")) {
  const read = readSettings();
  const s = { ...read, perfAnalyzer: read.perfAnalyzer ?? true };
  perfAnalyzerTool(s)
    .then((tool) => measurePerfAnalyzerRows(s, console.log, tool))
    .then(
      (r) => console.log(`\n${perfAnalyzerTable(r)}`),
      (e: unknown) => {
        console.error(
          `perf_analyzer rows failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        );
        process.exit(1);
      },
    );
}
