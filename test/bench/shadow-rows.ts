/**
 * Shadow rows (issue 15): what mirroring costs the client. ocr-cls in local mode with its demo
 * shadow (version 2, gateway/shadow/demo-variant.ts) at 0 % (the baseline: same repository, nothing
 * mirrored) and at 10 %, binary requests, batching off, at each bench concurrency. The shadow runs
 * in the same process and on the same cores, so its cost is the client's latency and throughput
 * next to the 0 % row; the target is under 5 % at 10 %.
 */
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeDemoVariant } from "../../gateway/shadow/demo-variant";
import type { Tensor } from "../../layers/protocol/types";
import { benchRepository, startGateway } from "./children";
import { measureHttp } from "./http-rows";
import type { MeasureOptions } from "./measure";
import { type BenchModel, binaryRequest, inputTensor } from "./payloads";
import { type Row, rowOf } from "./report";
import type { BenchSettings } from "./settings";

/** Shares of unpinned requests mirrored, in order A B B A: load that drifts during the run hits both alike. */
export const SHADOW_PERCENTS = [0, 10, 10, 0] as const;

const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)} %`;

/** The 0 % and 10 % rows of `model` (ocr-cls: the demo's shadowed model) at each concurrency. */
export async function measureShadowRows(
  model: BenchModel,
  s: BenchSettings,
  timing: Pick<MeasureOptions, "durationMs" | "warmupMs" | "maxRequests">,
  expected: Tensor[] | undefined,
): Promise<Row[]> {
  const variant = writeDemoVariant(fileURLToPath(new URL("../../functions/models/", import.meta.url)));
  const repo = await benchRepository([model.name], { batching: false, cache: false, threads: s.threads });
  const dir = fileURLToPath(repo.uri);
  const config = JSON.parse(await readFile(join(dir, model.name, "config.json"), "utf8")) as Record<
    string,
    unknown
  >;
  await mkdir(join(dir, model.name, "2"), { recursive: true });
  await symlink(variant, join(dir, model.name, "2/model.onnx"));
  const x = inputTensor(model);
  const request = binaryRequest(model.name, x);
  // Version 2 loaded before any window: its load is a start cost, not a mirroring cost.
  const pinned = JSON.stringify({ inputs: [{ ...x, data: Array.from(x.data as Float32Array) }] });
  const rows: Row[] = [];
  try {
    for (const [run, percent] of SHADOW_PERCENTS.entries()) {
      const shadow = { version: 2, percent, argmax: ["softmax_0.tmp_0"] };
      await writeFile(
        join(dir, model.name, "config.json"),
        JSON.stringify({ ...config, live_version: 1, shadow }, null, 2),
      );
      const gateway = await startGateway(repo.uri, { env: { LOG_LEVEL: "ERROR" } });
      try {
        const warm = await fetch(
          `http://127.0.0.1:${gateway.port}/v2/models/${model.name}/versions/2/infer`,
          {
            method: "POST",
            body: pinned,
          },
        );
        if (warm.status !== 200) throw new Error(`shadow version 2 did not answer: ${await warm.text()}`);
        for (const c of s.concurrency) {
          const m = await measureHttp(
            gateway.port,
            request,
            { concurrency: c, ...timing },
            { expected, tolerance: 1e-3 },
          );
          const head = {
            model: model.name,
            system: "edge-infer",
            batching: "off",
            concurrency: c,
            items: 1,
          } as const;
          rows.push(rowOf({ ...head, variant: `binary, shadow ${percent} % (run ${run + 1})` }, m));
        }
      } finally {
        await gateway.stop();
      }
    }
  } finally {
    await repo.cleanup();
  }
  return withCost(rows);
}

/** Notes each 10 % row with its cost against the mean of the 0 % rows at the same concurrency. */
function withCost(rows: Row[]): Row[] {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const row of rows) {
    const base = rows.filter((r) => r.concurrency === row.concurrency && r.variant.includes("shadow 0 %"));
    if (row.variant.includes("shadow 0 %")) {
      row.note = "baseline: shadow configured, nothing mirrored";
      continue;
    }
    const p50 = row.p50Ms / mean(base.map((r) => r.p50Ms)) - 1;
    const rps = row.rps / mean(base.map((r) => r.rps)) - 1;
    row.note = `vs 0 % (mean of its runs): p50 ${pct(p50)}, req/s ${pct(rps)} (target: cost < 5 %)`;
  }
  return rows;
}
