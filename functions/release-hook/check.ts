/**
 * The pre-traffic check of a new Lambda version of a model function, before CodeDeploy moves any of
 * alias `live`'s traffic to it: ready; same signature as served now; its samples give their expected
 * outputs; generated requests give well-formed, finite outputs (and, with `compare_with_live`, the
 * same as the live version's). Stops at the first stage that fails: later ones would only repeat it.
 */

import type { ModelDescription } from "../../layers/backend/contract";
import type { InferRequest } from "../../layers/protocol/types";
import type { ReleaseTolerance } from "../../layers/repository/release";
import { parseSample, SampleError } from "../../layers/repository/samples";
import type { TransportEvent, TransportResult } from "../../layers/transport/event";

type Answer = Exclude<TransportResult, { ok: false }>;

import { inferResultOf } from "../../layers/transport/wire";
import { asExpected, disagreements, generatedRequests, outputProblems, signatureChanges } from "./compare";

/** One invocation's outcome: the function's answer, or the error Lambda reported for it. */
export type Invoked = { ok: true; result: TransportResult } | { ok: false; functionError: string };

/** What the check needs of AWS: Lambda Invoke by qualifier, and the version's sample files. */
export interface ReleaseTarget {
  /** Invokes the function at `qualifier` (a version number or an alias). */
  invoke(qualifier: string, event: TransportEvent): Promise<Invoked>;
  /** `<model>/<modelVersion>/samples/*.json`: file name (without .json) and text, by name. */
  samples(modelVersion: string): Promise<Array<{ name: string; text: string }>>;
}

/** Structured log lines (one per finding) go here. */
export type Log = (message: string, fields: Record<string, unknown>) => void;

/** The verdict: `reasons` empty when the version may take traffic. */
export interface Verdict {
  ok: boolean;
  reasons: string[];
}

class Stop extends Error {}

/** Checks Lambda version `version` of `model`'s function against alias `alias` (still the live one). */
export async function checkRelease(options: {
  model: string;
  version: string;
  alias: string;
  target: ReleaseTarget;
  log: Log;
}): Promise<Verdict> {
  const { model, version, alias, target, log } = options;
  const reasons: string[] = [];
  const fail = (stage: string, reason: string, fields: Record<string, unknown> = {}) => {
    reasons.push(`${stage}: ${reason}`);
    log("release check failed", { stage, reason, lambdaVersion: version, ...fields });
  };
  const call = async (qualifier: string, event: TransportEvent, stage: string): Promise<Answer> => {
    const who = qualifier === alias ? `alias ${alias}` : `version ${qualifier}`;
    const got = await target.invoke(qualifier, event);
    if (!got.ok) {
      fail(stage, `${who} failed (function error ${got.functionError}) on ${event.action}`);
      throw new Stop();
    }
    if (!got.result.ok) {
      fail(stage, `${who} answered ${got.result.kind} on ${event.action}: ${got.result.error}`);
      throw new Stop();
    }
    return got.result;
  };
  const describe = async (qualifier: string, stage: string): Promise<ModelDescription> => {
    const r = await call(qualifier, { action: "metadata", model }, stage);
    if (r.action !== "metadata") throw new Error(`metadata answered with ${r.action}`);
    return r.description;
  };
  const infer = async (qualifier: string, request: InferRequest, stage: string) =>
    inferResultOf(await call(qualifier, { action: "infer", model, request }, stage), model).outputs;

  try {
    const ready = await call(version, { action: "ready", model }, "ready");
    if (ready.action !== "ready" || !ready.ready) {
      fail("ready", `version ${version} is not ready`);
      throw new Stop();
    }
    const next = await describe(version, "metadata");
    const live = await describe(alias, "metadata");
    const changes = signatureChanges(live.metadata, next.metadata);
    if (changes.length > 0) {
      for (const c of changes)
        fail("signature", `${c} (a changed signature is a new model, not a new version)`);
      throw new Stop();
    }
    const tolerance = next.config.release.tolerance;
    await checkSamples(next.version, tolerance);
    await checkGenerated(next, next.config.release.compare_with_live);
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  return { ok: reasons.length === 0, reasons };

  async function checkSamples(modelVersion: string, tolerance: ReleaseTolerance): Promise<void> {
    const files = await target.samples(modelVersion);
    log("samples", { modelVersion, count: files.length, names: files.map((f) => f.name) });
    for (const file of files) {
      let sample: ReturnType<typeof parseSample>;
      try {
        sample = parseSample(file.text, file.name, tolerance);
      } catch (e) {
        if (!(e instanceof SampleError)) throw e;
        fail("samples", e.message, { sample: file.name });
        continue;
      }
      const outputs = await infer(version, sample.request, "samples");
      for (const d of disagreements(sample.expected, outputs, sample.tolerance ?? tolerance))
        fail("samples", `sample '${sample.name}' ${d}`, { sample: sample.name });
    }
    if (reasons.length > 0) throw new Stop();
  }

  async function checkGenerated(next: ModelDescription, compareWithLive: boolean): Promise<void> {
    const requests = generatedRequests(next.metadata.inputs);
    if (typeof requests === "string") {
      log("no generated requests", { why: requests, compareWithLive });
      return;
    }
    const tolerance = next.config.release.tolerance;
    for (const { name, request } of requests) {
      const outputs = await infer(version, request, "generated");
      for (const p of outputProblems(outputs, next.metadata.outputs)) fail("generated", `${name}: ${p}`);
      if (!compareWithLive) continue;
      const liveOutputs = await infer(alias, request, "compare_with_live");
      for (const d of disagreements(liveOutputs.map(asExpected), outputs, tolerance))
        fail("compare_with_live", `${name}: ${d} (expected = alias ${alias}, got = version ${version})`);
    }
  }
}
