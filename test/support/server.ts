/**
 * Test helpers that start real servers and processes on loopback: a Hono app on a Node server,
 * a child process awaited on a log line, and an esbuild-bundled Lambda handler in a fresh Node
 * process, invoked with real events and a Lambda-shaped context. AWS APIs in front of them: aws-apis.ts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { Server } from "node:http";
import { pathToFileURL } from "node:url";
import { serve } from "@hono/node-server";
import type { RunningGateway, StartOptions } from "../../gateway/serve";

/** A server listening on 127.0.0.1:<free port>. */
export interface Listening {
  /** `http://127.0.0.1:<port>` */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves a fetch handler (a Hono app's `fetch`) on a free loopback port. */
export function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<Listening> {
  return new Promise((resolve) => {
    const server = serve({ fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
      resolve({ url: `http://127.0.0.1:${info.port}`, server, close: () => closeServer(server) });
    }) as Server;
  });
}

/** A gateway started by startGatewayServer, and the lines it printed at start. */
export interface TestGateway extends RunningGateway {
  printed: string[];
}

/**
 * The gateway as `npm start` runs it (gateway/serve.ts: config, runtime, warm-up, node server), in
 * this process, configured by `env` alone (not this process's environment) on a free loopback port.
 */
export async function startGatewayServer(
  env: Record<string, string | undefined>,
  options: StartOptions = {},
): Promise<TestGateway> {
  // Imported on demand: the gateway pulls in ONNX Runtime, which most users of this file do not need.
  const { readGatewayConfig } = await import("../../gateway/config");
  const { startGateway } = await import("../../gateway/serve");
  const printed: string[] = [];
  const config = readGatewayConfig({ LOG_LEVEL: "SILENT", ...env, HOST: "127.0.0.1", PORT: "0" });
  const gateway = await startGateway(config, { print: (line) => printed.push(line), ...options });
  return Object.assign(gateway, { printed });
}

/** Closes a server, dropping keep-alive connections so the promise settles. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((e) => (e ? reject(e) : resolve()));
    server.closeAllConnections();
  });
}

/** A child process started by `startProcess`. */
export interface Started {
  child: ChildProcess;
  /** The regexp match of the line that said the process was ready. */
  match: RegExpMatchArray;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  exited: Promise<number | string>;
  /** Sends SIGKILL if the process still runs. */
  kill(): void;
}

/** Spawns `command` and resolves once a line of its output matches `ready`; rejects if it exits first. */
export function startProcess(
  command: string,
  args: string[],
  options: { env: Record<string, string | undefined>; ready: RegExp; timeoutMs?: number; cwd?: string },
): Promise<Started> {
  const child = spawn(command, args, {
    env: options.env,
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? signal ?? -1));
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`process not ready within ${options.timeoutMs ?? 60_000} ms; output:\n${out}`));
    }, options.timeoutMs ?? 60_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(options.ready);
      if (match !== null) {
        clearTimeout(timer);
        resolve({
          child,
          match,
          output: () => out,
          exited,
          kill: () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
          },
        });
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before it was ready; output:\n${out}`));
    });
  });
}

/**
 * The model container's server (`args`: its bundle, or functions/model/main.ts under tsx) serving
 * model `add` of the file repository `dir` on a free loopback port; `env` adds or overrides variables.
 */
export function startModelServer(
  args: string[],
  dir: string,
  env: Record<string, string> = {},
): Promise<Started> {
  return startProcess(process.execPath, args, {
    env: {
      PATH: process.env.PATH,
      PORT: "0",
      HOST: "127.0.0.1",
      MODEL_NAME: "add",
      MODEL_REPOSITORY: pathToFileURL(dir).href,
      LOG_LEVEL: "WARN",
      ...env,
    },
    ready: /listening on 127\.0\.0\.1:(\d+)/,
  });
}

/** What a handler invocation gave: its result, or the error Lambda would report. */
export type Invocation =
  | { ok: true; payload: unknown }
  | { ok: false; error: { errorType: string; errorMessage: string; trace?: string[] } };

/** A bundled Lambda handler running in its own Node process. */
export interface BundledLambda {
  functionName: string;
  /** Invokes the handler with `event` and a fresh Lambda-shaped context. */
  invoke(event: unknown): Promise<Invocation>;
  /** How many invocations it has received. */
  readonly invocations: number;
  output(): string;
  close(): Promise<void>;
}

/**
 * The child's side, plain ESM: imports the bundle (init, top-level await included, as Lambda does),
 * then runs one invocation per IPC message with a context shaped like Powertools' test context.
 * An init failure is reported on every invocation, as Lambda reports Runtime.InitError.
 */
const RUNNER = `
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
const [bundle, functionName, timeoutMs] = process.argv.slice(-3);
let init;
try {
  init = { mod: await import(pathToFileURL(bundle).href) };
} catch (e) {
  init = { error: e };
}
const asError = (e) => ({
  errorType: e instanceof Error ? e.name : "Error",
  errorMessage: e instanceof Error ? e.message : String(e),
  trace: e instanceof Error && e.stack ? e.stack.split("\\n") : [],
});
process.on("message", async ({ id, event }) => {
  const result = init.error ? { id, ok: false, error: asError(init.error) } : await invoke(id, event);
  // The invocation's log lines first: a mark on each stream, which the parent waits for.
  const mark = (stream) => new Promise((r) => stream.write("\\0end " + id + "\\n", r));
  await Promise.all([mark(process.stdout), mark(process.stderr)]);
  process.send(result);
});
async function invoke(id, event) {
  const deadline = Date.now() + Number(timeoutMs);
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:" + functionName + ":live",
    memoryLimitInMB: "2048",
    awsRequestId: randomUUID(),
    logGroupName: "/aws/lambda/" + functionName,
    logStreamName: "2026/01/01/[$LATEST]" + randomUUID().replaceAll("-", ""),
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {}, fail() {}, succeed() {},
  };
  try {
    const payload = await init.mod.handler(event, context);
    return { id, ok: true, payload: payload === undefined ? null : payload };
  } catch (e) {
    return { id, ok: false, error: asError(e) };
  }
}
process.send({ ready: true });
`;

/** Starts `bundle` (an index.mjs exporting `handler`) in a fresh Node process with exactly `env`. */
export async function startBundledLambda(
  bundle: string,
  options: { functionName: string; env: Record<string, string | undefined>; timeoutMs?: number },
): Promise<BundledLambda> {
  const child = spawn(
    process.execPath,
    ["--input-type=module", "-e", RUNNER, bundle, options.functionName, String(options.timeoutMs ?? 30_000)],
    { env: options.env, stdio: ["ignore", "pipe", "pipe", "ipc"] },
  );
  // An invocation settles once its result came over IPC and its end mark on both streams: its log
  // lines are then all in `out` (the pipes and the IPC channel are read in no set order).
  let out = "";
  const waits = new Map<number, { marks: number; result?: Invocation; settle: (r: Invocation) => void }>();
  const progress = (id: number, marks: number, result?: Invocation) => {
    const w = waits.get(id);
    if (w === undefined) return;
    w.marks += marks;
    w.result ??= result;
    if (w.marks < 2 || w.result === undefined) return;
    waits.delete(id);
    w.settle(w.result);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let held = "";
    stream?.on("data", (c: Buffer) => {
      const text = held + c.toString();
      // A mark cut between two chunks waits for the rest.
      const cut = text.lastIndexOf("\0");
      const whole = cut >= 0 && !text.includes("\n", cut) ? cut : text.length;
      held = text.slice(whole);
      out += text.slice(0, whole).replace(/\0end (\d+)\n/g, (_, id: string) => {
        progress(Number(id), 1);
        return "";
      });
    });
  }
  let next = 0;
  let invocations = 0;
  await new Promise<void>((resolve, reject) => {
    child.on("message", (m: { ready?: boolean; id?: number } & Invocation) => {
      if (m.ready === true) return resolve();
      if (m.id === undefined) return;
      progress(m.id, 0, m.ok ? { ok: true, payload: m.payload } : { ok: false, error: m.error });
    });
    child.on("exit", (code) =>
      reject(new Error(`Lambda runner exited (${code}) during init; output:\n${out}`)),
    );
  });
  return {
    functionName: options.functionName,
    get invocations() {
      return invocations;
    },
    invoke(event) {
      invocations++;
      const id = next++;
      return new Promise((resolve) => {
        waits.set(id, { marks: 0, settle: resolve });
        child.send({ id, event });
      });
    },
    output: () => out,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
