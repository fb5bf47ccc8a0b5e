/**
 * The types of the model catalog, their defaults and their validation. `infra/catalog.ts` holds the
 * data; everything here is what lets one catalog line stand for a whole deployment.
 */

import { readShadow, type ShadowSpec } from "../layers/repository/shadow";

/** How a new live version takes traffic: CodeDeploy for Lambda, blue/green for SageMaker. */
export type Rollout =
  | "all-at-once"
  | { readonly canary: { readonly percent: number; readonly minutes: number } }
  | { readonly linear: { readonly percent: number; readonly everyMinutes: number } };

/**
 * Alarm thresholds. Rollback alarms (CPU: on the new Lambda version alone) use the rates, the
 * minimum and p99; the steady-state alarms (alias `live`, SageMaker endpoint) the counts and p99.
 */
export interface AlarmThresholds {
  /** Errors (Lambda `Errors`, SageMaker `Invocation5XXErrors`) per minute that trip the steady-state alarm. */
  readonly errors: number;
  /** p99 latency in milliseconds (Lambda `Duration`, SageMaker `ModelLatency`) that trips it. */
  readonly p99LatencyMs: number;
  /** New version's function errors, in percent of its invocations, that roll back a release. */
  readonly errorRatePercent: number;
  /** New version's ONNX Runtime run failures (`model_run_failures`), in percent of its runs, that roll it back. */
  readonly runFailureRatePercent: number;
  /** Fewer invocations (runs) than this in a minute count as no evidence: the rates read 0. */
  readonly minInvocations: number;
  /** Throttled invocations per minute that trip it (Lambda only). */
  readonly throttles: number;
  /** Shadow disagreements (`shadow_disagreements`), in percent of compared requests, that trip the shadow alarm. */
  readonly shadowDisagreementRatePercent: number;
  /** Consecutive one-minute periods that must breach. */
  readonly evaluationPeriods: number;
}

/** Fields every catalog entry has, whatever its backend. */
interface ModelEntryBase {
  /** Model name: the folder in the repository and the name clients use (`/v2/models/<name>`). */
  readonly name: string;
  /** Version served by default (a numeric folder of the repository). */
  readonly liveVersion: number;
  /** @default { canary: { percent: 10, minutes: 5 } } */
  readonly rollout?: Rollout;
  /** @default DEFAULT_ALARMS */
  readonly alarms?: Partial<AlarmThresholds>;
  /** Mirror `percent` % of unpinned requests to `version` and compare (README "Shadow comparison"). @default none */
  readonly shadow?: ShadowSpec;
  /**
   * The model's config.json `release.compare_with_live`, stated here because the deployment group is
   * built at synth: true makes the shadow disagreement alarm a rollback alarm. @default false
   */
  readonly compareWithLive?: boolean;
}

/** A model served by a Lambda container function running ORT on CPU. */
export interface CpuModelEntry extends ModelEntryBase {
  readonly backend: "cpu";
  /** @default 2048 */
  readonly memoryMiB?: number;
  /** Function timeout; below the gateway's backend deadline (infra/timeouts.ts). @default 20 */
  readonly timeoutSeconds?: number;
  /** @default "arm64" */
  readonly architecture?: "arm64" | "x86_64";
  /** Pre-initialised instances on alias `live`; 0 = on demand only. @default 0 */
  readonly provisionedConcurrency?: number;
  /**
   * A pipeline (`platform: "ensemble"`): the models its steps run, in-process in this function,
   * which may read their folders of the repository. Each must be a catalog model too, so it stays
   * addressable through its own function. @default [] (an ONNX model)
   */
  readonly steps?: readonly string[];
}

/** A model served by a SageMaker real-time endpoint running the container server on a GPU. */
export interface GpuModelEntry extends ModelEntryBase {
  readonly backend: "gpu";
  /** SageMaker instance type, e.g. `ml.g5.xlarge`. */
  readonly instanceType: `ml.${string}`;
  /** Instances behind the endpoint; a canary or linear rollout needs at least 2. @default 1 */
  readonly instanceCount?: number;
  /** The container's own deadline per request (BACKEND_TIMEOUT_MS), below SageMaker's 60 s. @default 20 */
  readonly timeoutSeconds?: number;
}

/** One line of the catalog. */
export type ModelEntry = CpuModelEntry | GpuModelEntry;

