/**
 * Smoke test of the bench's machinery with tiny counts: raw ORT, the hand-written server and the
 * gateway child measured over HTTP, the table with its ratios and targets, the SVG chart and its PNG.
 * Nothing here asserts a timing: only that the figures exist and are put together right.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import type { Tensor } from "../../layers/protocol/types";
import { chartHeight, LAYOUT, panels, svgChart } from "./chart";
import { benchRepository, modelPath, type ServerChild, startGateway, startHandwritten } from "./children";
import { parseResponse } from "./client";
import { decodeTable, decodeTargets, encodeTable, measureDecode, measureEncode } from "./decode-rows";
import { measureHttp, settle, settleRequest } from "./http-rows";
import { measure, turnCycle, turnOrder } from "./measure";
import { type BenchModel, binaryRequest, inputTensor, jsonRequest, MODELS } from "./payloads";
import { renderChart } from "./png";
import { measureRaw } from "./raw";
import { markdown, type Row, rowOf, TUNED_HAND, targets, withRatios } from "./report";
import { readSettings } from "./settings";

const cls: BenchModel = { name: "ocr-cls", item: MODELS["ocr-cls"]?.item ?? [], batches: [1, 2] };
const tiny = { durationMs: 300, warmupMs: 0, maxRequests: 4 };
/** JSON requests of full-precision floats take longer: time enough for 4 on a loaded machine. */
const tinyJson = { ...tiny, durationMs: 5000 };
const children: ServerChild[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const c of children) await c.stop();
  for (const c of cleanups) await c();
});

