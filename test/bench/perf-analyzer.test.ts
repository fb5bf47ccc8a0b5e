/**
 * The perf_analyzer part's machinery: its command line, reading real perf_analyzer output (captured
 * under fixtures/perf-analyzer: edge-infer with server statistics, the hand-written server without,
 * and a run the gateway answered 400), the data file, and the hand-written server answering what
 * perf_analyzer reads. No timing is asserted.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ServerChild, startHandwritten } from "./children";
import { inputData, inputTensor, jsonBody, MODELS } from "./payloads";
import {
  figuresOf,
  findPerfAnalyzer,
  parseCsv,
  parseStdout,
  perfAnalyzerArgs,
  shellLine,
  windowRequests,
  writeDataFile,
} from "./perf-analyzer";
import {
  measurePerfAnalyzerRows,
  perfAnalyzerTable,
  perfAnalyzerTargets,
  perfAnalyzerTool,
  slowWhenQuick,
} from "./perf-analyzer-rows";
import { readSettings } from "./settings";

const fixture = (name: string) => readFile(join(import.meta.dirname, "fixtures/perf-analyzer", name), "utf8");
const cls = MODELS["ocr-cls"] ?? { name: "ocr-cls", item: [], batches: [] };
const point = { model: "ocr-cls", format: "json", concurrency: 8 } as const;
/** perf_analyzer figures of one point with the given throughput. */
const fig = (inferPerSec: number) => ({ inferPerSec, p50Ms: 2.5, p99Ms: 12, requests: 100 });
const temp: string[] = [];
const children: ServerChild[] = [];

afterAll(async () => {
  for (const c of children) await c.stop();
  for (const d of temp) await rm(d, { recursive: true, force: true });
});

describe("perf_analyzer's command line", () => {
  it("runs one point with both tensor formats alike, count windows, the cache bypassed and a CSV report", () => {
    const args = perfAnalyzerArgs(point, {
      url: "127.0.0.1:8080",
      dataFile: "/out/ocr-cls.json",
      csv: "/out/edge.csv",
      windowRequests: 8,
    });
    expect(args).toEqual([
      ...["-m", "ocr-cls", "-u", "127.0.0.1:8080", "-i", "http", "--input-data", "/out/ocr-cls.json"],
      ...["--input-tensor-format", "json", "--output-tensor-format", "json", "--concurrency-range", "8:8"],
      ...["--measurement-mode", "count_windows", "--measurement-request-count", "8"],
      ...["--max-trials", "3", "--stability-percentage", "1000"],
      ...["-H", "Cache-Control:no-cache, no-store", "-f", "/out/edge.csv"],
    ]);
    expect(shellLine("/t/perf_analyzer", ["-m", "ocr-cls", "-H", "Cache-Control:no-cache, no-store"])).toBe(
      "/t/perf_analyzer -m ocr-cls -H 'Cache-Control:no-cache, no-store'",
    );
    expect([windowRequests(1, false), windowRequests(32, false), windowRequests(1, true)]).toEqual([
      8, 32, 1,
    ]);
  });

  it("finds the tool through PERF_ANALYZER or beside the repository, and says where it looked", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pa-find-"));
    temp.push(dir);
    const tool = join(dir, "perf_analyzer");
    await writeFile(tool, "");
    expect(findPerfAnalyzer({ PERF_ANALYZER: tool }, join(dir, "repo"))).toEqual({
      path: tool,
      looked: [tool, join(dir, "shared/tools/perf_analyzer")],
    });
    expect(findPerfAnalyzer({}, join(dir, "repo"))).toEqual({
      looked: [join(dir, "shared/tools/perf_analyzer")],
    });
  });

  it("writes the bench input as perf_analyzer's base64 data file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pa-data-"));
    temp.push(dir);
    await writeDataFile(cls, join(dir, "d.json"));
    const d = JSON.parse(await readFile(join(dir, "d.json"), "utf8"));
    const x = d.data[0].x;
    expect(x.shape).toEqual([3, 48, 192]);
    const bytes = Buffer.from(x.content.b64, "base64");
    expect(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)).toEqual(inputData(cls, 1));
  });
});

