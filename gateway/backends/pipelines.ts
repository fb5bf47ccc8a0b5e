/**
 * Local mode's pipelines: models whose config.json says `platform: "ensemble"` are served by a
 * PipelineBackend whose steps call the other models of the catalog in this process.
 */

import type { Backend } from "../../layers/backend";
import { PipelineBackend, repositoryFiles } from "../../layers/pipeline";
import type { ModelRepository } from "../../layers/repository/types";
import type { Logger } from "../../layers/telemetry";

/** The repository's models split by platform; a config that cannot be read stays with the engine, which reports it. */
export async function splitPipelines(
  repo: ModelRepository,
  models: readonly string[],
): Promise<{ pipelines: string[]; onnx: string[] }> {
  const platforms = await Promise.all(
    models.map((m) =>
      repo.readConfig(m).then(
        (c) => c.platform,
        () => "",
      ),
    ),
  );
  return {
    pipelines: models.filter((_, i) => platforms[i] === "ensemble"),
    onnx: models.filter((_, i) => platforms[i] !== "ensemble"),
  };
}

/**
 * Adds `pipelines` to `catalog`, their steps served by the catalog's other backends; returns the
 * pipelines served. A pipeline reads its version's files (dictionary, samples) from the repository,
 * file:// or s3://; from any other kind none is served, with a warning, and the ONNX models still are.
 */
export function addPipelines(
  catalog: Map<string, Backend>,
  repo: ModelRepository,
  pipelines: readonly string[],
  logger?: Logger,
): string[] {
  if (pipelines.length === 0) return [];
  const files = repositoryFiles(repo);
  if (files === undefined) {
    logger?.warn("pipelines are served from file:// and s3:// repositories only; not serving them", {
      pipelines,
      repository: repo.uri,
    });
    return [];
  }
  const backend = new PipelineBackend({
    models: pipelines,
    readConfig: (m) => repo.readConfig(m),
    files,
    stepBackend: (m) => catalog.get(m),
    ...(logger === undefined ? {} : { logger }),
  });
  for (const p of pipelines) catalog.set(p, backend);
  return [...pipelines];
}