describe("bench machinery", () => {
  it("measures raw ORT, the hand-written server and the gateway, and builds the table", async () => {
    const raw = await measureRaw(await modelPath("ocr-cls"), cls, 1, tiny);
    expect(raw.batch1.requests).toBe(4);
    expect(raw.byBatch.map((b) => b.batch)).toEqual([1, 2]);
    expect(raw.expected.map((t) => [t.name, t.shape])).toEqual([["softmax_0.tmp_0", [1, 2]]]);

    const hand = await startHandwritten(["ocr-cls"], 1);
    children.push(hand);
    const repo = await benchRepository(["ocr-cls"], { batching: true, cache: false, threads: 1 });
    cleanups.push(repo.cleanup);
    const gateway = await startGateway(repo.uri);
    children.push(gateway);

    const x = inputTensor(cls);
    // Every response is checked against raw ORT's outputs (every: 1).
    const check = { expected: raw.expected, every: 1, tolerance: 1e-3 };
    const handM = await measureHttp(
      hand.port,
      binaryRequest("ocr-cls", x),
      { concurrency: 2, ...tiny },
      check,
    );
    const binM = await measureHttp(
      gateway.port,
      binaryRequest("ocr-cls", x),
      { concurrency: 2, ...tiny },
      check,
    );
    const jsonM = await measureHttp(
      gateway.port,
      jsonRequest("ocr-cls", x),
      { concurrency: 1, ...tinyJson },
      check,
    );
    const handJsonM = await measureHttp(
      hand.port,
      jsonRequest("ocr-cls", x),
      { concurrency: 1, ...tinyJson },
      check,
    );
    for (const m of [handM, binM, jsonM, handJsonM]) {
      expect(m.errors, m.firstError).toBe(0);
      expect(m.requests).toBeGreaterThanOrEqual(4);
      expect(Number.isFinite(m.p50Ms) && Number.isFinite(m.p99Ms) && m.rps > 0).toBe(true);
    }
    // A server that answers wrongly is reported as an error, not measured.
    const wrong = [
      { name: "softmax_0.tmp_0", datatype: "FP32" as const, shape: [1, 2], data: new Float32Array([9, 9]) },
    ];
    await expect(
      measureHttp(
        gateway.port,
        binaryRequest("ocr-cls", x),
        { concurrency: 1, ...tiny },
        { expected: wrong },
      ),
    ).rejects.toThrow(/output "softmax_0.tmp_0" differs from raw ORT by/);

    const head = { model: "ocr-cls", batching: "-", concurrency: 1, items: 1 } as const;
    const rows: Row[] = withRatios([
      rowOf({ ...head, system: "raw ORT", variant: "batch 1" }, raw.batch1),
      rowOf(
        { ...head, system: "raw ORT", variant: `best batch (${raw.best.batch})`, items: raw.best.batch },
        raw.best.m,
      ),
      rowOf({ ...head, system: "hand-written", variant: "binary", concurrency: 2 }, handM),
      rowOf({ ...head, system: "hand-written", variant: "binary" }, handM),
      rowOf({ ...head, system: "edge-infer", variant: "binary", batching: "off" }, binM),
      rowOf({ ...head, system: "edge-infer", variant: "binary", batching: "on", concurrency: 32 }, binM),
      rowOf({ ...head, system: "edge-infer", variant: "json", batching: "off" }, jsonM),
      rowOf({ ...head, system: "hand-written", variant: "json" }, handJsonM),
      rowOf({ ...head, system: TUNED_HAND, variant: "binary" }, { ...handM, rps: 2 * handM.rps }),
    ]);
    const edge1 = rows[4];
    expect(edge1?.vsRaw).toBeCloseTo((edge1?.p50Ms ?? 0) / raw.batch1.p50Ms, 9);
    expect(edge1?.deltaP50Ms).toBeCloseTo((edge1?.p50Ms ?? 0) - raw.batch1.p50Ms, 9);
    expect(edge1?.vsHand).toBeCloseTo((edge1?.itemsPerSec ?? 0) / handM.rps, 9);
    const edge32 = rows[5];
    expect(edge32?.vsRaw).toBeCloseTo((edge32?.itemsPerSec ?? 0) / (raw.best.m.rps * raw.best.batch), 9);
    expect(edge32?.deltaP50Ms).toBeUndefined();
    expect(rows[0]?.vsHand).toBeUndefined();
    // JSON rows are compared with the hand-written JSON server, binary ones with its binary path.
    expect(rows[6]?.vsHand).toBeCloseTo(jsonM.rps / handJsonM.rps, 9);

    const goals = targets(rows);
    expect(goals.map((g) => g.name)).toEqual([
      "ocr-cls c=1 binary: p50 within 0.3 ms of raw ORT",
      "ocr-cls c=1 binary: throughput ≥ 95% of the hand-written server",
      "ocr-cls c=1 JSON: throughput ≥ 1.0× the hand-written JSON server (JSON.parse + typed array + ORT)",
      "ocr-cls c=32 batching on: throughput ≥ 90% of raw ORT's best batched",
      "ocr-cls c=32 batching on: p99 ≤ 4× the single-request p50",
    ]);
    // Beside the p50's distance from raw ORT, the hand-written server's: what HTTP alone costs here.
    expect(goals[0]?.measured).toContain(
      `; the hand-written server +${(handM.p50Ms - raw.batch1.p50Ms).toFixed(2)} ms)`,
    );
    // Judged against the server as written; the tuned server's figure is named beside it.
    const lone = goals[1];
    expect(lone?.pass).toBe(binM.rps >= 0.95 * handM.rps);
    expect(lone?.measured).toContain(
      `with npm start's malloc settings the hand-written server ran ${(2 * handM.rps).toFixed(2)} req/s (${((100 * binM.rps) / (2 * handM.rps)).toFixed(1)}%)`,
    );
    expect(rows[8]?.vsHand).toBeCloseTo(2, 9);
    const md = markdown(rows, goals, "# test");
    expect(md).toContain("| model | system | variant | batching | c | req/s | items/s | p50 ms | p99 ms |");
    expect(md.split("\n").filter((l) => l.startsWith("| ocr-cls |"))).toHaveLength(rows.length);
    expect(md).toMatch(/\| (PASS|MISS)/);
  });

  it("times the JSON decode against JSON.parse of the same full-precision body", () => {
    const d = measureDecode(cls, 0, 5);
    expect(d).toMatchObject({ model: "ocr-cls", rounds: 5 });
    // Full-precision floats: over 15 bytes per element of the 1×3×48×192 input.
    expect(d.bytes).toBeGreaterThan(15 * 3 * 48 * 192);
    expect(d.ratio).toBeCloseTo(d.decodeMs / d.jsonParseMs, 9);
    expect(decodeTable([d])).toContain(`| ocr-cls | ${(d.bytes / 1e3).toFixed(0)} | 5 |`);
    expect(decodeTargets([d])[0]?.name).toBe("ocr-cls JSON decode: within 1.2× JSON.parse of the same body");
  });

  it("times the JSON response encode of an output against a value per element + JSON.stringify", () => {
    const n = 320 * 320;
    const maps = new Float32Array(n).map((_, i) => (i % 4 === 0 ? Math.fround(1 / (i + 3)) : 0));
    const outputs: Tensor[] = [{ name: "maps", datatype: "FP32", shape: [1, 1, 320, 320], data: maps }];
    const e = measureEncode("ocr-det", outputs, 0, 5);
    expect(e).toMatchObject({ model: "ocr-det", rounds: 5, elements: n, integerShare: 0.75 });
    const text = JSON.stringify({
      model_name: "ocr-det",
      model_version: "1",
      outputs: [{ name: "maps", datatype: "FP32", shape: [1, 1, 320, 320], data: Array.from(maps) }],
    });
    expect(e.bytes).toBe(text.length);
    expect(e.ratio).toBeCloseTo(e.encodeMs / e.stringifyMs, 9);
    expect(encodeTable([e])).toContain(`| ocr-det | ${n} (75 %) | ${(e.bytes / 1e3).toFixed(0)} | 5 |`);
  });

  it("counts errors and tags, and reports percentiles of what it measured", async () => {
    const m = await measure(
      { concurrency: 2, durationMs: 1000, warmupMs: 0, maxRequests: 10 },
      async (_w, seq) => {
        if (seq % 5 === 4) throw new Error(`boom ${seq}`);
        return seq % 2 === 0 ? "HIT" : "MISS";
      },
    );
    expect(m.requests).toBe(10);
    expect(m.errors).toBe(2);
    expect(m.firstError).toBe("boom 4");
    expect((m.tags.HIT ?? 0) + (m.tags.MISS ?? 0)).toBe(8);
    expect(m.p50Ms).toBeLessThanOrEqual(m.p99Ms);
  });

  it("opens the window only once every worker has completed its warm-up calls", async () => {
    // Worker 0's calls take 60 ms, the others' 2 ms: with two warm-up calls each, nothing may be
    // recorded before worker 0's second call ended (~120 ms), although warm-up time is 0.
    const t0 = performance.now();
    let slowWarm = Number.POSITIVE_INFINITY;
    const slowCalls: number[] = [];
    const recordedStarts: number[] = [];
    const m = await measure({ concurrency: 3, durationMs: 50, warmupMs: 0, warmupCalls: 2 }, async (w) => {
      const started = performance.now() - t0;
      recordedStarts.push(started);
      await new Promise((done) => setTimeout(done, w === 0 ? 60 : 2));
      if (w === 0) {
        slowCalls.push(started);
        if (slowCalls.length === 2) slowWarm = performance.now() - t0;
      }
      return undefined;
    });
    // Every worker made its two warm-up calls, then at least one recorded call each.
    expect(slowCalls.length).toBeGreaterThanOrEqual(3);
    expect(m.requests).toBeGreaterThanOrEqual(3);
    // Every worker's two warm-up calls came before the recorded ones.
    expect(recordedStarts.length).toBeGreaterThanOrEqual(m.requests + 6);
    // The recorded calls are the last m.requests starts; all of them began after worker 0 warmed.
    const starts = [...recordedStarts].sort((a, b) => a - b);
    const firstRecorded = starts[starts.length - m.requests] ?? 0;
    expect(firstRecorded).toBeGreaterThanOrEqual(slowWarm - 1);
  });

  it("orders systems so that over a cycle each opens, and follows each other, equally often", () => {
    for (const n of [1, 2, 3, 4, 5, 6]) {
      const rows = Array.from({ length: turnCycle(n) }, (_, t) => turnOrder(n, t));
      const opens = new Array<number>(n).fill(0);
      const follows = new Map<string, number>();
      for (const row of rows) {
        expect([...row].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        const first = row[0] ?? -1;
        opens[first] = (opens[first] ?? 0) + 1;
        for (let j = 1; j < n; j++) {
          const pair = `${row[j - 1]}>${row[j]}`;
          follows.set(pair, (follows.get(pair) ?? 0) + 1);
        }
      }
      expect(new Set(opens).size).toBe(1);
      // Every ordered pair of distinct systems is adjacent, each as often as the others.
      expect(follows.size).toBe(n * (n - 1));
      expect(new Set(follows.values()).size).toBeLessThanOrEqual(1);
      expect(turnOrder(n, turnCycle(n) + 1)).toEqual(rows[1 % rows.length]);
    }
  });

  it("settles a server with the asked number of checked calls, bounded in time", async () => {
    // A real node:http server that counts the bodies it read, answering 200, or 503 from a set call on.
    let seen = 0;
    let failFrom = Number.POSITIVE_INFINITY;
    let delayMs = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        seen++;
        setTimeout(() => {
          res.writeHead(seen >= failFrom ? 503 : 200, { "Content-Type": "application/json" });
          res.end(seen >= failFrom ? '{"error":"busy"}' : "{}");
        }, delayMs);
      });
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const port = (server.address() as AddressInfo).port;
    const request = binaryRequest("ocr-cls", inputTensor(cls));
    try {
      expect(await settle(port, request, 25)).toBe(25);
      expect(seen).toBe(25);
      expect(await settle(port, request, 0)).toBe(0);
      expect(seen).toBe(25);
      // Each call takes ≥ 40 ms: a 150 ms bound stops the settling after at most 4 calls (+1 in flight).
      delayMs = 40;
      const bounded = await settle(port, request, 1000, 150);
      expect(bounded).toBeGreaterThanOrEqual(1);
      expect(bounded).toBeLessThanOrEqual(5);
      // A failed answer stops it, named.
      delayMs = 0;
      seen = 0;
      failFrom = 3;
      await expect(settle(port, request, 10)).rejects.toThrow(/HTTP 503: \{"error":"busy"\}/);
      expect(seen).toBe(3);
    } finally {
      server.close();
    }
    // The cheapest benched model's binary request, with the headers asked for.
    const head = (r: { bytes: Buffer }) => r.bytes.subarray(0, r.bytes.indexOf("\r\n\r\n")).toString();
    expect(head(settleRequest(["ocr-det", "ocr-cls"]))).toMatch(/^POST \/v2\/models\/ocr-cls\/infer /);
    expect(head(settleRequest(["ocr-det"]))).toMatch(/^POST \/v2\/models\/ocr-det\/infer /);
    expect(head(settleRequest(["ocr-cls"], { "Cache-Control": "no-cache, no-store" }))).toContain(
      "Cache-Control: no-cache, no-store",
    );
  });

  it("records at least one call per worker when every call outlasts warm-up and window", async () => {
    // Each call takes 150 ms; warm-up and window together are 60 ms. The calls started in warm-up
    // end after the window: without the rule above the row would record nothing.
    const starts: number[] = [];
    const t0 = performance.now();
    const m = await measure({ concurrency: 3, durationMs: 40, warmupMs: 20 }, async () => {
      starts.push(performance.now() - t0);
      await new Promise((done) => setTimeout(done, 150));
      return undefined;
    });
    expect(m.requests).toBe(3);
    expect(m.p50Ms).toBeGreaterThanOrEqual(145);
    // Three calls in the ~150 ms from the first recorded start: the rate of a closed loop of three.
    expect(m.seconds).toBeGreaterThanOrEqual(0.145);
    expect(m.rps).toBeCloseTo(3 / m.seconds, 9);
    expect(starts).toHaveLength(6);
  });
});

