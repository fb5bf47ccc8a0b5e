/**
 * The inference worker: one thread holding one ORT session, so that ORT's synchronous run leaves
 * the engine's thread free for HTTP work. Started by worker-model.ts with a WorkerInit.
 */
import { parentPort, workerData } from "node:worker_threads";
import type * as ort from "onnxruntime-node";
import { InvalidInput } from "../errors";
import { PlainSessionUnavailable } from "./bounded-patterns";
import { type EngineSession, openEngineSession, ProviderUnavailable } from "./session";
import { fromOrt, toOrt } from "./tensors";
import { lowerThreadPriority } from "./thread-priority";
import type { EngineLogger } from "./types";
import { buffersOf, copyMeta, type FromWorker, type ToWorker, type WorkerInit } from "./worker-protocol";

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function post(port: NonNullable<typeof parentPort>, msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  try {
    port.postMessage(msg, transfer);
  } catch {
    // A buffer that cannot be transferred (or a log field that cannot be cloned): copy instead.
    port.postMessage(msg.type === "log" ? { ...msg, fields: undefined } : msg);
  }
}

async function run(
  port: NonNullable<typeof parentPort>,
  session: EngineSession,
  msg: Extract<ToWorker, { type: "run" }>,
): Promise<void> {
  const { id } = msg;
  let feeds: Record<string, ort.Tensor>;
  try {
    feeds = {};
    for (const t of msg.inputs) feeds[t.name] = toOrt(t);
  } catch (e) {
    post(port, {
      type: "run-failed",
      id,
      failure: e instanceof InvalidInput ? "input" : "internal",
      error: message(e),
    });
    return;
  }
  let result: ort.InferenceSession.OnnxValueMapType;
  try {
    // Failures reach the caller as errors; ORT's own stderr line would only duplicate them.
    result = await session.run(feeds, msg.outputs, { logSeverityLevel: 4 });
  } catch (e) {
    const failure = e instanceof PlainSessionUnavailable ? "internal" : "ort";
    post(port, { type: "run-failed", id, failure, error: message(e) });
    return;
  }
  try {
    // A missing output is the engine's to judge, against the signature (run-errors.ts).
    const outputs = msg.outputs.flatMap((name) => {
      const value = result[name];
      return value === undefined ? [] : [fromOrt(name, value)];
    });
    post(port, { type: "result", id, outputs }, buffersOf(outputs));
  } catch (e) {
    post(port, { type: "run-failed", id, failure: "internal", error: message(e) });
  }
}

async function main(port: NonNullable<typeof parentPort>, init: WorkerInit): Promise<void> {
  const log: EngineLogger = (level, msg, fields) => post(port, { type: "log", level, msg, fields });
  // Before the session opens, so that ORT's own threads start at the same priority.
  const where = { model: init.model, version: init.version };
  const why = init.lowPriority === true ? lowerThreadPriority() : undefined;
  if (why !== undefined)
    log(
      "warn",
      `model '${init.model}' version ${init.version} (mirrors only): its worker keeps normal priority: ${why}`,
      where,
    );
  let session: EngineSession;
  try {
    session = await openEngineSession(init.path, init.optimization, log, where, init.fixedShapes === true);
  } catch (e) {
    // A public reason travels beside ORT's own text, which only the log sees.
    if (e instanceof ProviderUnavailable) {
      post(port, { type: "load-failed", error: message(e.cause), reason: e.message });
    } else post(port, { type: "load-failed", error: message(e) });
    return;
  }
  port.on("message", (msg: ToWorker) => {
    if (msg.type === "run") {
      // run() answers every failure itself; anything else is a crash, which the engine handles.
      void run(port, session, msg);
    } else if (msg.type === "release") {
      session.release().then(
        () => post(port, { type: "released" }),
        () => post(port, { type: "released" }),
      );
    } else {
      // A protocol bug: crash loudly, the engine fails the version and reloads it.
      throw new Error(`inference worker: unknown message ${JSON.stringify(msg)}`);
    }
  });
  post(port, {
    type: "ready",
    inputMetadata: session.inputMetadata.map(copyMeta),
    outputMetadata: session.outputMetadata.map(copyMeta),
  });
}

if (parentPort !== null) {
  void main(parentPort, workerData as WorkerInit);
}
