/** Loading one model version: fetch, ORT session, served signature, warm-up. */
import { InferenceError, ModelNotReady } from "../errors";
import type { ModelConfig, ModelRepository } from "../repository/types";
import { SessionModel, shortOrtMessage } from "./loaded";
import { createSession, warmupInputs } from "./session";
import { resolveSignature, SignatureMismatch } from "./signature";
import type { EngineLogger } from "./types";

const noop = (): void => undefined;

/**
 * Loads `model` version `version`; any failure is a ModelNotReady with a short public reason
 * (the full error goes to the log), and no session is left behind.
 */
export async function createModel(
  repo: ModelRepository,
  target: { model: string; version: number; config: ModelConfig },
  log: EngineLogger,
  warmup: boolean,
): Promise<SessionModel> {
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
  let session: Awaited<ReturnType<typeof createSession>>;
  try {
    session = await createSession(path, config.optimization, log, where);
  } catch (e) {
    throw fail("ONNX Runtime cannot open the file (not a valid or supported ONNX model)", e);
  }
  let loaded: SessionModel;
  try {
    loaded = new SessionModel(model, version, config, resolveSignature(config, session), session);
  } catch (e) {
    await session.release().catch(noop);
    throw fail(e instanceof SignatureMismatch ? e.message : "its signature cannot be read", e);
  }
  if (warmup) {
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
