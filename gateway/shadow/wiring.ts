/** The gateway's shadow mirror built from its configuration, and the summary route's body. */
import { LambdaClient } from "@aws-sdk/client-lambda";
import type { Backend } from "../../layers/backend";
import { withDeadline } from "../../layers/http";
import type { Logger } from "../../layers/telemetry";
import type { GatewayConfig } from "../config";
import type { ConcurrencyLimiter } from "../limits/concurrency";
import { ShadowMirror } from "./mirror";
import { RemoteShadow } from "./remote";
import { NO_REGISTRY, type ShadowRegistry, ShadowStats } from "./stats";

export { ShadowMirror } from "./mirror";

/** Where the summary route on Lambda points to (README "Shadow comparison"). */
export const REMOTE_RESULTS =
  "the shadow comparison function: EMF metrics shadow_* {model, version} (dashboard row 'Shadow: <model>', alarm ShadowDisagreementRate) and its log lines 'shadow disagreement'";

/** Disagreements kept per model for `GET /v2/models/{m}/shadow`. */
export const SHADOW_KEEP = 20;

/**
 * The mirror of a gateway: the shadow comes from MODEL_CATALOG when the gateway has one (the catalog
 * wins on AWS), from config.json otherwise. On Lambda a buffered Function URL freezes the instance
 * once the answer is returned, so sampled requests are handed to the comparison function named by
 * SHADOW_FUNCTION (remote.ts); without it nothing is mirrored there.
 */
export function shadowMirror(
  config: Pick<
    GatewayConfig,
    | "catalog"
    | "onLambda"
    | "backendTimeoutMs"
    | "concurrency"
    | "shadowFunction"
    | "region"
    | "lambdaEndpoint"
    | "metricsNamespace"
  >,
  registry: ShadowRegistry | undefined,
  limiter: ConcurrencyLimiter,
  logger: Logger,
  emit: (lines: string[]) => void,
): ShadowMirror {
  const { catalog, shadowFunction } = config;
  const remote =
    config.onLambda && shadowFunction !== undefined
      ? new RemoteShadow({
          client: new LambdaClient({ region: config.region, endpoint: config.lambdaEndpoint }),
          functionName: shadowFunction,
          namespace: config.metricsNamespace,
          emit,
          logger,
        })
      : undefined;
  return new ShadowMirror({
    stats: new ShadowStats(registry ?? NO_REGISTRY, SHADOW_KEEP),
    shadowOf:
      config.onLambda && remote === undefined
        ? () => undefined
        : catalog === undefined
          ? (_, d) => d.config.shadow
          : (model) => catalog[model]?.shadow,
    // Busy: every slot taken or someone waiting for one; a mirror would only delay client requests.
    busy: (model) => {
      const s = limiter.stats(model);
      return s.queued > 0 || s.inFlight >= config.concurrency.maxInFlight;
    },
    timeoutMs: config.backendTimeoutMs,
    logger,
    ...(remote === undefined ? {} : { remote }),
  });
}

/**
 * The body of `GET /v2/models/{m}/shadow`: the model's shadow settings, totals and last disagreements;
 * undefined when the model has no shadow (the catalog's on AWS, else its config.json's, described).
 */
export async function shadowSummary(
  mirror: ShadowMirror,
  backend: Backend,
  model: string,
  timeoutMs: number,
): Promise<object | undefined> {
  const shadow =
    mirror.configured(model) ??
    mirror.shadowOf(
      model,
      await withDeadline(timeoutMs, `model '${model}' description`, undefined, (signal) =>
        backend.describe(model, undefined, signal),
      ),
    );
  if (shadow === undefined) return undefined;
  // On Lambda each instance only hands requests over; the counts are the comparison function's.
  if (mirror.remote) return { model, shadow, compared_in: REMOTE_RESULTS };
  const s = mirror.stats.summary(model);
  return {
    model,
    shadow,
    ...(s ?? {
      totals: { requests: 0, disagreements: 0, errors: 0, timeouts: 0, dropped: 0, max_abs_diff: 0 },
      last_disagreements: [],
    }),
  };
}
