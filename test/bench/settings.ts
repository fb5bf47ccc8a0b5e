/**
 * The bench's settings, from the environment or `--name=value` flags (flags win), read once and
 * checked, each failing with the name of the setting.
 */
import { join } from "node:path";
import { MODELS } from "./payloads";

/** What one bench run does. */
export interface BenchSettings {
  /** BENCH_SECONDS / --seconds: measured window of each row. @default 3 */
  seconds: number;
  /** BENCH_WARMUP_SECONDS / --warmup: unrecorded run before each row. @default 0.5 */
  warmupSeconds: number;
  /**
   * BENCH_SETTLE_REQUESTS / --settle: requests each server answers (ocr-cls binary at c=1, at most
   * 10 s) before its first measured row, so that rows time its steady state, not its JIT's
   * warm-up (http-rows.ts, settle). @default 4000 (200 when quick)
   */
  settleRequests: number;
  /** BENCH_THREADS / --threads: ORT intra-op threads of every system. @default 1 */
  threads: number;
  /** BENCH_MODELS / --models: comma-separated. @default ocr-cls,ocr-det */
  models: string[];
  /** BENCH_CONCURRENCY / --concurrency: comma-separated. @default 1,8,32 */
  concurrency: number[];
  /** BENCH_JSON / --json: also measure JSON requests. @default true */
  json: boolean;
  /** BENCH_CACHE / --cache: cache hit/miss rows. @default true */
  cache: boolean;
  /** BENCH_PIPELINE / --pipeline: the ocr pipeline against @gutenye/ocr-node (pipeline-rows.ts). @default true */
  pipeline: boolean;
  /** BENCH_PROFILE / --profile: `--cpu-prof` on the gateway children, written under <out>/profiles. */
  profile: boolean;
  /** BENCH_OUT / --out: result folder. @default bench-results/<timestamp> */
  out: string;
  /** BENCH_MODES / --modes: also measure INFERENCE_THREAD=main and =worker (ocr-cls, binary) beside the default. @default true */
  modes: boolean;
  /** BENCH_TAIL / --tail: ocr-det 1×3×224×224 JSON at the highest concurrency (the tail under large bodies). @default true */
  tail: boolean;
  /** BENCH_LARGE / --large: ocr-det 1×3×960×960 binary at c=1, raw ORT, hand-written and edge-infer. @default true */
  large: boolean;
  /** BENCH_COLD / --cold: the model function's cold start against its limit (1 round when quick, else 3). @default true */
  cold: boolean;
  /**
   * BENCH_PERF_ANALYZER / --perf-analyzer: Triton's perf_analyzer against edge-infer and the
   * hand-written server (perf-analyzer-rows.ts). @default on when the tool is found (undefined here)
   */
  perfAnalyzer?: boolean;
  /** BENCH_QUICK / --quick: a small run for checks (0.5 s rows, 0.2 s warm-up, no cache rows); other variables still win. */
  quick: boolean;
  /** Stop each row after this many calls (smoke tests). */
  maxRequests?: number;
}

type Source = Record<string, string | undefined>;

/** Reads the settings from `env` and `argv` (`--seconds=1`, `--models=ocr-cls`, `--profile`). */
export function readSettings(
  env: Source = process.env,
  argv: readonly string[] = process.argv.slice(2),
): BenchSettings {
  const flags: Source = {};
  for (const a of argv) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (m === null) throw new Error(`bench: unknown argument ${JSON.stringify(a)} (expected --name=value)`);
    flags[m[1] ?? ""] = m[2] ?? "true";
  }
  const get = (flag: string, variable: string) => flags[flag] ?? env[variable];
  const number = (flag: string, variable: string, fallback: number, min: number) => {
    const raw = get(flag, variable);
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min)
      throw new Error(`bench: ${variable} (--${flag}) must be a number >= ${min}, got "${raw}"`);
    return n;
  };
  const bool = (flag: string, variable: string, fallback: boolean) => {
    const raw = get(flag, variable)?.toLowerCase();
    if (raw === undefined || raw === "") return fallback;
    if (["1", "true", "on", "yes"].includes(raw)) return true;
    if (["0", "false", "off", "no"].includes(raw)) return false;
    throw new Error(`bench: ${variable} (--${flag}) must be on or off, got "${raw}"`);
  };
  const models = (get("models", "BENCH_MODELS") ?? "ocr-cls,ocr-det").split(",").map((m) => m.trim());
  for (const m of models) {
    if (MODELS[m] === undefined) {
      throw new Error(
        `bench: BENCH_MODELS (--models) names "${m}"; known: ${Object.keys(MODELS).join(", ")}`,
      );
    }
  }
  const concurrency = (get("concurrency", "BENCH_CONCURRENCY") ?? "1,8,32")
    .split(",")
    .map((c) => Number(c.trim()));
  if (concurrency.some((c) => !Number.isInteger(c) || c < 1)) {
    throw new Error("bench: BENCH_CONCURRENCY (--concurrency) must list integers >= 1");
  }
  const quick = bool("quick", "BENCH_QUICK", false);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return {
    seconds: number("seconds", "BENCH_SECONDS", quick ? 0.5 : 3, 0.05),
    warmupSeconds: number("warmup", "BENCH_WARMUP_SECONDS", quick ? 0.2 : 0.5, 0),
    settleRequests: number("settle", "BENCH_SETTLE_REQUESTS", quick ? 200 : 4000, 0),
    threads: number("threads", "BENCH_THREADS", 1, 1),
    models,
    concurrency,
    json: bool("json", "BENCH_JSON", true),
    cache: bool("cache", "BENCH_CACHE", !quick),
    modes: bool("modes", "BENCH_MODES", true),
    tail: bool("tail", "BENCH_TAIL", true),
    large: bool("large", "BENCH_LARGE", true),
    cold: bool("cold", "BENCH_COLD", true),
    pipeline: bool("pipeline", "BENCH_PIPELINE", true),
    ...(get("perf-analyzer", "BENCH_PERF_ANALYZER")
      ? { perfAnalyzer: bool("perf-analyzer", "BENCH_PERF_ANALYZER", true) }
      : {}),
    quick,
    profile: bool("profile", "BENCH_PROFILE", false),
    out: get("out", "BENCH_OUT") ?? join("bench-results", stamp),
  };
}
