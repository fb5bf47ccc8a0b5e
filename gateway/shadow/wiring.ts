/** The gateway's shadow mirror built from its configuration, and the summary route's body. */
import type { Backend } from "../../layers/backend";
import { withDeadline } from "../../layers/http";
import type { Logger } from "../../layers/telemetry";
import type { GatewayConfig } from "../config";
import type { ConcurrencyLimiter } from "../limits/concurrency";
import { ShadowMirror } from "./mirror";
import { NO_REGISTRY, type ShadowRegistry, ShadowStats } from "./stats";

export { ShadowMirror } from "./mirror";

/** Disagreements kept per model for `GET /v2/models/{m}/shadow`. */
export const SHADOW_KEEP = 20;

/**
 * The mirror of a gateway: the shadow comes from MODEL_CATALOG when the gateway has one (the catalog
 * wins on AWS), from config.json otherwise. On Lambda nothing is mirrored: a buffered Function URL
 * freezes the instance once the answer is returned, so work after it would never run.
 */
export function shadowMirror(
  config: Pick<GatewayConfig, "catalog" | "onLambda" | "backendTimeoutMs" | "concurrency">,
  registry: ShadowRegistry | undefined,
  limiter: ConcurrencyLimiter,
  logger: Logger,
): ShadowMirror {
  const { catalog } = config;
  return new ShadowMirror({
    stats: new ShadowStats(registry ?? NO_REGISTRY, SHADOW_KEEP),
    shadowOf: config.onLambda
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
