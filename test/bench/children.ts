/**
 * The servers the bench measures, each in its own process: the hand-written server and the real
 * gateway (`gateway/node.ts`, local mode) over a temporary repository of the demo models whose
 * config.json the bench adjusts (batching on/off, cache on/off, intra-op threads).
 */
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { batchingEnabled } from "../../layers/batching/config";
import { parseConfigText } from "../../layers/repository/config";
import { type Started, startProcess } from "../support/server";

/** The repository root (this file is test/bench/children.ts). */
export const ROOT = resolve(import.meta.dirname, "../..");
const DEMO = join(ROOT, "functions/models");

/** The real file behind the demo repository's `<model>/1/model.onnx` symlink. */
export const modelPath = (model: string): Promise<string> => realpath(join(DEMO, model, "1/model.onnx"));

/** Each model's batching as its demo config.json ships it: "on" or "off". */
export async function shippedBatching(
  rows: ReadonlyArray<{ model: string }>,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const model of new Set(rows.map((r) => r.model))) {
    const config = parseConfigText(await readFile(join(DEMO, model, "config.json"), "utf8"), model);
    out[model] = batchingEnabled(config) ? "on" : "off";
  }
  return out;
}

/** How the bench sets up one model of a temporary repository. */
export interface ModelSetup {
  /** "demo": as the demo's config.json has it. */
  batching: boolean | "demo";
  cache: boolean;
  threads: number;
  /** config.json's `instance_group` count (absent: none set, one instance). */
  instances?: number;
}

/**
 * A repository holding `models` (version 1 linked to the demo's file), each config.json being the
 * demo's with `dynamic_batching.enabled`, `cache.enabled` and `optimization.intra_op_threads` set
 * (and `instance_group` when `instances` is).
 * ocr-det's demo config disables batching; enabling it keeps the demo's max_batch_size and a 2 ms delay.
 */
export async function benchRepository(
  models: readonly string[],
  setup: ModelSetup,
): Promise<{ uri: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "edge-infer-bench-"));
  for (const model of models) {
    const config = JSON.parse(await readFile(join(DEMO, model, "config.json"), "utf8")) as Record<
      string,
      unknown
    >;
    const batching = (config.dynamic_batching ?? {}) as Record<string, unknown>;
    config.dynamic_batching = {
      max_queue_delay_microseconds: 2000,
      ...batching,
      enabled: setup.batching === "demo" ? batching.enabled === true : setup.batching,
    };
    config.cache = { ...((config.cache ?? {}) as object), enabled: setup.cache };
    // The demo's ocr-cls shadow is measured by its own rows (shadow-rows.ts), not in every row.
    delete config.shadow;
    config.optimization = {
      ...((config.optimization ?? {}) as object),
      graph_optimization_level: "all",
      intra_op_threads: setup.threads,
      inter_op_threads: 1,
    };
    if (setup.instances !== undefined) config.instance_group = [{ count: setup.instances }];
    await mkdir(join(dir, model, "1"), { recursive: true });
    await writeFile(join(dir, model, "config.json"), JSON.stringify(config, null, 2));
    await symlink(await modelPath(model), join(dir, model, "1/model.onnx"));
  }
  return { uri: pathToFileURL(dir).href, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A server child process on a loopback port. */
export interface ServerChild {
  port: number;
  started: Started;
  /** SIGTERM, then waits for the exit (a CPU profile, if asked for, is written then). */
  stop(): Promise<void>;
}

const tsx = ["--import", "tsx"];

/**
 * How `npm start` starts the gateway (package.json's start script): the environment it sets before
 * the command (glibc's malloc thresholds) and its node flags (e.g. the young generation's size). The
 * bench's gateway runs as users start it.
 */
export async function startCommand(): Promise<{ env: Record<string, string>; flags: string[] }> {
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
    scripts: { start: string };
  };
  const words = pkg.scripts.start.split(/\s+/);
  const command = words.findIndex((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
  return { env: assignments(words.slice(0, command)), flags: words.filter((w) => w.startsWith("--")) };
}

/** `NAME=value` words (a shell's assignments, a Dockerfile's ENV) as name → value. */
export function assignments(words: readonly string[]): Record<string, string> {
  return Object.fromEntries(words.map((w) => [w.slice(0, w.indexOf("=")), w.slice(w.indexOf("=") + 1)]));
}

async function stopChild(started: Started): Promise<void> {
  const { child } = started;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const timer = setTimeout(() => started.kill(), 15_000);
  child.kill("SIGTERM");
  await started.exited;
  clearTimeout(timer);
}

/** Options of a child: extra node flags (e.g. `--cpu-prof`) and environment. */
export interface ChildOptions {
  nodeFlags?: string[];
  env?: Record<string, string>;
}

/** Starts the hand-written server with `models` loaded. */
export async function startHandwritten(
  models: readonly string[],
  threads: number,
  options: ChildOptions = {},
): Promise<ServerChild> {
  const paths: Record<string, string> = {};
  for (const m of models) paths[m] = await modelPath(m);
  const started = await startProcess(
    process.execPath,
    [...(options.nodeFlags ?? []), ...tsx, join(ROOT, "test/bench/handwritten-server.ts")],
    {
      env: {
        ...process.env,
        ...options.env,
        BENCH_MODELS: JSON.stringify(paths),
        BENCH_THREADS: String(threads),
      },
      ready: /handwritten server listening on (\d+)/,
      cwd: ROOT,
      timeoutMs: 120_000,
    },
  );
  return { port: Number(started.match[1]), started, stop: () => stopChild(started) };
}

/**
 * Starts the gateway in local mode (`gateway/node.ts`) on a free port, serving `repositoryUri`;
 * `env` adds variables (cache, log level). Resolves once it printed its ready line.
 */
export async function startGateway(repositoryUri: string, options: ChildOptions = {}): Promise<ServerChild> {
  const start = await startCommand();
  const started = await startProcess(
    process.execPath,
    [...start.flags, ...(options.nodeFlags ?? []), ...tsx, join(ROOT, "gateway/node.ts")],
    {
      env: {
        ...process.env,
        ...start.env,
        LOG_LEVEL: "ERROR",
        // ocr-det's 1×3×320×320 JSON request of full-precision floats is 6 MB, over the default
        // 4.4 MiB (which keeps Lambda's payload limit); local mode has no such limit to keep.
        MAX_BODY_BYTES: String(8 * 1024 * 1024),
        ...options.env,
        MODEL_REPOSITORY: repositoryUri,
        PORT: "0",
        HOST: "127.0.0.1",
      },
      ready: /edge-infer ready at http:\/\/127\.0\.0\.1:(\d+)/,
      cwd: ROOT,
      timeoutMs: 180_000,
    },
  );
  return { port: Number(started.match[1]), started, stop: () => stopChild(started) };
}

/** Node flags of a gateway child: a CPU profile per child when `profile` is set. */
export function profiled(s: { profile: boolean; out: string }, label: string): ChildOptions {
  if (!s.profile) return {};
  return {
    // One folder per child: node writes one profile per thread (tsx's loader runs in a worker).
    nodeFlags: [
      "--cpu-prof",
      "--cpu-prof-interval=250",
      `--cpu-prof-dir=${resolve(s.out, "profiles", label)}`,
    ],
  };
}
