/**
 * `ensemble_scheduling` of a `platform: "ensemble"` config.json (a pipeline): Triton's steps
 * (model_name, model_version with -1 for the live version, input_map, output_map) plus processor
 * steps, which name a TypeScript processor, its parameters and the models it may call. Only the
 * structure is checked here; whether processors and tensors fit together is the pipeline's check.
 */
import type { FieldReader } from "./config-fields";
import type { EnsembleScheduling, EnsembleStep, StepModel } from "./types";

const STEP_FIELDS = [
  "model_name",
  "model_version",
  "processor",
  "parameters",
  "models",
  "input_map",
  "output_map",
];

/** Validates `ensemble_scheduling`; ModelNotReady naming the field on the first problem. */
export function ensembleScheduling(r: FieldReader, value: unknown): EnsembleScheduling {
  const doc = r.object(value, "ensemble_scheduling", ["step"]);
  const steps = r.array(doc.step, "ensemble_scheduling.step", true);
  return { step: steps.map((s, i) => step(r, s, `ensemble_scheduling.step[${i}]`)) };
}

function step(r: FieldReader, value: unknown, path: string): EnsembleStep {
  const s = r.object(value, path, STEP_FIELDS);
  const maps = {
    input_map: nameMap(r, s.input_map, `${path}.input_map`),
    output_map: nameMap(r, s.output_map, `${path}.output_map`),
  };
  if ((s.model_name === undefined) === (s.processor === undefined)) {
    throw r.error(path, "must name exactly one of model_name (a model step) or processor (a processor step)");
  }
  if (s.model_name !== undefined) {
    if (s.parameters !== undefined || s.models !== undefined) {
      throw r.error(path, "is a model step: parameters and models belong to processor steps");
    }
    return { ...stepModel(r, s, path), ...maps };
  }
  if (typeof s.processor !== "string" || s.processor === "") {
    throw r.mismatch(`${path}.processor`, "a non-empty string", s.processor);
  }
  const parameters =
    s.parameters === undefined
      ? {}
      : r.object(s.parameters, `${path}.parameters`, Object.keys(s.parameters as object));
  const models: Record<string, StepModel> = {};
  if (s.models !== undefined) {
    const m = r.object(s.models, `${path}.models`, Object.keys(s.models as object));
    for (const [role, v] of Object.entries(m)) {
      models[role] = stepModel(
        r,
        r.object(v, `${path}.models.${role}`, ["model_name", "model_version"]),
        `${path}.models.${role}`,
      );
    }
  }
  return { processor: s.processor, parameters, models, ...maps };
}

function stepModel(r: FieldReader, s: Record<string, unknown>, path: string): StepModel {
  if (typeof s.model_name !== "string" || s.model_name === "") {
    throw r.mismatch(`${path}.model_name`, "a non-empty string", s.model_name);
  }
  const v = s.model_version;
  if (v !== -1 && !(typeof v === "number" && Number.isSafeInteger(v) && v >= 1)) {
    throw r.mismatch(`${path}.model_version`, "-1 (the live version) or a positive integer", v);
  }
  return { model_name: s.model_name, model_version: v };
}

function nameMap(r: FieldReader, value: unknown, path: string): Record<string, string> {
  const m = r.object(value, path, Object.keys((value ?? {}) as object));
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== "string" || v === "") throw r.mismatch(`${path}.${k}`, "a non-empty string", v);
  }
  if (Object.keys(m).length === 0) throw r.error(path, "must map at least one name");
  return m as Record<string, string>;
}
