/**
 * The shadow comparison function (README "Shadow comparison"): the gateway on AWS invokes it
 * asynchronously with a sampled request and its live answer (layers/shadow/job.ts); it calls the
 * shadow version and compares (compare.ts). It never throws: Lambda would retry a failed
 * asynchronous event and count it twice (the infra sets no retries either).
 *
 * Environment: SHADOW_TARGETS (JSON: model → its function's `live` alias ARN, the gateway's catalog
 * targets), POWERTOOLS_METRICS_NAMESPACE (default EdgeInfer), LAMBDA_ENDPOINT (tests).
 */
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type { Context } from "aws-lambda";
import { parseShadowJob } from "../../layers/shadow/job";
import { compareJob } from "./compare";

/** Time kept back from the function's own deadline to count and log a shadow call that ran out of it. */
const MARGIN_MS = 2_000;

const targets = JSON.parse(process.env.SHADOW_TARGETS ?? "{}") as Record<string, string>;
const namespace = process.env.POWERTOOLS_METRICS_NAMESPACE?.trim() || "EdgeInfer";
const lambda = new LambdaClient({ endpoint: process.env.LAMBDA_ENDPOINT?.trim() || undefined });
const utf8 = new TextDecoder();
const print = (line: string) => process.stdout.write(`${line}\n`);

/** Lambda entry point: one job per asynchronous event. */
export async function handler(raw: unknown, context: Context): Promise<void> {
  let job: ReturnType<typeof parseShadowJob>;
  try {
    job = parseShadowJob(raw);
  } catch (e) {
    print(JSON.stringify({ level: "ERROR", message: "shadow job refused", error: String(e) }));
    return;
  }
  const target = targets[job.event.model];
  await compareJob(job, {
    namespace,
    print,
    async invoke(event) {
      if (target === undefined) throw new Error(`model '${event.model}' is not in SHADOW_TARGETS`);
      const budget = Math.max(1_000, context.getRemainingTimeInMillis() - MARGIN_MS);
      const out = await lambda.send(
        new InvokeCommand({ FunctionName: target, Payload: JSON.stringify(event) }),
        {
          abortSignal: AbortSignal.timeout(budget),
        },
      );
      const text = out.Payload === undefined ? "null" : utf8.decode(out.Payload);
      if (out.FunctionError !== undefined) {
        const body = JSON.parse(text) as { errorType?: string } | null;
        return { functionError: body?.errorType ?? out.FunctionError };
      }
      return { payload: JSON.parse(text) as unknown };
    },
  });
}
