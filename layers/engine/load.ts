/** Loading one model version: fetch, ORT session (here or in a worker), served signature, warm-up. */
import { InferenceError, ModelNotReady } from "../errors";
import { limitsProblem } from "../repository/limits";
import type { ModelConfig, ModelRepository, ModelSignature } from "../repository/types";
import { HybridModel } from "./hybrid-model";
import { type ServedModel, SessionModel, shortOrtMessage } from "./loaded";
import type { ModelInfo } from "./model-info";
import { fixedInputShapes, openEngineSession, ProviderUnavailable, warmupInputs } from "./session";
import { completeConfig, resolveSignature, SignatureMismatch } from "./signature";
import type { EngineLogger, InferenceThread } from "./types";
import { WorkerModel } from "./worker-model";
import { WorkerPool } from "./worker-pool";
import type { ValueMeta } from "./worker-protocol";
import { InferenceWorker, WorkerLoadFailed, WorkerStopped } from "./worker-thread";

const noop = (): void => undefined;

type Target = { model: string; version: number; config: ModelConfig };

/** An open session, before its signature is known. */
interface Opened {
  meta: { inputMetadata: readonly ValueMeta[]; outputMetadata: readonly ValueMeta[] };
  model(signature: ModelSignature, config: ModelConfig): ServedModel;
  close(): Promise<void>;
}

async function openHere(path: string, target: Target, log: EngineLogger): Promise<Opened> {
  const { model, version, config } = target;
  const where = { model, version };
  const session = await openEngineSession(path, config.optimization, log, where, fixedInputShapes(config));
  return {
    meta: session,
    model: (sig, completed) => new SessionModel(model, version, completed, sig, session),
    close: () => session.release(),
  };
}

/**
 * Every one of `opening`, or none: when one fails, the others are closed and the first failure is
 * thrown (a version is never left half open).
 */
async function allOrNone<T>(opening: Array<Promise<T>>, close: (t: T) => Promise<void>): Promise<T[]> {
  const settled = await Promise.allSettled(opening);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  const opened = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  if (failed === undefined) return opened;
  await Promise.all(opened.map((t) => close(t).catch(noop)));
  throw failed.reason;
}

async function openWorker(path: string, target: Target, log: EngineLogger, lowPriority: boolean) {
  const { model, version, config } = target;
  const init = { path, optimization: config.optimization, fixedShapes: fixedInputShapes(config) };
  const worker = new InferenceWorker({ ...init, model, version, lowPriority }, log);
  await worker.ready;
  return worker;
}

/** `placement.workers` worker threads, opened side by side (more than one: a WorkerPool). */
async function openInWorker(
  path: string,
  target: Target,
  log: EngineLogger,
  placement: Placement,
): Promise<Opened> {
  const { model, version } = target;
  const opening = Array.from({ length: placement.workers }, () =>
    openWorker(path, target, log, placement.lowPriority),
  );
  const workers = await allOrNone(opening, (w) => w.stop());
  const stop = async () => {
    await Promise.all(workers.map((w) => w.stop()));
  };
  return {
    // placementOf gives a worker placement at least one worker; all read the same file.
    meta: await (workers[0] as InferenceWorker).ready,
    model: (sig, completed) => {
      const members = workers.map((w) => new WorkerModel(model, version, completed, sig, w));
      return members.length === 1 ? (members[0] as WorkerModel) : new WorkerPool(members);
    },
    close: stop,
  };
}

/** The classification extension's labels: one per line, beside the version's model.onnx. */
export const LABELS_FILE = "labels.txt";

