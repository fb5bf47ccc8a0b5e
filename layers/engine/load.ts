/** Loading one model version: fetch, ORT session (here or in a worker), served signature, warm-up. */
import { InferenceError, ModelNotReady } from "../errors";
import { limitsProblem } from "../repository/limits";
import type { ModelConfig, ModelRepository, ModelSignature } from "../repository/types";
import { type ServedModel, SessionModel, shortOrtMessage } from "./loaded";
import { createSession, ProviderUnavailable, warmupInputs } from "./session";
import { completeConfig, resolveSignature, SignatureMismatch } from "./signature";
import type { EngineLogger, InferenceThread } from "./types";
import { WorkerModel } from "./worker-model";
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
  const session = await createSession(path, config.optimization, log, { model, version });
  return {
    meta: session,
    model: (sig, completed) => new SessionModel(model, version, completed, sig, session),
    close: () => session.release(),
  };
}

async function openInWorker(path: string, target: Target, log: EngineLogger): Promise<Opened> {
  const { model, version, config } = target;
  const worker = new InferenceWorker({ path, optimization: config.optimization, model, version }, log);
  const meta = await worker.ready;
  return {
    meta,
    model: (sig, completed) => new WorkerModel(model, version, completed, sig, worker),
    close: () => worker.stop(),
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

/**
 * Loads `model` version `version`; any failure is a ModelNotReady with a short public reason
 * (the full error goes to the log), and no session (nor worker) is left behind.
 */
export async function createModel(
  repo: ModelRepository,
  target: Target,
  log: EngineLogger,
  options: { warmup: boolean; thread: InferenceThread },
): Promise<ServedModel> {
  const { model, version, config } = target;
  const where = { model, version };
  const fail = (reason: string, cause: unknown): ModelNotReady => {
    const msg = `model '${model}' version ${version} failed to load: ${reason}`;
    log("error", msg, { ...where, error: cause instanceof Error ? cause.message : String(cause) });
    return new ModelNotReady(msg, { cause });
  };
  log("info", `loading model '${model}' version ${version}`, where);
  let path: string;
  try {
    path = await repo.fetchModel(model, version);
  } catch (e) {
    throw fail(e instanceof InferenceError ? e.message : "the model file cannot be fetched", e);
  }
  let opened: Opened;
  try {
    opened = await (options.thread === "worker" ? openInWorker : openHere)(path, target, log);
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
    const labels = await readLabels(repo, model, version);
    if (labels !== undefined) Object.assign(loaded, { labels });
  } catch (e) {
    await loaded.release().catch(noop);
    throw fail(e instanceof InferenceError ? e.message : `its ${LABELS_FILE} cannot be read`, e);
  }
  if (options.warmup) {
    try {
      await loaded.run(warmupInputs(loaded.signature));
    } catch (e) {
      await loaded.release().catch(noop);
      const cause = e instanceof Error && e.cause !== undefined ? e.cause : e;
      throw fail(`the warm-up run failed: ${shortOrtMessage(cause)}`, e);
    }
    log("info", `model '${model}' version ${version} warmed up`, where);
  }
  return loaded;
}
