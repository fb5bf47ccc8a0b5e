/**
 * CodeDeploy `BeforeAllowTraffic` hook of one model function (infra/constructs/release-hook.ts):
 * checks the new Lambda version (check.ts) and reports Succeeded or Failed. Every reason is logged
 * as a JSON line; a Failed hook stops the deployment before any traffic moves.
 *
 * Environment: FUNCTION_NAME (the model function), NEW_VERSION (its Lambda version to check),
 * MODEL_NAME, MODEL_REPOSITORY (`s3://bucket/prefix`), ALIAS (default `live`), S3_ENDPOINT (tests).
 */
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from "@aws-sdk/client-codedeploy";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { parseTransportResult } from "../../layers/transport/wire";
import { checkRelease, type Log, type ReleaseTarget } from "./check";

/** What CodeDeploy passes to a lifecycle hook. */
export interface HookEvent {
  DeploymentId: string;
  LifecycleEventHookExecutionId: string;
}

function required(name: string): string {
  const v = process.env[name]?.trim();
  if (v === undefined || v === "") throw new Error(`${name}: required`);
  return v;
}

const env = {
  functionName: required("FUNCTION_NAME"),
  version: required("NEW_VERSION"),
  model: required("MODEL_NAME"),
  alias: process.env.ALIAS?.trim() || "live",
  repository: /^s3:\/\/([^/]+)\/?(.*)$/.exec(required("MODEL_REPOSITORY")),
};
if (env.repository === null) throw new Error("MODEL_REPOSITORY: expected s3://bucket/prefix");
const [, bucket = "", rawPrefix = ""] = env.repository;
const prefix = rawPrefix.replace(/\/+$/, "");
const s3Endpoint = process.env.S3_ENDPOINT?.trim() || undefined;

const lambda = new LambdaClient({});
const codedeploy = new CodeDeployClient({});
const s3 = new S3Client(s3Endpoint === undefined ? {} : { endpoint: s3Endpoint, forcePathStyle: true });
const utf8 = new TextDecoder();

const log: Log = (message, fields) => {
  console.log(JSON.stringify({ level: "INFO", message, model: env.model, ...fields }));
};

const target: ReleaseTarget = {
  async invoke(qualifier, event) {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: env.functionName,
        Qualifier: qualifier,
        Payload: JSON.stringify(event),
      }),
    );
    const text = out.Payload === undefined ? "null" : utf8.decode(out.Payload);
    if (out.FunctionError !== undefined) {
      const body = JSON.parse(text) as { errorType?: string; errorMessage?: string } | null;
      return {
        ok: false,
        functionError: `${body?.errorType ?? out.FunctionError}: ${body?.errorMessage ?? ""}`,
      };
    }
    return { ok: true, result: parseTransportResult(JSON.parse(text), env.model) };
  },
  async samples(modelVersion) {
    const base = `${prefix === "" ? "" : `${prefix}/`}${env.model}/${modelVersion}/samples/`;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: base, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? [])
        if (o.Key?.endsWith(".json") && !o.Key.slice(base.length).includes("/")) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return Promise.all(
      keys.sort().map(async (key) => {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return {
          name: key.slice(base.length, -".json".length),
          text: (await got.Body?.transformToString()) ?? "",
        };
      }),
    );
  },
};

/** Checks NEW_VERSION and reports the verdict to CodeDeploy; resolves with what it reported. */
export async function handler(
  event: HookEvent,
): Promise<{ status: "Succeeded" | "Failed"; reasons: string[] }> {
  log("release check", { deploymentId: event.DeploymentId, lambdaVersion: env.version, alias: env.alias });
  let reasons: string[];
  try {
    ({ reasons } = await checkRelease({
      model: env.model,
      version: env.version,
      alias: env.alias,
      target,
      log,
    }));
  } catch (e) {
    // An AWS call that failed (throttled, denied): the version is unproven, so it takes no traffic.
    reasons = [`the check could not run: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`];
    log("release check failed", { stage: "check", reason: reasons[0] });
  }
  const status = reasons.length === 0 ? "Succeeded" : "Failed";
  await codedeploy.send(
    new PutLifecycleEventHookExecutionStatusCommand({
      deploymentId: event.DeploymentId,
      lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
      status,
    }),
  );
  log("release verdict", { status, reasons, deploymentId: event.DeploymentId, lambdaVersion: env.version });
  return { status, reasons };
}