describe("perf_analyzer's output", () => {
  it("reads infer/s and percentiles from the CSV, with or without server columns", async () => {
    expect(parseCsv(await fixture("edge-infer.csv"))).toEqual({
      inferPerSec: 135.005,
      p50Ms: 46.051,
      p99Ms: 284.783,
    });
    expect(parseCsv(await fixture("hand-written.csv"))).toEqual({
      inferPerSec: 151.643,
      p50Ms: 8.771,
      p99Ms: 65.697,
    });
    expect(() => parseCsv("Concurrency,Inferences/Second\n")).toThrow(/no data row/);
  });

  it("reads the request count from stdout and passes a clean run", async () => {
    expect(parseStdout(await fixture("edge-infer.stdout.txt"))).toEqual({ requests: 430, errors: [] });
    const f = figuresOf(
      point,
      0,
      await fixture("hand-written.stdout.txt"),
      await fixture("hand-written.csv"),
    );
    expect(f).toEqual({ inferPerSec: 151.643, p50Ms: 8.771, p99Ms: 65.697, requests: 491 });
  });

  it("fails loudly, naming the point and the server's answer, when any request failed", async () => {
    const failed = await fixture("failed.stdout.txt");
    expect(() => figuresOf(point, 99, failed, undefined)).toThrow(
      /perf_analyzer at ocr-cls json c=8 failed \(exit 99\): Failed to maintain requested inference load.*Thread \[0\] had error: input 'x' has shape \[1,3,4096,8\]/,
    );
    // An error line fails the point even when the exit status says success.
    const clean = await fixture("edge-infer.stdout.txt");
    expect(() => figuresOf(point, 0, `${clean}\nThread [3] had error: HTTP 503`, "")).toThrow(/HTTP 503/);
    expect(() => figuresOf(point, 0, clean, undefined)).toThrow(/failed \(exit 0\)/);
  });
});

describe("the perf_analyzer part", () => {
  it("is a setting, on when the tool is found unless turned off", async () => {
    expect(readSettings({}, []).perfAnalyzer).toBeUndefined();
    expect(readSettings({ BENCH_PERF_ANALYZER: "off" }, []).perfAnalyzer).toBe(false);
    expect(readSettings({}, ["--perf-analyzer"]).perfAnalyzer).toBe(true);
    expect(() => readSettings({ BENCH_PERF_ANALYZER: "maybe" }, [])).toThrow(/BENCH_PERF_ANALYZER/);
    const lines: string[] = [];
    const off = { ...readSettings({}, []), perfAnalyzer: false };
    const tool = await perfAnalyzerTool(off, {});
    expect(tool).toEqual({ why: "BENCH_PERF_ANALYZER is off" });
    const r = await measurePerfAnalyzerRows(off, (l) => lines.push(l), tool);
    expect(r).toEqual({ ran: false, why: "BENCH_PERF_ANALYZER is off" });
    expect(lines).toEqual(["perf_analyzer rows not run: BENCH_PERF_ANALYZER is off"]);
    expect(perfAnalyzerTable(r)).toContain("Not run: BENCH_PERF_ANALYZER is off.");
  });

  it("checks before the first row that the tool starts, and says what it lacks when it does not", async () => {
    const dir = await mkdtemp(join(tmpdir(), "pa-start-"));
    temp.push(dir);
    const root = join(dir, "repo");
    await mkdir(join(dir, "shared/tools"), { recursive: true });
    const beside = join(dir, "shared/tools/perf_analyzer");
    // What the dynamic loader prints when a library is missing, and its exit status.
    await writeFile(
      beside,
      "#!/bin/sh\necho 'perf_analyzer: error while loading shared libraries: libgrpc++.so.1.51: cannot open shared object file: No such file or directory' >&2\nexit 127\n",
    );
    await chmod(beside, 0o755);
    const broken = await perfAnalyzerTool({}, {}, root);
    expect(broken).toEqual({
      why: expect.stringContaining(
        `${beside} does not start (perf_analyzer: error while loading shared libraries: libgrpc++.so.1.51`,
      ),
    });
    expect((broken as { why: string }).why).toContain(
      "apt-get install -y libgrpc++1.51 libprotobuf32 libcurl4 libb64-0d",
    );
    // Asked for (BENCH_PERF_ANALYZER=on): the bench stops at once, naming the reason.
    await expect(perfAnalyzerTool({ perfAnalyzer: true }, {}, root)).rejects.toThrow(
      /BENCH_PERF_ANALYZER is on but .* does not start/,
    );
    const working = join(dir, "working");
    await writeFile(working, "#!/bin/sh\necho 'Perf Analyzer Version test'\n");
    await chmod(working, 0o755);
    expect(await perfAnalyzerTool({}, { PERF_ANALYZER: working }, root)).toEqual({ path: working });
    expect(
      await perfAnalyzerTool({}, { PERF_ANALYZER: join(dir, "none") }, join(dir, "elsewhere/repo")),
    ).toEqual({
      why: expect.stringMatching(/^perf_analyzer not found \(looked at .*none, .*; set PERF_ANALYZER\)$/),
    });
  });

  it("prints each point's figures on both servers and their ratio, and the command", () => {
    const table = perfAnalyzerTable({
      ran: true,
      rows: [{ ...point, edge: fig(60), hand: fig(48), ceiling: fig(120) }],
      command: "perf_analyzer -m ocr-cls",
      seconds: 42,
      windowFloor: 8,
      leftOut: ["ocr-det json c=32"],
    });
    expect(table).toContain(
      "| ocr-cls | json | 8 | 60.0 | 2.50 | 12.0 | 48.0 | 2.50 | 12.0 | 1.25 | 120 | 0.50 |",
    );
    expect(table).toContain("answers it from memory (no parse, no inference)");
    const binary = perfAnalyzerTable({
      ran: true,
      rows: [{ ...point, format: "binary", edge: fig(60), hand: fig(48) }],
      command: "",
      seconds: 1,
      windowFloor: 8,
      leftOut: [],
    });
    expect(binary).toContain(
      "| ocr-cls | binary | 8 | 60.0 | 2.50 | 12.0 | 48.0 | 2.50 | 12.0 | 1.25 | - | - |",
    );
    expect(table).toContain("at least max(c, 8) completed requests");
    expect(table).toContain(
      "Left out (quick: c × p50 at the first concurrency over 2 s): ocr-det json c=32. Took 42 s.",
    );
    // ocr-det JSON at 340 ms a request alone: c=8 would wait 2.7 s, left out when quick; c=4 kept.
    expect([slowWhenQuick(8, 340), slowWhenQuick(4, 340)]).toEqual([true, false]);
    expect(table).toContain("```sh\nperf_analyzer -m ocr-cls\n```");
  });
});