async function readLabels(repo: ModelRepository, model: string, version: number) {
  const text = await repo.readVersionFile?.(model, version, LABELS_FILE);
  if (text === undefined) return undefined;
  const lines = text.split(/\r?\n/);
  // A final newline ends the last label; it does not add an empty one.
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Both: a session here and the worker(s), opened side by side (see hybrid-model.ts). */
async function openBoth(
  path: string,
  target: Target,
  log: EngineLogger,
  placement: Placement,
): Promise<Opened> {
  const [here, there] = (await allOrNone(
    [openHere(path, target, log), openInWorker(path, target, log, placement)],
    (o) => o.close(),
  )) as [Opened, Opened];
  return {
    meta: here.meta,
    model: (sig, completed) => new HybridModel(here.model(sig, completed), there.model(sig, completed)),
    close: async () => {
      await Promise.all([here.close(), there.close()]);
    },
  };
}

/** Opens a version's sessions where `placement` says. */
type Open = (path: string, target: Target, log: EngineLogger, placement: Placement) => Promise<Opened>;
const OPEN: Record<InferenceThread, Open> = { main: openHere, worker: openInWorker, auto: openBoth };

/** Where a version's session opens, and whether its worker yields the CPU (placementOf). */
export interface Placement {
  thread: InferenceThread;
  /** Its worker threads (0 on the main thread): config.json's `instance_group` count, one for a shadow. */
  workers: number;
  /** Its workers' threads run at the lowest CPU priority (thread-priority.ts). */
  lowPriority: boolean;
}

/**
 * Where a version's session opens: `thread`, except that in auto mode the version a model mirrors
 * to (config.json's `shadow`, when it is not also the live version) opens in its worker only. Its
 * runs are mirrors, off every client's path: in the worker they take the other core and never the
 * main thread, which stays the live version's (a mirror run here would block the event loop while
 * the live version's worker computes), and no second session is held for it. Such a version's
 * worker (auto and worker modes) runs at the lowest CPU priority: under load its runs take what the
 * live versions leave, instead of a third of the cores they compute on (on the main thread there is
 * nothing to lower). The live version is the model's default version as the engine read it (a
 * configured one, config.json's `live_version`, else the policy's). A reload that changes a loaded
 * version's role (the shadow made live, the live version made the shadow) opens it again where its
 * new role belongs (engine.ts, reload).
 */
export function placementOf(
  thread: InferenceThread,
  info: Pick<ModelInfo, "config" | "defaultVersion">,
  version: number,
): Placement {
  const mirrors = info.config.shadow?.version === version && info.defaultVersion !== version;
  const placed = thread === "auto" && mirrors ? "worker" : thread;
  // A shadow's mirrors (at most 2 in flight, at low priority) need no more than one worker.
  const workers = placed === "main" ? 0 : mirrors ? 1 : (info.config.instance_group?.[0].count ?? 1);
  return { thread: placed, workers, lowPriority: mirrors && placed !== "main" };
}

/**
 * Loads `model` version `version`; any failure is a ModelNotReady with a short public reason
 * (the full error goes to the log), and no session (nor worker) is left behind.
 */
export async function createModel(
  repo: ModelRepository,
  target: Target,
  log: EngineLogger,
  options: { warmup: boolean } & Placement,
): Promise<ServedModel> {
  const { model, version, config } = target;
  const where = { model, version };
  const fail = (reason: string, cause: unknown): ModelNotReady => {
    const msg = `model '${model}' version ${version} failed to load: ${reason}`;
    log("error", msg, { ...where, error: cause instanceof Error ? cause.message : String(cause) });
    return new ModelNotReady(msg, { cause });
  };
  log("info", `loading model '${model}' version ${version}`, where);
  // Where a load's time goes (a cold start's split), in the "loaded" line.
  const ms: Record<string, number> = {};
  let t = performance.now();
  const lap = (phase: string) => {
    const now = performance.now();
    ms[phase] = Math.round((now - t) * 10) / 10;
    t = now;
  };
  // Read while the model downloads and opens (one round trip less on a cold start); its failure
  // is reported where it was before, after the session opened.
  const labels = readLabels(repo, model, version);
  labels.catch(noop);
  let path: string;
  try {
    path = await repo.fetchModel(model, version);
  } catch (e) {
    throw fail(e instanceof InferenceError ? e.message : "the model file cannot be fetched", e);
  }
  lap("fetch_ms");
  let opened: Opened;
  try {
    opened = await OPEN[options.thread](path, target, log, options);
  } catch (e) {
    if (e instanceof WorkerStopped) throw fail("its inference worker stopped", e);
    if (e instanceof ProviderUnavailable) throw fail(e.message, e);
    if (e instanceof WorkerLoadFailed && e.reason !== undefined) throw fail(e.reason, e);
    throw fail("ONNX Runtime cannot open the file (not a valid or supported ONNX model)", e);
  }
  let loaded: ServedModel;
  try {
    const signature = resolveSignature(config, opened.meta);
    const problem = limitsProblem(config.limits, signature);
    if (problem !== undefined) throw new SignatureMismatch(problem);
    loaded = opened.model(signature, completeConfig(config, signature));
  } catch (e) {
    await opened.close().catch(noop);
    throw fail(e instanceof SignatureMismatch ? e.message : "its signature cannot be read", e);
  }
  try {
    const lines = await labels;
    if (lines !== undefined) Object.assign(loaded, { labels: lines });
  } catch (e) {
    await loaded.release().catch(noop);
    throw fail(e instanceof InferenceError ? e.message : `its ${LABELS_FILE} cannot be read`, e);
  }
  lap("session_ms");
  if (options.warmup) {
    try {
      const inputs = warmupInputs(loaded.signature);
      await (loaded.warm === undefined ? loaded.run(inputs) : loaded.warm(inputs));
    } catch (e) {
      await loaded.release().catch(noop);
      const cause = e instanceof Error && e.cause !== undefined ? e.cause : e;
      throw fail(`the warm-up run failed: ${shortOrtMessage(cause)}`, e);
    }
    lap("warmup_ms");
    log("info", `model '${model}' version ${version} warmed up`, { ...where, ...ms });
  }
  return loaded;
}
