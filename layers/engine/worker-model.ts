/** A loaded model version whose ORT session lives in its own worker thread. */
import type { Worker } from "node:worker_threads";
import { InvalidInput, ModelNotReady } from "../errors";
import type { Tensor } from "../protocol/types";
import type { ModelConfig, ModelSignature } from "../repository/types";
import type { ServedModel } from "./loaded";
import { checkedOutputs, ModelRunFailed } from "./run-errors";
import type { LoadedModel } from "./types";
import { packInputs } from "./worker-protocol";
import { type InferenceWorker, WorkerRunFailed, WorkerStopped } from "./worker-thread";

/** LoadedModel over an InferenceWorker: same errors as SessionModel, plus a worker that can die. */
export class WorkerModel implements ServedModel {
  private inFlight = 0;
  private releasing = false;
  private released: Promise<void> | undefined;
  private readonly drained: Array<() => void> = [];

  constructor(
    readonly name: string,
    readonly version: number,
    readonly config: ModelConfig,
    readonly signature: ModelSignature,
    readonly thread: InferenceWorker,
  ) {}

  /** Runs sent to its worker and not answered yet. */
  get running(): number {
    return this.inFlight;
  }

  /** Runs the model in its worker; ORT computes only the outputs asked for. */
  async run(inputs: Tensor[], outputs?: string[]): Promise<Tensor[]> {
    const where = `model '${this.name}' version ${this.version}`;
    // A dead worker is the better reason: its version is released because of it.
    if (this.thread.stopped !== undefined) throw this.unavailable(this.thread.stopped);
    if (this.releasing) throw new ModelNotReady(`${where} is unloaded`);
    const fetches =
      outputs !== undefined && outputs.length > 0 ? outputs : this.signature.outputs.map((o) => o.name);
    const { tensors, transfer } = packInputs(inputs);
    this.inFlight++;
    try {
      return checkedOutputs(this, fetches, await this.thread.request(tensors, fetches, transfer));
    } catch (e) {
      if (e instanceof WorkerStopped) throw this.unavailable(e);
      if (!(e instanceof WorkerRunFailed)) throw e;
      if (e.failure === "input") throw new InvalidInput(e.message);
      if (e.failure === "internal") throw new Error(e.message);
      // As on the main thread: what is left after validation is what the graph itself rejects.
      throw new ModelRunFailed(this, inputs, new Error(e.message));
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) for (const d of this.drained.splice(0)) d();
    }
  }

  /** Ends the worker once the runs in flight are done; resolves when the thread has exited. */
  release(): Promise<void> {
    this.releasing = true;
    this.released ??= (
      this.inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => this.drained.push(r))
    ).then(() => this.thread.stop());
    return this.released;
  }

  /** Calls `listener` once if the worker dies (the engine then fails the version). */
  onFailure(listener: (e: ModelNotReady) => void): void {
    this.thread.onStop((e) => listener(this.unavailable(e)));
  }

  private unavailable(e: WorkerStopped): ModelNotReady {
    return new ModelNotReady(
      `model '${this.name}' version ${this.version} is not available: its inference worker stopped`,
      { cause: e },
    );
  }
}

/** The worker behind a loaded model, or undefined for a main-thread one (a test hook). */
export function inferenceWorkerOf(model: LoadedModel): Worker | undefined {
  return model instanceof WorkerModel ? model.thread.worker : undefined;
}
