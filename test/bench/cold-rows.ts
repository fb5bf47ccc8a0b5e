/**
 * Cold start of the model function (issue 14): a fresh Node process of the model-function bundle
 * (esbuild, as deployed) whose repository is on s3rver, from spawn to its first answer, split into
 * import, download, session creation and warm-up (the engine's "warmed up" log line carries the
 * last three). The limit: a fresh Node process that downloads the same file with the AWS SDK and
 * creates an ORT session with the same options, and nothing else. Median of the rounds.
 */
import { spawn } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixedInputShapes, ortOptions } from "../../layers/engine/session";
import { parseConfigText } from "../../layers/repository/config";
import { parseTransportResult } from "../../layers/transport";
import { inferEvent } from "../../layers/transport/wire";
import { buildBundles, s3Models } from "../functions/model/fixtures";
import { startBundledLambda } from "../support/server";
import { ROOT } from "./children";
import { percentile } from "./measure";
import { inputTensor, MODELS } from "./payloads";
import type { Target } from "./report";

/** One cold start's split, ms; `totalMs` is spawn → first answer. */
export interface ColdStart {
  importMs: number;
  fetchMs: number;
  sessionMs: number;
  warmupMs: number;
  firstRunMs: number;
  totalMs: number;
  /** The limit: spawn → node ready, download, InferenceSession.create, and their sum. */
  limit: { nodeMs: number; downloadMs: number; createMs: number; totalMs: number };
}

const MODEL = "ocr-cls";
const DEMO = join(ROOT, "functions/models", MODEL);

// The limit's child: plain ESM, timings relative to the parent's spawn time (argv).
const LIMIT = `
const [spawnedAt, endpoint, bucket, key, file, options] = process.argv.slice(-6);
const t0 = Date.now();
const { S3Client, GetObjectCommand } = await import("@aws-sdk/client-s3");
const { writeFile } = await import("node:fs/promises");
const s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true });
const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
await writeFile(file, await r.Body.transformToByteArray());
const t1 = Date.now();
const ort = await import("onnxruntime-node");
await ort.InferenceSession.create(file, JSON.parse(options));
const t2 = Date.now();
console.log(JSON.stringify({ nodeMs: t0 - Number(spawnedAt), downloadMs: t1 - t0, createMs: t2 - t1 }));
`;

function runLimit(args: string[], env: Record<string, string>): Promise<ColdStart["limit"]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", LIMIT, String(Date.now()), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`cold-start limit failed (${code}): ${out.slice(0, 500)}`));
      const t = JSON.parse(out.trim().split("\n").pop() ?? "{}") as Omit<ColdStart["limit"], "totalMs">;
      resolve({ ...t, totalMs: t.nodeMs + t.downloadMs + t.createMs });
    });
  });
}

