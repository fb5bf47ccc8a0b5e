/**
 * Triton's statistics extension over HTTP: `GET /v2/models/stats` (every model the caller may see)
 * and `GET /v2/models/{m}[/versions/{v}]/stats`, from the process's ModelStats.
 */
import type { Context, Hono } from "hono";
import type { ModelCatalog } from "../backend/contract";
import { ModelNotFound } from "../errors";
import { quote } from "../protocol/quote";
import type { ModelStats } from "../telemetry/model-stats";
import { targetOf } from "./target";
import type { ProtocolEnv } from "./types";

/** What the statistics routes read. */
export interface StatisticsOptions {
  stats: ModelStats;
  /** Whether the request may see `model` (keys mode: the models its key allows). @default all */
  visible?: (c: Context, model: string) => boolean;
  /**
   * Added to every answer as `counters` when the numbers are not the whole service's (the AWS
   * gateway: one Lambda instance's, since it started).
   */
  scope?: string;
}

/** Adds the statistics routes to `app`; before the model routes, so `stats` is not taken for a model. */
export function addStatisticsRoutes(
  app: Hono<ProtocolEnv>,
  catalog: ModelCatalog,
  options: StatisticsOptions,
) {
  const visible = options.visible ?? (() => true);
  const answer = (c: Context<ProtocolEnv>, models: string[], version?: string) =>
    c.json({
      model_stats: options.stats.report(models, version),
      ...(options.scope === undefined ? {} : { counters: options.scope }),
    });
  // `/v2/models/stats` as the model path's first handler rather than a route of its own: a fixed
  // segment beside `:model` makes Hono's SmartRouter fall back from its RegExpRouter (one match per
  // request) to the TrieRouter (a tree walk and a sort per request).
  app.get("/v2/models/:model", async (c, next) => {
    if (targetOf(c) === undefined) return answer(c, [...catalog.keys()].filter((m) => visible(c, m)).sort());
    await next();
  });
  const one = (c: Context<ProtocolEnv>) => {
    const target = targetOf(c);
    const model = target?.model ?? "";
    // A model the key may not see is refused by auth before this (403); 404 is for unknown names.
    if (!catalog.has(model)) throw new ModelNotFound(`unknown model ${quote(model)}`);
    if (target?.invalid !== undefined) throw target.invalid;
    return answer(c, [model], target?.version === undefined ? undefined : String(target.version));
  };
  app.get("/v2/models/:model/stats", one);
  app.get("/v2/models/:model/versions/:version/stats", one);
}