describe("issue 14's peer figures under perf_analyzer", () => {
  it("judges each point that has a peer figure, naming the ceiling's share beside a JSON point", () => {
    const targets = perfAnalyzerTargets({
      ran: true,
      rows: [
        { model: "ocr-cls", format: "json", concurrency: 1, edge: fig(71), hand: fig(42), ceiling: fig(130) },
        { model: "ocr-cls", format: "binary", concurrency: 8, edge: fig(325), hand: fig(394) },
        { model: "ocr-cls", format: "json", concurrency: 4, edge: fig(90), hand: fig(50) },
      ],
      command: "",
      seconds: 1,
      windowFloor: 8,
      leftOut: [],
    });
    expect(targets).toEqual([
      {
        name: "perf_analyzer ocr-cls c=1 JSON: ≥ MLServer's figure (issue 14, another machine)",
        measured:
          "71.0 vs 97 infer/s (0.73×; perf_analyzer's ceiling here 130.0: edge-infer 0.55 of it, the peer's figure 0.75)",
        wanted: "≥ 1.00×",
        pass: false,
      },
      {
        name: "perf_analyzer ocr-cls c=8 binary: ≥ KServe ModelServer's figure (issue 14, another machine)",
        measured: "325.0 vs 92 infer/s (3.53×)",
        wanted: "≥ 1.00×",
        pass: true,
      },
    ]);
    expect(perfAnalyzerTargets({ ran: false, why: "off" })).toEqual([]);
  });
});

describe("the hand-written server under perf_analyzer", () => {
  it("answers the server and model metadata, and a JSON request that carries Inference-Header-Content-Length", async () => {
    const hand = await startHandwritten(["ocr-cls"], 1);
    children.push(hand);
    const get = async (path: string) => (await fetch(`http://127.0.0.1:${hand.port}${path}`)).json();
    expect(await get("/v2")).toMatchObject({ extensions: ["binary_tensor_data"] });
    expect(await get("/v2/models/ocr-cls")).toEqual({
      name: "ocr-cls",
      versions: ["1"],
      inputs: [{ name: "x", datatype: "FP32", shape: [-1, 3, -1, -1] }],
      outputs: [{ name: "softmax_0.tmp_0", datatype: "FP32", shape: [-1, 2] }],
    });
    expect(await get("/v2/models/ocr-cls/config")).toEqual({ name: "ocr-cls", max_batch_size: 1 });
    const body = jsonBody(inputTensor(cls));
    const r = await fetch(`http://127.0.0.1:${hand.port}/v2/models/ocr-cls/infer`, {
      method: "POST",
      body,
      headers: { "Content-Type": "application/json", "Inference-Header-Content-Length": String(body.length) },
    });
    expect(r.status).toBe(200);
    const out = (await r.json()) as { outputs: Array<{ name: string; shape: number[]; data: number[] }> };
    expect(out.outputs.map((o) => [o.name, o.shape, o.data.length])).toEqual([
      ["softmax_0.tmp_0", [1, 2], 2],
    ]);
  }, 60_000);

  it("in echo mode (the ceiling) reads each body and answers it with the first answer's bytes, without inference", async () => {
    const echo = await startHandwritten(["ocr-cls"], 1, { env: { BENCH_ECHO: "1" } });
    const plain = await startHandwritten(["ocr-cls"], 1);
    children.push(echo, plain);
    const x = inputTensor(cls);
    const first = jsonBody(x);
    const other = jsonBody({ ...x, data: (x.data as Float32Array).map((v) => 1 - v) });
    const ask = async (port: number, body: Uint8Array) => {
      const r = await fetch(`http://127.0.0.1:${port}/v2/models/ocr-cls/infer`, {
        method: "POST",
        body,
        headers: { "Content-Type": "application/json" },
      });
      expect(r.status).toBe(200);
      return r.text();
    };
    const answer = await ask(echo.port, first);
    // A different input: the plain server's answer changes, the echo server's does not.
    expect(await ask(plain.port, first)).toBe(answer);
    expect(await ask(plain.port, other)).not.toBe(answer);
    expect(await ask(echo.port, other)).toBe(answer);
  }, 60_000);
});