/** The JSON log lines of a child's output. */
function logLines(output: string): Array<Record<string, unknown>> {
  return output.split("\n").flatMap((l) => {
    try {
      return l.startsWith("{") ? [JSON.parse(l) as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/** Measures `rounds` cold starts of ocr-cls's model function and of the limit; medians. */
export async function measureColdStart(rounds: number): Promise<ColdStart> {
  const [bundles, models] = await Promise.all([
    buildBundles(["model-function"]),
    s3Models(undefined, undefined, async () => {
      const dir = await mkdtemp(join(tmpdir(), "edge-infer-cold-"));
      await mkdir(join(dir, MODEL, "1"), { recursive: true });
      for (const f of ["config.json", "1/model.onnx", "1/model.onnx.sha256"])
        await copyFile(join(DEMO, f), join(dir, MODEL, f));
      return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
    }),
  ]);
  const model = MODELS[MODEL];
  if (model === undefined) throw new Error("no ocr-cls");
  // The model function's own reading of its config.json: the limit opens the session it opens.
  const config = parseConfigText(await readFile(join(DEMO, "config.json"), "utf8"), MODEL);
  const options = ortOptions(config.optimization, ["cpu"], fixedInputShapes(config));
  const event = inferEvent(MODEL, undefined, { inputs: [inputTensor(model)] });
  const samples: ColdStart[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const cache = await mkdtemp(join(tmpdir(), "edge-infer-cold-cache-"));
      try {
        const spawnedAt = Date.now();
        const fn = await startBundledLambda(bundles.files["model-function"], {
          functionName: MODEL,
          env: {
            PATH: process.env.PATH,
            ...models.env,
            MODEL_NAME: MODEL,
            MODEL_REPOSITORY: models.uri,
            MODEL_CACHE_DIR: cache,
            LOG_LEVEL: "INFO",
          },
        });
        const answer = await fn.invoke(event);
        const totalMs = Date.now() - spawnedAt;
        await fn.close();
        if (!answer.ok) throw new Error(`cold start: ${answer.error.errorMessage}`);
        if (!parseTransportResult(answer.payload, MODEL).ok) throw new Error("cold start: no answer");
        const logs = logLines(fn.output());
        const loading = logs.find((l) => String(l.message).startsWith("loading model"));
        const warmed = logs.find((l) => String(l.message).endsWith("warmed up"));
        if (loading === undefined || warmed === undefined) throw new Error("cold start: no load log lines");
        const importMs = Date.parse(String(loading.timestamp)) - spawnedAt;
        const [fetchMs, sessionMs, warmupMs] = ["fetch_ms", "session_ms", "warmup_ms"].map((k) =>
          Number(warmed[k]),
        );
        const firstRunMs = totalMs - importMs - (fetchMs ?? 0) - (sessionMs ?? 0) - (warmupMs ?? 0);
        const file = join(cache, "limit.onnx");
        const limit = await runLimit(
          [
            models.env.S3_ENDPOINT ?? "",
            models.uri.split("/")[2] ?? "",
            `models/${MODEL}/1/model.onnx`,
            file,
            JSON.stringify(options),
          ],
          models.env,
        );
        samples.push({
          importMs,
          fetchMs: fetchMs ?? 0,
          sessionMs: sessionMs ?? 0,
          warmupMs: warmupMs ?? 0,
          firstRunMs,
          totalMs,
          limit,
        });
      } finally {
        await rm(cache, { recursive: true, force: true });
      }
    }
  } finally {
    await models.close();
    await bundles.cleanup();
  }
  const median = (f: (c: ColdStart) => number) => percentile(Float64Array.from(samples.map(f)).sort(), 0.5);
  return {
    importMs: median((c) => c.importMs),
    fetchMs: median((c) => c.fetchMs),
    sessionMs: median((c) => c.sessionMs),
    warmupMs: median((c) => c.warmupMs),
    firstRunMs: median((c) => c.firstRunMs),
    totalMs: median((c) => c.totalMs),
    limit: {
      nodeMs: median((c) => c.limit.nodeMs),
      downloadMs: median((c) => c.limit.downloadMs),
      createMs: median((c) => c.limit.createMs),
      totalMs: median((c) => c.limit.totalMs),
    },
  };
}

/** The cold-start table, markdown. */
export function coldTable(c: ColdStart): string {
  const f = (n: number) => n.toFixed(0);
  return [
    "| cold start, ocr-cls model function (bundle, repository on s3rver) | import | download | session | warm-up | first answer | spawn → first answer |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    `| edge-infer, ms | ${f(c.importMs)} | ${f(c.fetchMs)} | ${f(c.sessionMs)} | ${f(c.warmupMs)} | ${f(c.firstRunMs)} | ${f(c.totalMs)} |`,
    `| limit: node start, then SDK import + GetObject to a file, then ORT import + InferenceSession.create (same options), ms | ${f(c.limit.nodeMs)} | ${f(c.limit.downloadMs)} | ${f(c.limit.createMs)} | | | ${f(c.limit.totalMs)} |`,
  ].join("\n");
}

/** The cold-start target. */
export function coldTarget(c: ColdStart): Target {
  const over = c.totalMs - c.limit.totalMs;
  return {
    name: "ocr-cls model function cold start (spawn → first answer): within 150 ms of the limit",
    measured: `${c.totalMs.toFixed(0)} ms vs limit ${c.limit.totalMs.toFixed(0)} ms (+${over.toFixed(0)} ms)`,
    wanted: "≤ +150 ms",
    pass: over <= 150,
  };
}
