/**
 * The shadow on AWS. The gateway's Function URL is buffered: Lambda freezes the instance as soon as
 * the answer is returned, so a shadow call started after it would never run. Instead, a sampled
 * request is handed over, with the live answer, to the shadow comparison function
 * (functions/shadow-compare) by an asynchronous Invoke: Lambda queues the event and answers 202
 * at once, and the comparison function calls the shadow version and compares on its own time. The
 * client waits only for that hand-over (bounded by HAND_OVER_TIMEOUT_MS, its failure never
 * reaches the client). An event over async invocation's 1 MB limit is skipped and counted.
 */
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import type { InferResult } from "../../layers/backend";
import type { InferContext } from "../../layers/http";
import type { ShadowConfig } from "../../layers/repository/shadow";
import type { ShadowJob } from "../../layers/shadow/job";
import { emfCounts, type Logger } from "../../layers/telemetry";
import { inferEvent, toBase64 } from "../../layers/transport";
import { encodeBackendResult } from "../../layers/transport/respond";

/** Lambda's limit on an asynchronous invocation's payload. */
export const ASYNC_PAYLOAD_LIMIT = 1_048_576;
/** The most a sampled request waits for the hand-over (Lambda answers an async Invoke in milliseconds). */
export const HAND_OVER_TIMEOUT_MS = 1_000;

/** Gateway-side EMF metrics of the hand-over, dimensions {model, version: the live version}. */
export const HAND_OVER_METRICS = {
  /** The event was over ASYNC_PAYLOAD_LIMIT: not compared. */
  skipped: "shadow_skipped",
  /** The async Invoke failed or timed out: not compared. */
  dropped: "shadow_dropped",
} as const;

/** Options of RemoteShadow. */
export interface RemoteShadowOptions {
  client: LambdaClient;
  /** The comparison function's name or ARN. */
  functionName: string;
  /** EMF namespace of the metrics. */
  namespace: string;
  /** Prints EMF lines (stdout on Lambda). */
  emit: (lines: string[]) => void;
  logger?: Logger;
  /** @default HAND_OVER_TIMEOUT_MS */
  timeoutMs?: number;
  /** Events larger than this are skipped. @default ASYNC_PAYLOAD_LIMIT */
  payloadLimit?: number;
}

const utf8 = new TextEncoder();

/** Hands sampled requests and their live answers to the comparison function. */
export class RemoteShadow {
  constructor(readonly options: RemoteShadowOptions) {}

  /** Sends one job; never throws (a failure is counted and logged). */
  async send(ctx: InferContext, shadow: ShadowConfig, live: InferResult): Promise<void> {
    const { model, requestId } = ctx;
    const o = this.options;
    const payload = utf8.encode(JSON.stringify(shadowJob(ctx, shadow, live)));
    if (payload.byteLength > (o.payloadLimit ?? ASYNC_PAYLOAD_LIMIT))
      return this.#count(model, live.version, "skipped");
    try {
      await o.client.send(
        new InvokeCommand({ FunctionName: o.functionName, InvocationType: "Event", Payload: payload }),
        { abortSignal: AbortSignal.timeout(o.timeoutMs ?? HAND_OVER_TIMEOUT_MS) },
      );
    } catch (e) {
      this.#count(model, live.version, "dropped");
      o.logger?.warn("shadow hand-over failed", {
        requestId,
        model,
        error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
      });
    }
  }

  #count(model: string, version: string, what: keyof typeof HAND_OVER_METRICS): void {
    const o = this.options;
    o.emit(emfCounts(o.namespace, { model, version }, { [HAND_OVER_METRICS[what]]: 1 }));
  }
}

/** What the comparison function needs: the shadow's infer event (pinned) and the live answer. */
export function shadowJob(ctx: InferContext, shadow: ShadowConfig, live: InferResult): ShadowJob {
  const answer = encodeBackendResult(ctx.model, ctx.request, live, "all");
  return {
    requestId: ctx.requestId,
    liveVersion: live.version,
    argmax: shadow.argmax,
    tolerance: ctx.description.config.release.tolerance,
    event: inferEvent(ctx.model, shadow.version, ctx.request),
    live: {
      ok: true,
      action: "infer",
      version: live.version,
      body: toBase64(answer.body),
      ...(answer.headerLength === undefined ? {} : { headerLength: answer.headerLength }),
    },
  };
}