describe("bench output", () => {
  const row = (system: Row["system"], itemsPerSec: number): Row => ({
    model: "ocr-det",
    system,
    variant: "binary",
    batching: "off",
    concurrency: 1,
    items: 1,
    requests: 10,
    errors: 0,
    rps: itemsPerSec,
    itemsPerSec,
    p50Ms: 1,
    p99Ms: 2,
  });
  const ps = panels([row("raw ORT", 100), row("edge-infer", 50), row("hand-written", 75)]);

  it("draws one SVG bar per row, scaled to the panel's best", () => {
    const svg = svgChart(ps, "t <1>");
    const widths = [...svg.matchAll(/<rect x="\d+" y="\d+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toEqual([460, 230, 345]);
    expect(svg).toContain("t &lt;1&gt;");
  });

  it("renders the SVG to a PNG of its size: bars in their colours, text in ink", () => {
    const svg = svgChart(ps, "bench");
    const image = renderChart(svg);
    const png = image.asPng();
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([LAYOUT.width, chartHeight(ps)]);
    const rgb = (x: number, y: number) => {
      const at = (y * image.width + x) * 4;
      return [...image.pixels.subarray(at, at + 3)].map((v) => v.toString(16).padStart(2, "0")).join("");
    };
    const barY = LAYOUT.top + LAYOUT.panelTitle + LAYOUT.barHeight / 2;
    expect(rgb(LAYOUT.labelWidth + 10, barY)).toBe("4c78a8"); // raw ORT, the first bar
    // edge-infer, half of raw ORT: 230 px long, then white up to its text.
    const secondY = barY + LAYOUT.barHeight + LAYOUT.gap;
    expect(rgb(LAYOUT.labelWidth + 228, secondY)).toBe("54a24b");
    expect(rgb(LAYOUT.labelWidth + 232, secondY)).toBe("ffffff");
    // The title is drawn (a font was found): dark pixels where "bench" stands.
    let ink = 0;
    for (let y = 8; y < 28; y++) for (let x = 10; x < 70; x++) if (rgb(x, y) < "404040") ink++;
    expect(ink).toBeGreaterThan(40);
  });

  it("parses Content-Length and chunked responses, and waits for incomplete ones", () => {
    const plain = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Cache: HIT\r\n\r\nabcHTTP");
    const p = parseResponse(plain);
    expect(p?.response.status).toBe(200);
    expect(p?.response.headers.get("x-cache")).toBe("HIT");
    expect(p?.response.body.toString()).toBe("abc");
    expect(p?.used).toBe(plain.length - 4);
    const chunked = Buffer.from(
      "HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n",
    );
    expect(parseResponse(chunked)?.response.body.toString()).toBe("abc");
    expect(parseResponse(chunked.subarray(0, chunked.length - 3))).toBeUndefined();
    expect(parseResponse(plain.subarray(0, 40))).toBeUndefined();
  });

  it("reads settings from the environment and flags, naming a bad one", () => {
    const s = readSettings({ BENCH_SECONDS: "2", BENCH_MODELS: "ocr-cls" }, ["--seconds=0.5", "--profile"]);
    expect(s).toMatchObject({
      seconds: 0.5,
      models: ["ocr-cls"],
      concurrency: [1, 8, 32],
      profile: true,
      cache: true,
    });
    expect(() => readSettings({ BENCH_THREADS: "0" }, [])).toThrow(
      'bench: BENCH_THREADS (--threads) must be a number >= 1, got "0"',
    );
    expect(() => readSettings({}, ["--models=ocr-xyz"])).toThrow(/names "ocr-xyz"; known: ocr-cls, ocr-det/);
    expect(readSettings({}, []).settleRequests).toBe(4000);
    expect(readSettings({ BENCH_QUICK: "1" }, []).settleRequests).toBe(200);
    expect(readSettings({ BENCH_QUICK: "1" }, ["--settle=0"]).settleRequests).toBe(0);
    expect(() => readSettings({ BENCH_SETTLE_REQUESTS: "-1" }, [])).toThrow(
      /BENCH_SETTLE_REQUESTS \(--settle\)/,
    );
  });
});
