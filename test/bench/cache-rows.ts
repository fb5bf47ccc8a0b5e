/**
 * Cache rows (issue 4): a model's answers served by the gateway from L1 (memory), from L2
 * (DynamoDB, a dynalite the bench starts, with L1 turned off by CACHE_L1_BYTES=0), and misses
 * (every request unique) with each setup. Concurrency 1, binary requests, X-Cache counted per row.
 */
import type { Tensor } from "../../layers/protocol/types";
import { startDynalite } from "../support/dynalite";
import { benchRepository, profiled, startGateway } from "./children";
import { measureHttp } from "./http-rows";
import type { MeasureOptions } from "./measure";
import { type BenchModel, binaryRequest, inputTensor } from "./payloads";
import { type Row, rowOf } from "./report";
import type { BenchSettings } from "./settings";

type Timing = Pick<MeasureOptions, "durationMs" | "warmupMs" | "maxRequests">;

/** Measures L1 hit, L1 miss, L2 hit and L2 miss of `model` (its cache enabled in config.json). */
export async function measureCacheRows(
  model: BenchModel,
  s: BenchSettings,
  timing: Timing,
  expected: Tensor[] | undefined,
): Promise<Row[]> {
  const rows: Row[] = [];
  const repo = await benchRepository([model.name], { batching: false, cache: true, threads: s.threads });
  const dynalite = await startDynalite("edge-infer-bench-cache");
  const request = binaryRequest(model.name, inputTensor(model));
  const head = (variant: string) =>
    ({
      model: model.name,
      system: "edge-infer cache",
      variant,
      batching: "off",
      concurrency: 1,
      items: 1,
    }) as const;
  try {
    const setups: Array<{ tier: string; env: Record<string, string> }> = [
      { tier: "L1 memory", env: {} },
      {
        tier: "L2 DynamoDB (dynalite), L1 off",
        env: { CACHE_TABLE: dynalite.table, DYNAMODB_ENDPOINT: dynalite.endpoint, CACHE_L1_BYTES: "0" },
      },
    ];
    for (const { tier, env } of setups) {
      const gateway = await startGateway(repo.uri, { ...profiled(s, `cache-${rows.length}`), env });
      try {
        const miss = await measureHttp(
          gateway.port,
          request,
          { concurrency: 1, ...timing, unique: true },
          { expected: undefined },
        );
        rows.push(rowOf(head(`MISS ${tier}`), miss, "every request unique"));
        // One request stores the answer; the background write lands before the hits are measured.
        await measureHttp(
          gateway.port,
          request,
          { concurrency: 1, durationMs: 0, warmupMs: 0 },
          { expected },
        );
        await new Promise((r) => setTimeout(r, 500));
        const hit = await measureHttp(
          gateway.port,
          request,
          { concurrency: 1, ...timing },
          { expected, tolerance: 1e-3 },
        );
        rows.push(rowOf(head(`HIT ${tier}`), hit, "the same request again"));
      } finally {
        await gateway.stop();
      }
    }
  } finally {
    await dynalite.close();
    await repo.cleanup();
  }
  return rows;
}
