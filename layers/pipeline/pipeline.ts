/**
 * A pipeline prepared from its config.json: steps checked against each other once at load (every
 * value a step reads is written before, with the kind the step expects; step models have the
 * tensors named), then run in order per request with each step's duration recorded.
 */
import { ModelNotReady } from "../errors";
import type { Tensor } from "../protocol/types";
import type { EnsembleStep, ModelConfig, StepModel } from "../repository/types";
import { Params } from "./params";
import type { ProcessorRegistry, RunStep, StepContext } from "./processor";
import { type Value, type ValueKind, value } from "./values";

/** The signature of a step model, as its backend describes it. */
export interface StepSignature {
  inputs: readonly string[];
  outputs: readonly string[];
  /** The model's max_batch_size (0: no batch dimension). */
  maxBatchSize: number;
}

/** Runs one step model: inputs by the model's tensor names, all of its outputs. */
export type CallModel = (model: StepModel, inputs: Tensor[]) => Promise<Tensor[]>;

/** What preparing a pipeline needs from its surroundings. */
export interface PrepareDeps {
  registry: ProcessorRegistry;
  readFile(path: string): Promise<Uint8Array>;
  /** The step model's signature (loading it); throws when it is unknown or cannot load. */
  describe(model: StepModel): Promise<StepSignature>;
}

/** A prepared step. */
interface Step {
  /** Its Server-Timing name: the processor's or the model's, numbered when repeated. */
  label: string;
  run(values: Map<string, Value>, call: CallModel): Promise<void>;
}

/** A pipeline ready to run. */
export interface Pipeline {
  /** Step labels in order. */
  readonly labels: readonly string[];
  /**
   * Runs every step; the pipeline outputs by name and each step's duration (ms) by label. Once
   * `signal` aborts (deadline passed) no further step starts.
   */
  run(
    inputs: readonly Tensor[],
    call: CallModel,
    signal?: AbortSignal,
  ): Promise<{ outputs: Map<string, Tensor>; steps: Record<string, number> }>;
}

/** Prepares the pipeline of `config` (platform ensemble); ModelNotReady naming the step on any mismatch. */
export async function preparePipeline(config: ModelConfig, deps: PrepareDeps): Promise<Pipeline> {
  const known = new Map<string, ValueKind>((config.inputs ?? []).map((t) => [t.name, "tensor"]));
  const steps: Step[] = [];
  const counts = new Map<string, number>();
  for (const [i, s] of (config.ensemble_scheduling?.step ?? []).entries()) {
    const where = `config.json of model '${config.name}': ensemble_scheduling.step[${i}]`;
    const base = "processor" in s ? s.processor : s.model_name;
    const n = (counts.get(base) ?? 0) + 1;
    counts.set(base, n);
    const label = n === 1 ? base : `${base}_${n}`;
    steps.push({ label, run: await prepareStep(s, where, known, deps) });
  }
  for (const o of config.outputs ?? []) {
    if (known.get(o.name) !== "tensor") {
      throw new ModelNotReady(
        `config.json of model '${config.name}': output '${o.name}' is written by no step as a tensor`,
      );
    }
  }
  const outputNames = (config.outputs ?? []).map((o) => o.name);
  return {
    labels: steps.map((s) => s.label),
    async run(inputs, call, signal) {
      const values = new Map<string, Value>(inputs.map((t) => [t.name, value("tensor", t)]));
      const times: Record<string, number> = {};
      for (const step of steps) {
        signal?.throwIfAborted();
        const started = performance.now();
        await step.run(values, call);
        times[step.label] = performance.now() - started;
      }
      const outputs = new Map<string, Tensor>();
      for (const name of outputNames) {
        const v = values.get(name);
        if (v?.kind === "tensor") outputs.set(name, { ...v.value, name });
      }
      return { outputs, steps: times };
    },
  };
}

