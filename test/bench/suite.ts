/**
 * The bench's phases, in order: raw ORT in this process; the hand-written server (as written, and
 * with npm start's malloc settings) and edge-infer local mode with batching off and on, measured in
 * turns at each point (JSON and binary, each concurrency); then the cache rows, then the ocr
 * pipeline against @gutenye/ocr-node.
 * Only one system is measured at a time, so none steals the other's cores.
 */
import type { Tensor } from "../../layers/protocol/types";
import { measureCacheRows } from "./cache-rows";
import {
  benchRepository,
  modelPath,
  profiled,
  startCommand,
  startGateway,
  startHandwritten,
} from "./children";
import { type ColdStart, measureColdStart } from "./cold-rows";
import { type DecodeRow, type EncodeRow, measureDecode, measureEncode } from "./decode-rows";
import { measureHttp, settle, settleRequest } from "./http-rows";
import { measureLargeRows } from "./large-rows";
import { type MeasureOptions, turnOrder } from "./measure";
import { type ModeMemory, measureModeRows } from "./mode-rows";
import { type BenchModel, binaryRequest, inputTensor, jsonRequest, MODELS } from "./payloads";
import { measurePerfAnalyzerRows, type PerfAnalyzerResult, perfAnalyzerTool } from "./perf-analyzer-rows";
import { measurePipelineRows, type PipelineRow } from "./pipeline-rows";
import { measureRaw } from "./raw";
import { type Row, rowOf, TUNED_HAND } from "./report";
import type { BenchSettings } from "./settings";
import { measureShadowRows } from "./shadow-rows";
import { measureTailRow } from "./tail-rows";

/** Everything a run found, besides the rows: raw ORT's batch sweep, the JSON decode figures. */
export interface SuiteResult {
  rows: Row[];
  decode: DecodeRow[];
  /** The JSON response encode figures, per model (with the decode figures: when JSON is on). */
  encode: EncodeRow[];
  /** The ocr pipeline against @gutenye/ocr-node (BENCH_PIPELINE). */
  pipeline?: PipelineRow;
  sweep: Record<string, Array<{ batch: number; itemsPerSec: number; p50Ms: number }>>;
  /** RSS of the gateway in each thread mode (empty when BENCH_MODES is off). */
  memory: ModeMemory[];
  /** The model function's cold start (absent when BENCH_COLD is off). */
  cold?: ColdStart;
  /** Triton perf_analyzer against edge-infer and the hand-written server (BENCH_PERF_ANALYZER). */
  perfAnalyzer: PerfAnalyzerResult;
}

/** Outputs of ocr-det differ a little between batch sizes and thread schedules; ocr-cls hardly. */
const TOLERANCE = 1e-3;

const modelOf = (name: string): BenchModel => {
  const m = MODELS[name];
  if (m === undefined) throw new Error(`unknown bench model ${name}`);
  return m;
};

