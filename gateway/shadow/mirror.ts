/**
 * Local mode's shadow: an infer middleware that, after the live answer is back, mirrors a share of
 * unpinned requests to the shadow version (a pinned call to the same backend) and compares the two
 * answers. The client's answer never waits for or depends on the shadow call. It sits inside the
 * result cache (a hit is never shadowed; the shadow's answer never reaches the cache) and takes no
 * slot of the model's concurrency limit: when the model is busy the mirror is dropped and counted.
 */

import type { InferResult, ModelDescription } from "../../layers/backend";
import { BackendTimeout } from "../../layers/errors";
import type { InferContext, InferMiddleware } from "../../layers/http";
import { withDeadline } from "../../layers/http";
import type { ShadowConfig } from "../../layers/repository/shadow";
import { compareOutputs } from "../../layers/shadow/compare";
import type { Logger } from "../../layers/telemetry";
import type { ShadowStats } from "./stats";

/** Options of ShadowMirror. */
export interface ShadowMirrorOptions {
  stats: ShadowStats;
  /** The shadow of a model: the catalog's on AWS, config.json's (`description.config.shadow`) locally. */
  shadowOf?: (model: string, description: ModelDescription) => ShadowConfig | undefined;
  /** True when the model's client requests fill its lane (a mirror is then dropped). @default never */
  busy?: (model: string) => boolean;
  /** Shadow calls in flight per model; past it a mirror is dropped. @default 2 */
  maxInFlight?: number;
  /** Deadline of a shadow call, ms. @default 30000 */
  timeoutMs?: number;
  /** Uniform [0, 1) source for sampling (a seeded one in tests). @default Math.random */
  random?: () => number;
  logger?: Logger;
  /**
   * On AWS: hands each sampled request over (awaited, before the answer is returned) instead of
   * calling the shadow in-process (remote.ts); busy and maxInFlight do not apply.
   */
  remote?: { send(ctx: InferContext, shadow: ShadowConfig, live: InferResult): Promise<void> };
}

/** Mirrors sampled unpinned requests to the shadow version and records the comparison. */
export class ShadowMirror {
  readonly #o: ShadowMirrorOptions;
  /** The shadow each model was last seen with (config.json's is known once a request described it). */
  readonly #seen = new Map<string, ShadowConfig>();
  /** What was compared, for metrics and the summary route. */
  readonly stats: ShadowStats;
  readonly #inFlight = new Map<string, number>();
  readonly #pending = new Set<Promise<void>>();

  constructor(options: ShadowMirrorOptions) {
    this.#o = options;
    this.stats = options.stats;
  }

  /** True when comparisons run elsewhere (the comparison function on AWS), not in this process. */
  get remote(): boolean {
    return this.#o.remote !== undefined;
  }

  /** The shadow a model was last served with; undefined before its first unpinned request. */
  configured(model: string): ShadowConfig | undefined {
    return this.#seen.get(model);
  }

  /** The shadow of a model as its live version's description (or the catalog) names it. */
  shadowOf(model: string, description: ModelDescription): ShadowConfig | undefined {
    const pick = this.#o.shadowOf ?? ((_: string, d: ModelDescription) => d.config.shadow);
    return pick(model, description);
  }

  /** The infer middleware: answers with the live result, then maybe mirrors. */
  middleware(): InferMiddleware {
    return async (ctx, next) => {
      const result = await next();
      const shadow = ctx.version === undefined ? this.shadowOf(ctx.model, ctx.description) : undefined;
      if (shadow !== undefined) this.#seen.set(ctx.model, shadow);
      if (shadow !== undefined && String(shadow.version) !== result.version) {
        if ((this.#o.random ?? Math.random)() * 100 < shadow.percent) {
          if (this.#o.remote === undefined) this.#mirror(ctx, shadow, result);
          else await this.#o.remote.send(ctx, shadow, result);
        }
      }
      return result;
    };
  }

  /** Resolves when every shadow call started so far has been compared (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #mirror(ctx: InferContext, shadow: ShadowConfig, live: InferResult): void {
    const { stats } = this.#o;
    const { model, requestId } = ctx;
    const sv = String(shadow.version);
    const running = this.#inFlight.get(model) ?? 0;
    // Dropped, not queued: a mirror must never wait for (or take) what a client request needs.
    if (this.#o.busy?.(model) === true) {
      stats.failed(model, live.version, sv, "dropped_busy");
      return;
    }
    if (running >= (this.#o.maxInFlight ?? 2)) {
      stats.failed(model, live.version, sv, "dropped_concurrency");
      return;
    }
    this.#inFlight.set(model, running + 1);
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() =>
        withDeadline(this.#o.timeoutMs ?? 30_000, `shadow of model '${model}'`, undefined, (signal) =>
          ctx.backend.infer(model, shadow.version, ctx.request, signal),
        ),
      )
      .then(
        (answer) => {
          const tolerance = ctx.description.config.release.tolerance;
          const outputs = compareOutputs(live.outputs, answer.outputs, tolerance, shadow.argmax);
          stats.compared(model, live.version, sv, requestId, outputs);
        },
        (e: unknown) => {
          const timeout = e instanceof BackendTimeout;
          stats.failed(model, live.version, sv, timeout ? "timeout" : "error");
          this.#o.logger?.warn("shadow call failed", {
            requestId,
            model,
            shadowVersion: sv,
            error: e instanceof Error ? e.message : String(e),
          });
        },
      )
      .finally(() => {
        const n = (this.#inFlight.get(model) ?? 1) - 1;
        if (n <= 0) this.#inFlight.delete(model);
        else this.#inFlight.set(model, n);
        this.#pending.delete(run);
      });
    this.#pending.add(run);
  }
}
