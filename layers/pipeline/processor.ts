/** What a processor is: typed ports, the models it may call, and a step prepared once at load. */
import type { Tensor } from "../protocol/types";
import type { Params } from "./params";
import type { Value, ValueKind } from "./values";

/** What a running step may do besides computing: call the models its step names (BLS-like). */
export interface StepContext {
  /** Runs the step model of `role` on one input tensor (renamed to the model's sole input); its first output. */
  call(role: string, input: Tensor): Promise<Tensor>;
}

/** A prepared step: inputs by port name → outputs by port name. */
export type RunStep = (
  inputs: Readonly<Record<string, Value>>,
  ctx: StepContext,
) => Promise<Record<string, Value>>;

/** Read at load: the step's parameters and files of the pipeline version (e.g. a dictionary). */
export interface PrepareContext {
  params: Params;
  /** A file of the pipeline's version directory, by path relative to it. */
  readFile(path: string): Promise<Uint8Array>;
  /** The largest batch the model of `role` takes (its max_batch_size, at least 1). */
  maxBatch(role: string): number;
}

/** A named processor of the registry. */
export interface Processor {
  /** One line for the README and error messages. */
  description: string;
  inputs: Readonly<Record<string, ValueKind>>;
  outputs: Readonly<Record<string, ValueKind>>;
  /** Roles of the models a step must name under `models` (each with one input and one output). */
  models?: readonly string[];
  /** Reads parameters and files once; throws ModelNotReady naming a bad one. */
  prepare(ctx: PrepareContext): Promise<RunStep> | RunStep;
}

/** Processors by name. */
export type ProcessorRegistry = ReadonlyMap<string, Processor>;
