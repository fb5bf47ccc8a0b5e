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
 * Reads `model`'s config and versions; `configured` (a model function's configured version, else
 * config.json's `live_version`) is the default version and, like a `shadow` version, servable
 * whatever the policy says. Throws ModelNotFound, ModelNotReady.
 */
export async function readModelInfo(
  repo: ModelRepository,
  model: string,
  configured: number | undefined,
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
  const live = configured ?? config.live_version;
  if (live !== undefined && !available.includes(live)) {
    throw new ModelNotFound(
      `model '${model}' live version ${live} is not in the repository (available: ${available.join(", ") || "none"})`,
    );
  }
  // The live version and a shadow present in the repository are served whatever the policy says.
  const extra = [live, config.shadow?.version].filter(
    (v): v is number => v !== undefined && available.includes(v) && !policy.includes(v),
  );
  const servable = extra.length === 0 ? policy : [...new Set([...policy, ...extra])].sort((a, b) => a - b);
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