/** Runs every phase the settings ask for; `log` gets one line per row. */
export async function runSuite(s: BenchSettings, log: (line: string) => void): Promise<SuiteResult> {
  const timing: Pick<MeasureOptions, "durationMs" | "warmupMs" | "maxRequests"> = {
    durationMs: s.seconds * 1000,
    warmupMs: s.warmupSeconds * 1000,
  };
  if (s.maxRequests !== undefined) timing.maxRequests = s.maxRequests;
  // Checked first: a perf_analyzer asked for that cannot start stops the bench now, not at its end.
  const tool = await perfAnalyzerTool(s);
  if ("why" in tool) log(`perf_analyzer rows will not run: ${tool.why}`);
  const rows: Row[] = [];
  const add = (row: Row) => {
    rows.push(row);
    log(
      `${row.model} | ${row.system} ${row.variant} batching=${row.batching} c=${row.concurrency}: ${row.itemsPerSec.toFixed(1)} items/s, p50 ${row.p50Ms.toFixed(3)} ms, p99 ${row.p99Ms.toFixed(3)} ms${row.errors > 0 ? `, ${row.errors} errors` : ""}${row.note ? ` (${row.note})` : ""}`,
    );
  };
  const expected = new Map<string, Tensor[]>();
  const sweep: SuiteResult["sweep"] = {};
  const decode: DecodeRow[] = [];
  const encode: EncodeRow[] = [];
  if (s.json) {
    for (const name of s.models) {
      const d = measureDecode(modelOf(name), s.seconds * 1000, s.maxRequests);
      decode.push(d);
      log(
        `${name} | JSON decode ${(d.bytes / 1e3).toFixed(0)} KB: ${d.decodeMs.toFixed(3)} ms vs JSON.parse ${d.jsonParseMs.toFixed(3)} ms (${d.ratio.toFixed(2)}×, ${d.decodeMBps.toFixed(0)} MB/s)`,
      );
    }
  }

  for (const name of s.models) {
    const model = modelOf(name);
    const raw = await measureRaw(await modelPath(name), model, s.threads, timing);
    expected.set(name, raw.expected);
    if (s.json) {
      const e = measureEncode(name, raw.expected, s.seconds * 1000, s.maxRequests);
      encode.push(e);
      log(
        `${name} | JSON encode ${(e.bytes / 1e3).toFixed(1)} KB (${(100 * e.integerShare).toFixed(0)} % integer-valued): ${e.encodeMs.toFixed(3)} ms vs a value per element + JSON.stringify ${e.stringifyMs.toFixed(3)} ms (${e.ratio.toFixed(2)}×)`,
      );
    }
    sweep[name] = raw.byBatch.map(({ batch, m }) => ({ batch, itemsPerSec: m.rps * batch, p50Ms: m.p50Ms }));
    add(
      rowOf(
        { model: name, system: "raw ORT", variant: "batch 1", batching: "-", concurrency: 1, items: 1 },
        raw.batch1,
      ),
    );
    const best = raw.best;
    add(
      rowOf(
        {
          model: name,
          system: "raw ORT",
          variant: `best batch (${best.batch})`,
          batching: "-",
          concurrency: 1,
          items: best.batch,
        },
        best.m,
        `tried batches ${model.batches.join(", ")}`,
      ),
    );
  }

  // Every model × variant × concurrency over HTTP against the hand-written server (as written, and
  // with npm start's malloc settings) and both gateways, one row each. The four are up together and measured back to back at each point, the
  // one that opens rotating: on a shared machine the same server measured minutes apart differs by
  // more than the differences the "vs hand" ratios are about.
  const servers: Array<{ system: Row["system"]; batching: Row["batching"]; port: number }> = [];
  const stops: Array<() => Promise<void>> = [];
  try {
    const hand = await startHandwritten(s.models, s.threads);
    stops.push(() => hand.stop());
    servers.push({ system: "hand-written", batching: "-", port: hand.port });
    // The same server with npm start's malloc settings: as written, its own speed swings with glibc's
    // heap (each body's Buffer.concat lands on freshly faulted pages or not), by up to 1.7× at c=1.
    const tuned = await startHandwritten(s.models, s.threads, { env: (await startCommand()).env });
    stops.push(() => tuned.stop());
    servers.push({ system: TUNED_HAND, batching: "-", port: tuned.port });
    for (const batching of [false, true]) {
      const repo = await benchRepository(s.models, { batching, cache: false, threads: s.threads });
      stops.push(() => repo.cleanup());
      const gateway = await startGateway(repo.uri, profiled(s, batching ? "batching-on" : "batching-off"));
      stops.push(() => gateway.stop());
      servers.push({ system: "edge-infer", batching: batching ? "on" : "off", port: gateway.port });
    }
    // Each server settles (its JIT done with the request path) before the first row of any of them.
    const settling = settleRequest(s.models);
    for (const { port } of servers) await settle(port, settling, s.settleRequests);
    let point = 0;
    for (const name of s.models) {
      const x = inputTensor(modelOf(name));
      for (const variant of variantsOf(s)) {
        const req = variant === "binary" ? binaryRequest(name, x) : jsonRequest(name, x);
        for (const c of s.concurrency) {
          const measured: Row[] = [];
          for (const i of turnOrder(servers.length, point++)) {
            const { system, batching, port } = servers[i] as (typeof servers)[number];
            const m = await measureHttp(port, req, { concurrency: c, ...timing }, check(expected, name));
            measured[i] = rowOf({ model: name, system, variant, batching, concurrency: c, items: 1 }, m);
          }
          // Listed in the servers' order whichever opened.
          for (const row of measured) add(row);
        }
      }
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
  }

  const memory: ModeMemory[] = [];
  if (s.modes && s.models.includes("ocr-cls")) {
    const modes = await measureModeRows(s, timing, expected.get("ocr-cls"), add);
    memory.push(...modes.memory);
  }
  if (s.tail && s.json && s.models.includes("ocr-det")) add(await measureTailRow(s, timing));
  if (s.large && s.models.includes("ocr-det")) for (const row of await measureLargeRows(s, timing)) add(row);

  if (s.cache) {
    const name = s.models.includes("ocr-det") ? "ocr-det" : (s.models[0] ?? "ocr-det");
    for (const row of await measureCacheRows(modelOf(name), s, timing, expected.get(name))) add(row);
  }
  const cold = s.cold ? await measureColdStart(s.quick ? 1 : 3) : undefined;
  if (cold !== undefined)
    log(
      `ocr-cls model function cold start: ${cold.totalMs.toFixed(0)} ms (limit ${cold.limit.totalMs.toFixed(0)} ms)`,
    );
  // The demo's shadowed model: the latency cost of mirroring 10 % (issue 15).
  if (s.models.includes("ocr-cls"))
    for (const row of await measureShadowRows(modelOf("ocr-cls"), s, timing, expected.get("ocr-cls")))
      add(row);
  const order = new Map(s.models.map((m, i) => [m, i]));
  rows.sort((a, b) => (order.get(a.model) ?? 0) - (order.get(b.model) ?? 0));
  const pipeline = s.pipeline ? await measurePipelineRows(s, log) : undefined;
  const perfAnalyzer = await measurePerfAnalyzerRows(s, log, tool);
  return {
    perfAnalyzer,
    rows,
    decode,
    encode,
    sweep,
    memory,
    ...(cold === undefined ? {} : { cold }),
    ...(pipeline === undefined ? {} : { pipeline }),
  };
}

function variantsOf(s: BenchSettings): ReadonlyArray<"binary" | "json"> {
  return s.json ? ["binary", "json"] : ["binary"];
}

function check(expected: ReadonlyMap<string, Tensor[]>, model: string) {
  return { expected: expected.get(model), tolerance: TOLERANCE };
}
