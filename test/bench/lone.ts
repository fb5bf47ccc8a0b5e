/**
 * A lone request (issue 14), measured so that a shared machine disturbs it little: ocr-cls binary
 * at c=1 against the hand-written server and the gateway (local mode, batching off), alternating in
 * rounds; per server the CPU time its process spent per request (all threads, from /proc), the
 * client-side p50 and p99, and how many scavenges (with their median pause) and mark-compacts it ran
 * (`--trace-gc`).
 * Every server first settles (LONE_SETTLE requests, 4000 by default; http-rows.ts, settle), so the
 * rounds time steady states, not V8 compiling. Prints one table; nothing is asserted. Linux only (/proc).
 *
 *   npx tsx test/bench/lone.ts [requests per round = 500] [rounds = 3]
 *   LONE_SETTLE=0 npx tsx test/bench/lone.ts         # fresh servers: the JIT's warm-up included
 *   LONE_GATEWAY_FLAGS="--min-semi-space-size=16" npx tsx test/bench/lone.ts   # node flags of the gateway
 *   LONE_GATEWAY_FLAGS=";--initial-old-space-size=0" npx tsx test/bench/lone.ts # one gateway per `;` set
 * The gateways get `npm start`'s flags, then these (a later flag wins). With three or more servers each
 * idles for seconds between its rounds, as a server does between bursts of traffic.
 */
import { threadStats } from "../support/threads";
import { benchRepository, type ServerChild, startGateway, startHandwritten } from "./children";
import { Connection } from "./client";
import { settle } from "./http-rows";
import { percentile } from "./measure";
import { binaryRequest, inputTensor, MODELS } from "./payloads";

const perRound = Number(process.argv[2] ?? 500);
const rounds = Number(process.argv[3] ?? 3);
const model = MODELS["ocr-cls"];
if (model === undefined) throw new Error("no ocr-cls");

/** CPU milliseconds `pid` has used, all threads (utime + stime, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  return threadStats(pid).reduce((ms, t) => ms + (t.utime + t.stime) * 10, 0);
}

interface Tally {
  latencies: number[];
  cpu: number;
  requests: number;
  scavenges: number;
  /** Each scavenge's pause, ms (`--trace-gc`'s "MB, <pause> / <ms>"). */
  scavengeMs: number[];
  markCompacts: number;
}

/** The pause of a `--trace-gc` line ("... MB, 1.61 / 0.00 ms ..."), or undefined. */
function pauseMs(line: string): number | undefined {
  const m = / MB, ([\d.]+) \//.exec(line);
  return m === null ? undefined : Number(m[1]);
}

async function round(server: ServerChild, bytes: Buffer, t: Tally): Promise<void> {
  const conn = await Connection.open(server.port);
  try {
    for (let i = 0; i < 20; i++) await conn.send(bytes);
    const pid = server.started.child.pid ?? 0;
    const out = server.started.output().length;
    const cpu = cpuMs(pid);
    for (let i = 0; i < perRound; i++) {
      const started = performance.now();
      const r = await conn.send(bytes);
      t.latencies.push(performance.now() - started);
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    }
    t.cpu += cpuMs(pid) - cpu;
    t.requests += perRound;
    // Only the main isolate's lines: a worker's (tsx's loader, an inference worker) have their own address.
    const lines = server.started.output().slice(out).split("\n");
    const main = /^\[\d+:0x[0-9a-f]{6,9}\]/;
    const scavenges = lines.filter((l) => main.test(l) && l.includes(" Scavenge"));
    t.scavenges += scavenges.length;
    for (const l of scavenges) {
      const ms = pauseMs(l);
      if (ms !== undefined) t.scavengeMs.push(ms);
    }
    t.markCompacts += lines.filter((l) => main.test(l) && l.includes(" Mark-Compact")).length;
  } finally {
    conn.close();
  }
}

const repo = await benchRepository([model.name], { batching: false, cache: false, threads: 1 });
const gcFlags = ["--trace-gc"];
const flagSets = (process.env.LONE_GATEWAY_FLAGS ?? "")
  .split(";")
  .map((set) => set.split(" ").filter((f) => f !== ""));
const servers: Array<[string, ServerChild]> = [
  ["hand-written", await startHandwritten([model.name], 1, { nodeFlags: gcFlags })],
];
for (const extra of flagSets) {
  servers.push([
    `edge-infer ${extra.join(" ")}`.trim(),
    await startGateway(repo.uri, { nodeFlags: [...gcFlags, ...extra] }),
  ]);
}
const request = binaryRequest(model.name, inputTensor(model));
const bytes = request.bytes;
const settleRequests = Number(process.env.LONE_SETTLE ?? 4000);
const tallies: Tally[] = servers.map(() => ({
  latencies: [],
  cpu: 0,
  requests: 0,
  scavenges: 0,
  scavengeMs: [],
  markCompacts: 0,
}));
try {
  for (const [, server] of servers)
    await settle(server.port, request, settleRequests, Number.POSITIVE_INFINITY);
  for (let r = 0; r < rounds; r++) {
    for (const [i, [, server]] of servers.entries()) await round(server, bytes, tallies[i] as Tally);
  }
} finally {
  for (const [, s] of servers) await s.stop();
  await repo.cleanup();
}
console.log(`ocr-cls binary, c=1, ${rounds} rounds × ${perRound} requests, alternating`);
console.log(
  "| server | CPU ms / request | p50 ms | p99 ms | p99 ÷ p50 | scavenges / 1000 | scavenge pause p50 ms | mark-compacts / 1000 |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const [i, [name]] of servers.entries()) {
  const t = tallies[i] as Tally;
  const sorted = Float64Array.from(t.latencies).sort();
  const [p50, p99] = [percentile(sorted, 0.5), percentile(sorted, 0.99)];
  const per1000 = (n: number) => ((n / t.requests) * 1000).toFixed(1);
  const pauses = Float64Array.from(t.scavengeMs).sort();
  const pause = pauses.length === 0 ? "-" : percentile(pauses, 0.5).toFixed(2);
  console.log(
    `| ${name} | ${(t.cpu / t.requests).toFixed(2)} | ${p50.toFixed(2)} | ${p99.toFixed(2)} | ${(p99 / p50).toFixed(2)} | ${per1000(t.scavenges)} | ${pause} | ${per1000(t.markCompacts)} |`,
  );
}
