/**
 * Shadow rows (issue 15): what mirroring costs the client. ocr-cls in local mode with its demo
 * shadow (version 2, gateway/shadow/demo-variant.ts) at 0 % (the baseline: same repository, nothing
 * mirrored) and at 10 %, binary requests, batching off, at each bench concurrency. The shadow runs
 * in the same process and on the same cores, so its cost is the client's latency and throughput
 * next to the 0 % row; the target is under 5 % at 10 %. Both gateways are up together and take
 * turns in short windows, as the thread modes do: measured one after the other, each in its own
 * run, the two rows differed by up to 40 % either way on the 2-vCPU machine, whose speed drifts
 * between phases that outlast a row.
 */
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeDemoVariant } from "../../gateway/shadow/demo-variant";
import type { ShadowTotals } from "../../gateway/shadow/stats";
import type { Tensor } from "../../layers/protocol/types";
import { benchRepository, type ServerChild, startGateway } from "./children";
import { measureHttp, settle } from "./http-rows";
import { type Measurement, type MeasureOptions, turnOrder } from "./measure";
import { combined } from "./mode-rows";
import { type BenchModel, binaryRequest, inputTensor } from "./payloads";
import { type Row, rowOf } from "./report";
import type { BenchSettings } from "./settings";

/** Shares of unpinned requests mirrored: one gateway each. */
export const SHADOW_PERCENTS = [0, 10] as const;

/** Windows per share and concurrency, taken in turns, the one that opens alternating (1 when quick). */
const ROUNDS = 4;

const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)} %`;

/** The 0 % and 10 % rows of `model` (ocr-cls: the demo's shadowed model) at each concurrency. */
export async function measureShadowRows(
  model: BenchModel,
  s: BenchSettings,
  timing: Pick<MeasureOptions, "durationMs" | "warmupMs" | "maxRequests">,
  expected: Tensor[] | undefined,
): Promise<Row[]> {
  const variant = writeDemoVariant(fileURLToPath(new URL("../../functions/models/", import.meta.url)));
  const x = inputTensor(model);
  const request = binaryRequest(model.name, x);
  // Version 2 loaded before any window: its load is a start cost, not a mirroring cost.
  const pinned = JSON.stringify({ inputs: [{ ...x, data: Array.from(x.data as Float32Array) }] });
  const repos: Array<Awaited<ReturnType<typeof benchRepository>>> = [];
  const gateways: ServerChild[] = [];
  const rows: Row[] = [];
  const mirrors = new Map<number, Mirrors>();
  try {
    for (const percent of SHADOW_PERCENTS) {
      // A repository each: the share is in the model's config.json.
      const repo = await benchRepository([model.name], { batching: false, cache: false, threads: s.threads });
      repos.push(repo);
      const dir = fileURLToPath(repo.uri);
      const configPath = join(dir, model.name, "config.json");
      const config = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
      await mkdir(join(dir, model.name, "2"), { recursive: true });
      await symlink(variant, join(dir, model.name, "2/model.onnx"));
      const shadow = { version: 2, percent, argmax: ["softmax_0.tmp_0"] };
      await writeFile(configPath, JSON.stringify({ ...config, live_version: 1, shadow }, null, 2));
      const gateway = await startGateway(repo.uri, { env: { LOG_LEVEL: "ERROR" } });
      gateways.push(gateway);
      const warm = await fetch(`http://127.0.0.1:${gateway.port}/v2/models/${model.name}/versions/2/infer`, {
        method: "POST",
        body: pinned,
      });
      if (warm.status !== 200) throw new Error(`shadow version 2 did not answer: ${await warm.text()}`);
    }
    for (const g of gateways) await settle(g.port, request, s.settleRequests);
    const rounds = s.quick ? 1 : ROUNDS;
    // Each share gets the time a row gets, split over its windows.
    const window = { ...timing, durationMs: (timing.durationMs * 2) / rounds };
    // The 10 % gateway's totals before and after each concurrency's windows.
    const mirroring = gateways.at(-1) as ServerChild;
    let mirrored = await shadowTotals(mirroring.port, model.name);
    for (const c of s.concurrency) {
      const parts: Measurement[][] = SHADOW_PERCENTS.map(() => []);
      for (let r = 0; r < rounds; r++) {
        for (const i of turnOrder(gateways.length, r)) {
          const m = await measureHttp(
            (gateways[i] as ServerChild).port,
            request,
            { concurrency: c, ...window },
            { expected, tolerance: 1e-3 },
          );
          parts[i]?.push(m);
        }
      }
      for (const [i, percent] of SHADOW_PERCENTS.entries()) {
        const head = {
          model: model.name,
          system: "edge-infer",
          batching: "off",
          concurrency: c,
          items: 1,
        } as const;
        rows.push(rowOf({ ...head, variant: `binary, shadow ${percent} %` }, combined(parts[i] ?? [])));
      }
      const now = await shadowTotals(mirroring.port, model.name);
      mirrors.set(c, { compared: now.requests - mirrored.requests, dropped: now.dropped - mirrored.dropped });
      mirrored = now;
    }
  } finally {
    for (const g of gateways) await g.stop();
    for (const r of repos) await r.cleanup();
  }
  return withCost(rows, mirrors);
}

/** Mirrors of the 10 % gateway in one concurrency's windows. */
interface Mirrors {
  compared: number;
  dropped: number;
}

/** A gateway's shadow totals (GET /v2/models/<m>/shadow): requests compared, mirrors dropped. */
async function shadowTotals(port: number, model: string): Promise<ShadowTotals> {
  const r = await fetch(`http://127.0.0.1:${port}/v2/models/${model}/shadow`);
  if (r.status !== 200) throw new Error(`shadow totals: HTTP ${r.status}`);
  const { totals } = (await r.json()) as { totals: ShadowTotals };
  return totals;
}

/** Notes each 10 % row with its cost against the 0 % row at the same concurrency. */
function withCost(rows: Row[], mirrors: ReadonlyMap<number, Mirrors>): Row[] {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const row of rows) {
    const base = rows.filter((r) => r.concurrency === row.concurrency && r.variant.includes("shadow 0 %"));
    if (row.variant.includes("shadow 0 %")) {
      row.note = "baseline: shadow configured, nothing mirrored";
      continue;
    }
    const p50 = row.p50Ms / mean(base.map((r) => r.p50Ms)) - 1;
    const rps = row.rps / mean(base.map((r) => r.rps)) - 1;
    const m = mirrors.get(row.concurrency);
    const count = m === undefined ? "" : `; mirrors compared ${m.compared}, dropped ${m.dropped}`;
    row.note = `vs 0 % (the same windows, in turns): p50 ${pct(p50)}, req/s ${pct(rps)} (target: cost < 5 %)${count}`;
  }
  return rows;
}
