/** A loaded model version: runs ORT on protocol tensors and releases its session once idle. */
import type * as ort from "onnxruntime-node";
import { ModelNotReady } from "../errors";
import type { Tensor } from "../protocol/types";
import type { ModelConfig, ModelSignature } from "../repository/types";
import { PlainSessionUnavailable } from "./bounded-patterns";
import { checkedOutputs, ModelRunFailed } from "./run-errors";
import type { EngineSession } from "./session";
import { fromOrt, toOrt } from "./tensors";
import type { LoadedModel } from "./types";

/** Keeps ORT's reason, without the source paths of its build, short enough for a client. */
export function shortOrtMessage(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const status = text.split("Status Message:")[1] ?? text;
  const line = (status.split("\n")[0] ?? "")
    .replace(/\S*\/\S+:\d+\s*/g, "")
    .replace(/\s+/g, " ")
    .trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** What the engine holds per version: a LoadedModel it can release, on either thread. */
export interface ServedModel extends LoadedModel {
  /** Frees the session once the runs in flight are done; later runs are refused. */
  release(): Promise<void>;
  /** The load's warm-up run, where it is more than one `run` (a session on each thread). */
  warm?(inputs: Tensor[]): Promise<void>;
  /** Calls `listener` if the model becomes unusable on its own (a worker that died). */
  onFailure?(listener: (e: Error) => void): void;
}

/** LoadedModel over an ORT session; `release()` waits for the runs in flight. */
export class SessionModel implements ServedModel {
  private inFlight = 0;
  private releasing = false;
  private released: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly version: number,
    readonly config: ModelConfig,
    readonly signature: ModelSignature,
    private readonly session: EngineSession,
  ) {}

  /** Runs the model; ORT computes only the outputs asked for. */
  async run(inputs: Tensor[], outputs?: string[]): Promise<Tensor[]> {
    if (this.releasing) {
      throw new ModelNotReady(`model '${this.name}' version ${this.version} is unloaded`);
    }
    const fetches =
      outputs !== undefined && outputs.length > 0 ? outputs : this.signature.outputs.map((o) => o.name);
    const feeds: Record<string, ort.Tensor> = {};
    for (const t of inputs) feeds[t.name] = toOrt(t);
    this.inFlight++;
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      // Failures reach the caller as errors; ORT's own stderr line would only duplicate them.
      result = await this.session.run(feeds, fetches, { logSeverityLevel: 4 });
    } catch (e) {
      if (e instanceof PlainSessionUnavailable) throw e;
      throw new ModelRunFailed(this, inputs, e);
    } finally {
      this.inFlight--;
      if (this.releasing && this.inFlight === 0) this.release().catch(() => undefined);
    }
    const answered = fetches.flatMap((name) => {
      const value = result[name];
      return value === undefined ? [] : [fromOrt(name, value)];
    });
    return checkedOutputs(this, fetches, answered);
  }

  /** Releases the ORT session now if idle, or after the last run in flight. */
  release(): Promise<void> {
    this.releasing = true;
    if (this.inFlight > 0) return Promise.resolve();
    this.released ??= this.session.release();
    return this.released;
  }
}