/** Checks one step against what earlier steps wrote, records what it writes, returns its runner. */
async function prepareStep(
  s: EnsembleStep,
  where: string,
  known: Map<string, ValueKind>,
  deps: PrepareDeps,
): Promise<Step["run"]> {
  const read = (port: string, name: string, kind: ValueKind) => {
    const have = known.get(name);
    if (have === undefined)
      throw new ModelNotReady(`${where}: input_map.${port} reads '${name}', which no earlier step writes`);
    if (have !== kind)
      throw new ModelNotReady(
        `${where}: input_map.${port} reads '${name}' of kind ${have}, expected kind ${kind}`,
      );
  };
  if (!("processor" in s)) {
    const sig = await describeOrFail(deps, s, where);
    for (const [port, name] of Object.entries(s.input_map)) {
      if (!sig.inputs.includes(port))
        throw new ModelNotReady(`${where}: model '${s.model_name}' has no input '${port}'`);
      read(port, name, "tensor");
    }
    for (const [port, name] of Object.entries(s.output_map)) {
      if (!sig.outputs.includes(port))
        throw new ModelNotReady(`${where}: model '${s.model_name}' has no output '${port}'`);
      known.set(name, "tensor");
    }
    return async (values, call) => {
      const inputs = Object.entries(s.input_map).map(([port, name]) => ({
        ...(values.get(name)?.value as Tensor),
        name: port,
      }));
      const outputs = await call(s, inputs);
      for (const [port, name] of Object.entries(s.output_map)) {
        const t = outputs.find((o) => o.name === port);
        if (t === undefined) throw new Error(`model '${s.model_name}' returned no output '${port}'`);
        values.set(name, value("tensor", t));
      }
    };
  }
  const proc = deps.registry.get(s.processor);
  if (proc === undefined) {
    throw new ModelNotReady(
      `${where}: unknown processor '${s.processor}' (known: ${[...deps.registry.keys()].join(", ")})`,
    );
  }
  for (const [port, kind] of Object.entries(proc.inputs)) {
    const name = s.input_map[port];
    if (name === undefined)
      throw new ModelNotReady(`${where}: input_map needs '${port}' (processor '${s.processor}')`);
    read(port, name, kind);
  }
  for (const port of Object.keys(s.input_map)) {
    if (proc.inputs[port] === undefined)
      throw new ModelNotReady(`${where}: processor '${s.processor}' has no input '${port}'`);
  }
  for (const [port, name] of Object.entries(s.output_map)) {
    const kind = proc.outputs[port];
    if (kind === undefined)
      throw new ModelNotReady(`${where}: processor '${s.processor}' has no output '${port}'`);
    known.set(name, kind);
  }
  const roles = new Map<string, { model: StepModel; input: string; maxBatchSize: number }>();
  for (const role of proc.models ?? []) {
    const model = s.models[role];
    if (model === undefined)
      throw new ModelNotReady(`${where}: models.${role} is required by processor '${s.processor}'`);
    const sig = await describeOrFail(deps, model, where);
    if (sig.inputs.length !== 1 || sig.outputs.length < 1) {
      throw new ModelNotReady(
        `${where}: models.${role} ('${model.model_name}') must have one input and an output`,
      );
    }
    roles.set(role, { model, input: sig.inputs[0] as string, maxBatchSize: sig.maxBatchSize });
  }
  for (const role of Object.keys(s.models)) {
    if (!roles.has(role))
      throw new ModelNotReady(`${where}: processor '${s.processor}' calls no model '${role}'`);
  }
  const params = new Params(s.parameters, where);
  const run: RunStep = await proc.prepare({
    params,
    readFile: deps.readFile,
    maxBatch: (role) => Math.max(1, roles.get(role)?.maxBatchSize ?? 1),
  });
  params.done();
  return async (values, call) => {
    const ins = Object.fromEntries(
      Object.entries(s.input_map).map(([port, name]) => [port, values.get(name) as Value]),
    );
    const ctx: StepContext = {
      async call(role, input) {
        const r = roles.get(role);
        if (r === undefined)
          throw new Error(`processor '${s.processor}' called undeclared model role '${role}'`);
        const [out] = await call(r.model, [{ ...input, name: r.input }]);
        if (out === undefined) throw new Error(`model '${r.model.model_name}' returned no output`);
        return out;
      },
    };
    const outs = await run(ins, ctx);
    for (const [port, name] of Object.entries(s.output_map)) values.set(name, outs[port] as Value);
  };
}

async function describeOrFail(deps: PrepareDeps, model: StepModel, where: string): Promise<StepSignature> {
  try {
    return await deps.describe(model);
  } catch (cause) {
    const v = model.model_version === -1 ? "live version" : `version ${model.model_version}`;
    throw new ModelNotReady(`${where}: step model '${model.model_name}' (${v}) is not available`, { cause });
  }
}
