/** What the engine reads of a model from the repository: its config, servable versions and default version. */
import { InferenceError, ModelNotFound, ModelNotReady } from "../errors";
import type { ModelConfig, ModelRepository } from "../repository/types";
import type { EngineLogger } from "./types";
import { defaultVersion, servableVersions } from "./versions";

/** A model as last read from the repository. */
export interface ModelInfo {
  config: ModelConfig;
  /** Versions the policy serves among those in the repository, ascending. */
  servable: number[];
  defaultVersion: number;
}

/**
 * Reads `model`'s config and versions; `live` (a model function's configured version) is the
 * default version and servable whatever the policy says. Throws ModelNotFound, ModelNotReady.
 */
export async function readModelInfo(
  repo: ModelRepository,
  model: string,
  live: number | undefined,
  log: EngineLogger,
): Promise<ModelInfo> {
  let config: ModelConfig;
  let available: number[];
  try {
    [config, available] = await Promise.all([repo.readConfig(model), repo.listVersions(model)]);
  } catch (e) {
    if (e instanceof InferenceError) throw e;
    log("error", `model '${model}' cannot be read from the repository`, {
      model,
      error: e instanceof Error ? e.message : String(e),
    });
    throw new ModelNotReady(`model '${model}' cannot be read from the repository`, { cause: e });
  }
  const policy = servableVersions(config.version_policy, available);
  if (live !== undefined && !available.includes(live)) {
    throw new ModelNotFound(
      `model '${model}' live version ${live} is not in the repository (available: ${available.join(", ") || "none"})`,
    );
  }
  const servable =
    live === undefined || policy.includes(live) ? policy : [...policy, live].sort((a, b) => a - b);
  const dv = live ?? defaultVersion(servable);
  if (dv === undefined) {
    throw new ModelNotFound(
      available.length === 0
        ? `model '${model}' has no versions`
        : `model '${model}' has no version allowed by its version_policy (available: ${available.join(", ")})`,
    );
  }
  return { config, servable, defaultVersion: dv };
}
