/**
 * One inference worker seen from the engine's thread: starts it (TypeScript entry under tsx and
 * vitest, the bundled `inference-worker.mjs` next to a bundle), matches answers to requests, and
 * turns an unexpected exit into a rejection of everything pending.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Tensor } from "../protocol/types";
import type { EngineLogger } from "./types";
import type { FromWorker, RunFailure, ToWorker, ValueMeta, WorkerInit } from "./worker-protocol";

/** File name of the worker bundle, built next to a bundle that runs the engine with threads. */
export const WORKER_BUNDLE_FILE = "inference-worker.mjs";

/** ORT refused to open the model in the worker; the message is ORT's, `reason` a public one if known. */
export class WorkerLoadFailed extends Error {
  constructor(
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}
/** The worker exited or crashed before answering. */
export class WorkerStopped extends Error {}
/** A run failed in the worker; `failure` says whose fault it is. */
export class WorkerRunFailed extends Error {
  constructor(
    readonly failure: RunFailure,
    message: string,
  ) {
    super(message);
  }
}

const live = new Set<Worker>();

/** Inference workers alive in this process (diagnostics and tests: 0 once every engine is closed). */
export function inferenceWorkerCount(): number {
  return live.size;
}

/**
 * A worker thread running the TypeScript module `entry` from source (tsx, vitest): on Node 20 a worker
 * gets no TypeScript loader of its own, so tsx is registered first.
 */
export function typeScriptWorker(entry: string, workerData: unknown): Worker {
  const tsxDir = dirname(createRequire(import.meta.url).resolve("tsx/package.json"));
  const tsx = pathToFileURL(join(tsxDir, "dist/esm/api/index.mjs")).href;
  const code = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true, workerData });
}

function spawn(init: WorkerInit): Worker {
  // Bundled, this module is part of an .mjs file and the worker entry was built beside it.
  if (!import.meta.url.endsWith(".ts")) {
    return new Worker(new URL(`./${WORKER_BUNDLE_FILE}`, import.meta.url), { workerData: init });
  }
  return typeScriptWorker(new URL("./worker-entry.ts", import.meta.url).href, init);
}

interface Pending {
  resolve(outputs: Tensor[]): void;
  reject(e: Error): void;
}

/** A started worker holding one session. */
export class InferenceWorker {
  readonly worker: Worker;
  /** ORT's metadata once the session is open; rejects with WorkerLoadFailed or WorkerStopped. */
  readonly ready: Promise<{ inputMetadata: ValueMeta[]; outputMetadata: ValueMeta[] }>;
  /** Set when the worker stopped without being asked to. */
  stopped: WorkerStopped | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private stopping = false;
  private exited = false;
  private lastError: Error | undefined;
  private onReady:
    | {
        resolve(m: { inputMetadata: ValueMeta[]; outputMetadata: ValueMeta[] }): void;
        reject(e: Error): void;
      }
    | undefined;
  private readonly exitWaiters: Array<() => void> = [];
  private readonly stopListeners: Array<(e: WorkerStopped) => void> = [];

  constructor(
    private readonly init: WorkerInit,
    private readonly log: EngineLogger,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.onReady = { resolve, reject };
    });
    // Awaited by the loader; a late rejection (an exit after the answer) is no news to anyone.
    this.ready.catch(() => undefined);
    this.worker = spawn(init);
    live.add(this.worker);
    this.worker.on("message", (m: FromWorker) => this.onMessage(m));
    this.worker.on("error", (e) => {
      this.lastError = e;
    });
    this.worker.on("exit", (code) => this.onExit(code));
  }

  /** Runs in the worker; the inputs' buffers are transferred (the caller hands copies). */
  request(inputs: Tensor[], outputs: string[], transfer: ArrayBuffer[]): Promise<Tensor[]> {
    if (this.stopped !== undefined) return Promise.reject(this.stopped);
    const id = this.nextId++;
    const done = new Promise<Tensor[]>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    // Keeps the process alive only while a run is pending: an idle worker never holds it open.
    if (this.pending.size === 1) this.worker.ref();
    const msg: ToWorker = { type: "run", id, inputs, outputs };
    this.worker.postMessage(msg, transfer);
    return done;
  }

  /** Calls `listener` once if the worker stops unexpectedly (at once if it already has). */
  onStop(listener: (e: WorkerStopped) => void): void {
    if (this.stopped !== undefined) listener(this.stopped);
    else this.stopListeners.push(listener);
  }

  /** Releases the session and ends the worker; resolves once the thread has exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.exited) return;
    this.worker.ref();
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    const release: ToWorker = { type: "release" };
    this.worker.postMessage(release);
    // The worker answers "released" (then it is terminated); a stuck one is terminated anyway.
    const timer = setTimeout(() => this.worker.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (this.pending.size === 0 && !this.stopping) this.worker.unref();
    return p;
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case "ready":
        this.worker.unref();
        this.onReady?.resolve({ inputMetadata: m.inputMetadata, outputMetadata: m.outputMetadata });
        break;
      case "load-failed":
        this.stopping = true;
        this.onReady?.reject(new WorkerLoadFailed(m.error, m.reason));
        this.worker.terminate();
        break;
      case "log":
        this.log(m.level, m.msg, m.fields);
        break;
      case "result":
        this.settle(m.id)?.resolve(m.outputs);
        break;
      case "run-failed":
        this.settle(m.id)?.reject(new WorkerRunFailed(m.failure, m.error));
        break;
      case "released":
        this.worker.terminate();
        break;
    }
  }

  private onExit(code: number): void {
    this.exited = true;
    live.delete(this.worker);
    if (!this.stopping) {
      const why = this.lastError?.message ?? `exit code ${code}`;
      const { model, version } = this.init;
      this.stopped = new WorkerStopped(`the inference worker stopped (${why})`, { cause: this.lastError });
      this.log("error", `model '${model}' version ${version}: the inference worker stopped unexpectedly`, {
        model,
        version,
        exitCode: code,
        error: why,
      });
    }
    const err = this.stopped ?? new WorkerStopped("the inference worker was stopped");
    this.onReady?.reject(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const w of this.exitWaiters.splice(0)) w();
    if (this.stopped !== undefined) for (const l of this.stopListeners.splice(0)) l(this.stopped);
  }
}