/** A catalog entry with every default applied and validated. */
export type CpuModel = Required<Omit<CpuModelEntry, "shadow">> & {
  readonly shadow?: ShadowSpec;
  readonly alarms: AlarmThresholds;
  /** Key prefix of the model in the repository bucket, e.g. `models/ocr-det/`. */
  readonly location: string;
};
/** A GPU catalog entry with every default applied and validated. */
export type GpuModel = Required<Omit<GpuModelEntry, "shadow">> & {
  readonly shadow?: ShadowSpec;
  readonly alarms: AlarmThresholds;
  /** Key prefix of the model in the repository bucket, e.g. `models/ocr-det/`. */
  readonly location: string;
};
/** A resolved catalog entry. */
export type ModelSpec = CpuModel | GpuModel;

/** The whole catalog, resolved. */
export interface Catalog {
  /** Key prefix of the repository root in the bucket (`MODEL_REPOSITORY` = `s3://<bucket>/<prefix>`). */
  readonly repositoryPrefix: string;
  readonly models: readonly ModelSpec[];
}

/** Thresholds used where an entry names none. */
export const DEFAULT_ALARMS: AlarmThresholds = {
  errors: 5,
  p99LatencyMs: 5_000,
  errorRatePercent: 5,
  runFailureRatePercent: 5,
  minInvocations: 10,
  throttles: 5,
  shadowDisagreementRatePercent: 5,
  evaluationPeriods: 2,
};

/** Rollout used where an entry names none. */
export const DEFAULT_ROLLOUT: Rollout = { canary: { percent: 10, minutes: 5 } };

/** A catalog entry that cannot be deployed; the message names the model and the field. */
export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CatalogError";
  }
}

// Valid as a CloudFormation stack name part, a SageMaker name, a Lambda name part and a repository
// folder, so a catalog name can be used everywhere without escaping.
const NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

function check(ok: boolean, model: string, field: string, expected: string, received: unknown): void {
  if (!ok) {
    throw new CatalogError(
      `model '${model}': ${field} must be ${expected}, received ${JSON.stringify(received)}`,
    );
  }
}

/** The catalog line's `shadow`: the gateway's own check (MODEL_CATALOG), at synth, naming the model. */
function checkShadow(model: string, shadow: ShadowSpec, liveVersion: number): void {
  readShadow(shadow, "shadow", (path, text) => new CatalogError(`model '${model}': ${path} ${text}`));
  check(
    shadow.version !== liveVersion,
    model,
    "shadow.version",
    "another version than liveVersion",
    shadow.version,
  );
}

function intIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

function checkInt(model: string, field: string, value: number, min: number, max: number): void {
  check(intIn(value, min, max), model, field, `an integer in ${min}..${max}`, value);
}

function checkRollout(model: string, rollout: Rollout): void {
  if (rollout === "all-at-once") return;
  const [field, percent, minutes] =
    "canary" in rollout
      ? ["rollout.canary", rollout.canary.percent, rollout.canary.minutes]
      : ["rollout.linear", rollout.linear.percent, rollout.linear.everyMinutes];
  // CodeDeploy's limits for time-based traffic shifting.
  checkInt(model, `${field}.percent`, percent, 1, 99);
  checkInt(model, `${field} minutes`, minutes, 1, 2880);
}

function resolveAlarms(model: string, partial: Partial<AlarmThresholds> | undefined): AlarmThresholds {
  const alarms = { ...DEFAULT_ALARMS, ...partial };
  for (const [field, value] of Object.entries(alarms)) {
    check(Number.isFinite(value) && value > 0, model, `alarms.${field}`, "a positive number", value);
  }
  checkInt(model, "alarms.evaluationPeriods", alarms.evaluationPeriods, 1, 60);
  checkInt(model, "alarms.minInvocations", alarms.minInvocations, 1, 1_000_000);
  for (const rate of [
    "errorRatePercent",
    "runFailureRatePercent",
    "shadowDisagreementRatePercent",
  ] as const) {
    check(alarms[rate] <= 100, model, `alarms.${rate}`, "at most 100", alarms[rate]);
  }
  return alarms;
}

function resolveCpu(entry: CpuModelEntry, base: ModelSpecBase): CpuModel {
  const model: CpuModel = {
    memoryMiB: 2048,
    timeoutSeconds: 20,
    architecture: "arm64",
    provisionedConcurrency: 0,
    steps: [],
    ...entry,
    ...base,
  };
  const n = model.name;
  checkInt(n, "memoryMiB", model.memoryMiB, 128, 10_240);
  checkInt(n, "timeoutSeconds", model.timeoutSeconds, 1, 900);
  check(
    model.architecture === "arm64" || model.architecture === "x86_64",
    n,
    "architecture",
    '"arm64" or "x86_64"',
    model.architecture,
  );
  checkInt(n, "provisionedConcurrency", model.provisionedConcurrency, 0, 1000);
  const { steps } = model;
  const distinct = new Set(steps).size === steps.length && !steps.includes(n);
  check(distinct, n, "steps", "distinct models other than the pipeline itself", steps);
  return model;
}

