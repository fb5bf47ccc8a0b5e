/**
 * A version's worker threads when config.json's `instance_group` asks for more than one: each run
 * goes to the member with the fewest runs in flight, so that up to `count` runs compute at once,
 * each on its own session and thread (Triton's instances of a model).
 */
import type { Tensor } from "../protocol/types";
import type { ModelConfig, ModelSignature } from "../repository/types";
import type { ServedModel } from "./loaded";
import type { WorkerModel } from "./worker-model";

/** ServedModel over several WorkerModels of one version. */
export class WorkerPool implements ServedModel {
  readonly name: string;
  readonly version: number;
  readonly config: ModelConfig;
  readonly signature: ModelSignature;
  /** Runs sent to each member since load (diagnostics and tests). */
  readonly runs: number[];

  constructor(readonly members: readonly WorkerModel[]) {
    const first = members[0];
    if (first === undefined) throw new Error("a worker pool needs at least one worker");
    this.name = first.name;
    this.version = first.version;
    this.config = first.config;
    this.signature = first.signature;
    this.runs = members.map(() => 0);
  }

  /** Runs that compute at once: one per member. */
  get concurrency(): number {
    return this.members.length;
  }

  /** Runs in the member with the fewest runs in flight (the first of them on a tie). */
  run(inputs: Tensor[], outputs?: string[]): Promise<Tensor[]> {
    let pick = 0;
    for (let i = 1; i < this.members.length; i++) {
      if ((this.members[i] as WorkerModel).running < (this.members[pick] as WorkerModel).running) pick = i;
    }
    this.runs[pick] = (this.runs[pick] ?? 0) + 1;
    return (this.members[pick] as WorkerModel).run(inputs, outputs);
  }

  /** Warms every member: each session pays ORT's first-run cost once, before traffic. */
  async warm(inputs: Tensor[]): Promise<void> {
    await Promise.all(this.members.map((m) => m.run(inputs)));
  }

  /** Ends every member's worker once its runs in flight are done. */
  async release(): Promise<void> {
    await Promise.all(this.members.map((m) => m.release()));
  }

  /** Any member's worker dying makes the version fail (the engine loads it again): called once. */
  onFailure(listener: (e: Error) => void): void {
    let told = false;
    for (const m of this.members) {
      m.onFailure((e) => {
        if (told) return;
        told = true;
        listener(e);
      });
    }
  }
}
