/**
 * The model catalog: what is deployed. One line per model; adding a model or bumping `liveVersion`
 * here and running `npx cdk deploy` is a whole release (a new Lambda version shifted in by CodeDeploy,
 * or a SageMaker blue/green update). Field meanings and defaults: infra/model-spec.ts.
 */
import { defineCatalog } from "./model-spec";

export type { Catalog, ModelEntry, ModelSpec, Rollout } from "./model-spec";

/** The deployed catalog. */
export const catalog = defineCatalog({
  repositoryPrefix: "models",
  models: [
    { name: "ocr-det", backend: "cpu", liveVersion: 1, memoryMiB: 3008, timeoutSeconds: 25 },
    {
      name: "ocr-cls",
      backend: "cpu",
      liveVersion: 1,
      memoryMiB: 1024,
      rollout: { linear: { percent: 10, everyMinutes: 1 } },
    },
    {
      name: "ocr-rec",
      backend: "cpu",
      liveVersion: 1,
      memoryMiB: 2048,
      rollout: { canary: { percent: 20, minutes: 10 } },
    },
    // The ocr pipeline (functions/models/ocr): image in, text out, its three step models in-process.
    {
      name: "ocr",
      backend: "cpu",
      liveVersion: 1,
      memoryMiB: 3008,
      timeoutSeconds: 25,
      steps: ["ocr-det", "ocr-cls", "ocr-rec"],
    },
    {
      name: "ocr-det-gpu",
      backend: "gpu",
      liveVersion: 1,
      instanceType: "ml.g5.xlarge",
      instanceCount: 2,
      rollout: { canary: { percent: 50, minutes: 10 } },
    },
  ],
});