function resolveGpu(entry: GpuModelEntry, base: ModelSpecBase): GpuModel {
  const model: GpuModel = { instanceCount: 1, timeoutSeconds: 20, ...entry, ...base };
  const n = model.name;
  // SageMaker ends an invocation at 60 s; the container must answer (even a 504) before that.
  checkInt(n, "timeoutSeconds", model.timeoutSeconds, 1, 59);
  check(
    /^ml\.[a-z0-9]+\.[a-z0-9]+$/.test(model.instanceType),
    n,
    "instanceType",
    "like ml.g5.xlarge",
    model.instanceType,
  );
  checkInt(n, "instanceCount", model.instanceCount, 1, 100);
  const r = model.rollout;
  if (r !== "all-at-once") {
    // SageMaker blue/green: a canary or linear step is at most half the fleet, so one instance
    // cannot shift gradually; waits are capped at an hour.
    const [percent, minutes] =
      "canary" in r ? [r.canary.percent, r.canary.minutes] : [r.linear.percent, r.linear.everyMinutes];
    check(
      model.instanceCount >= 2,
      n,
      "instanceCount",
      "at least 2 for a canary or linear rollout",
      model.instanceCount,
    );
    check(percent <= 50, n, "rollout percent", "at most 50 on a SageMaker endpoint", percent);
    check(minutes <= 60, n, "rollout minutes", "at most 60 on a SageMaker endpoint", minutes);
  }
  return model;
}

type ModelSpecBase = Pick<
  ModelSpec,
  "name" | "liveVersion" | "rollout" | "alarms" | "location" | "compareWithLive"
>;

/** Applies defaults to every entry and validates it; throws CatalogError naming the model and field. */
export function defineCatalog(input: { repositoryPrefix?: string; models: readonly ModelEntry[] }): Catalog {
  const repositoryPrefix = input.repositoryPrefix ?? "models";
  if (!/^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*$/.test(repositoryPrefix)) {
    throw new CatalogError(
      `repositoryPrefix must be a key prefix without leading or trailing '/', received ${JSON.stringify(repositoryPrefix)}`,
    );
  }
  const seen = new Set<string>();
  const models = input.models.map((entry): ModelSpec => {
    const name = entry.name;
    check(
      typeof name === "string" && NAME.test(name),
      String(name),
      "name",
      "lower-case [a-z0-9-], 1..32 chars",
      name,
    );
    check(!seen.has(name), name, "name", "unique in the catalog", name);
    seen.add(name);
    check(
      intIn(entry.liveVersion, 1, Number.MAX_SAFE_INTEGER),
      name,
      "liveVersion",
      "a positive integer",
      entry.liveVersion,
    );
    if (entry.shadow !== undefined) {
      // The comparison function (functions/shadow-compare) calls a pinned version of a Lambda function.
      check(entry.backend === "cpu", name, "shadow", "set on a cpu model only", entry.backend);
      checkShadow(name, entry.shadow, entry.liveVersion);
    }
    check(
      entry.compareWithLive === undefined || typeof entry.compareWithLive === "boolean",
      name,
      "compareWithLive",
      "a boolean",
      entry.compareWithLive,
    );
    const rollout = entry.rollout ?? DEFAULT_ROLLOUT;
    checkRollout(name, rollout);
    const base: ModelSpecBase = {
      name,
      liveVersion: entry.liveVersion,
      rollout,
      alarms: resolveAlarms(name, entry.alarms),
      location: `${repositoryPrefix}/${name}/`,
      compareWithLive: entry.compareWithLive ?? false,
    };
    if (entry.backend === "cpu") return resolveCpu(entry, base);
    if (entry.backend === "gpu") return resolveGpu(entry, base);
    throw new CatalogError(
      `model '${name}': backend must be "cpu" or "gpu", received ${JSON.stringify((entry as { backend: unknown }).backend)}`,
    );
  });
  for (const m of models) {
    if (m.backend !== "cpu") continue;
    const missing = m.steps.filter((s) => !seen.has(s));
    check(missing.length === 0, m.name, "steps", "models of the catalog", missing);
  }
  return { repositoryPrefix, models };
}

/** The same catalog with one model's live version changed (what a release does). */
export function withLiveVersion(catalog: Catalog, name: string, liveVersion: number): Catalog {
  if (!catalog.models.some((m) => m.name === name)) {
    throw new CatalogError(`model '${name}' is not in the catalog`);
  }
  return defineCatalog({
    repositoryPrefix: catalog.repositoryPrefix,
    models: catalog.models.map((m) => (m.name === name ? { ...m, liveVersion } : m)),
  });
}
