/**
 * Memory after a large request (issue 12): the gateway (`gateway/node.ts`, local mode) in its own
 * process over the demo models plus `det-nolimits` (ocr-det without `limits`), its RSS read from
 * /proc after the repro [1,3,1,380000] on each, and after 100 ordinary requests. Prints one JSON
 * line of MiB figures (and ms per ordinary request, for comparison); nothing is asserted. Bounded: gives up after 5 minutes.
 *
 *   npx tsx test/bench/rss.ts
 */
import { copyFile, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startProcess } from "../support/server";
import { ROOT } from "./children";

const DEMO = join(ROOT, "functions/models");
setTimeout(() => {
  console.error("rss: gave up after 5 minutes");
  process.exit(1);
}, 300_000).unref();

async function link(repo: string, name: string, from: string, limits: boolean): Promise<void> {
  await mkdir(join(repo, name, "1"), { recursive: true });
  const config = JSON.parse(await readFile(join(DEMO, from, "config.json"), "utf8"));
  // Without limits the arena would keep whatever a client sent: the copy runs with it off (README).
  if (!limits) {
    delete config.limits;
    if (config.optimization !== undefined) delete config.optimization.enable_mem_arena;
  }
  await writeFile(join(repo, name, "config.json"), JSON.stringify({ ...config, name }));
  await symlink(await realpath(join(DEMO, from, "1/model.onnx")), join(repo, name, "1/model.onnx"));
  await copyFile(join(DEMO, from, "1/model.onnx.sha256"), join(repo, name, "1/model.onnx.sha256"));
}

/** Resident set of `pid` in MiB (VmRSS). */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
}

/** A binary infer request of zeros for `x` of `shape`, binary outputs. */
async function infer(url: string, model: string, shape: number[]): Promise<number> {
  const bytes = shape.reduce((a, b) => a * b, 1) * 4;
  const head = new TextEncoder().encode(
    JSON.stringify({
      inputs: [{ name: "x", shape, datatype: "FP32", parameters: { binary_data_size: bytes } }],
      parameters: { binary_data_output: true },
    }),
  );
  const body = new Uint8Array(head.length + bytes);
  body.set(head);
  const res = await fetch(`${url}/v2/models/${model}/infer`, {
    method: "POST",
    body,
    headers: { "Inference-Header-Content-Length": String(head.length) },
  });
  await res.arrayBuffer();
  return res.status;
}

const settle = () => new Promise((r) => setTimeout(r, 2_000));

const repo = await mkdtemp(join(tmpdir(), "rss-"));
try {
  await link(repo, "ocr-det", "ocr-det", true);
  await link(repo, "det-nolimits", "ocr-det", false);
  const gateway = await startProcess(process.execPath, ["--import", "tsx", "gateway/node.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: "ERROR",
      PORT: "0",
      BATCHING: "off",
      MODEL_REPOSITORY: pathToFileURL(repo).href,
    },
    ready: /ready at (http:\/\/127\.0\.0\.1:\d+)/,
  });
  const url = gateway.match[1] ?? "";
  const pid = gateway.child.pid ?? 0;
  const figures: Record<string, number> = { warm: await rssMiB(pid) };
  figures.reproLimitedStatus = await infer(url, "ocr-det", [1, 3, 1, 380_000]);
  figures.afterReproLimited = await rssMiB(pid);
  figures.reproUnlimitedStatus = await infer(url, "det-nolimits", [1, 3, 1, 380_000]);
  figures.afterReproUnlimited = await rssMiB(pid);
  await settle();
  figures.afterReproUnlimitedSettled = await rssMiB(pid);
  let ok = 0;
  const started = performance.now();
  for (let i = 0; i < 100; i++) ok += (await infer(url, "ocr-det", [1, 3, 320, 320])) === 200 ? 1 : 0;
  // Reported for the arena's throughput cost, never asserted.
  figures.ordinaryMsEach = Math.round((performance.now() - started) / 100);
  figures.ordinaryOk = ok;
  figures.after100Ordinary = await rssMiB(pid);
  await settle();
  figures.after100OrdinarySettled = await rssMiB(pid);
  console.log(JSON.stringify(figures));
  gateway.kill();
} finally {
  await rm(repo, { recursive: true, force: true });
}
