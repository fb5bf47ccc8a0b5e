/** The model function's service: the `batching` option reaches its backend (real ORT, the demo ocr-cls). */

import { afterEach, describe, expect, it } from "vitest";
import { readFunctionConfig } from "../../../functions/model/config";
import { createModelService, type ModelService } from "../../../functions/model/service";
import { DEMO_REPOSITORY } from "../../../gateway/config";
import { silentLogger } from "../../../layers/telemetry";
import { unchecked } from "../../support/infer";

const services: ModelService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
});

const config = readFunctionConfig({
  MODEL_NAME: "ocr-cls",
  MODEL_REPOSITORY: DEMO_REPOSITORY,
  LOG_LEVEL: "SILENT",
});
const x = () => ({
  name: "x",
  datatype: "FP32" as const,
  shape: [1, 3, 48, 192],
  data: new Float32Array(3 * 48 * 192),
});

describe("createModelService", () => {
  it.each([
    [undefined, true],
    [true, true],
    [false, false],
  ])(
    "batching %s: batched = %s (ocr-cls's config.json enables dynamic_batching)",
    async (batching, batched) => {
      const service = createModelService(config, silentLogger, batching === undefined ? {} : { batching });
      services.push(service);
      await service.warm();
      const result = await service.backend.infer("ocr-cls", undefined, unchecked({ inputs: [x()] }));
      expect(result.outputs[0]?.shape).toEqual([1, 2]);
      // Only a batched request reports queue time, and only then does the backend hold a batcher.
      expect(result.timing?.queueMs !== undefined).toBe(batched);
      expect(service.backend.batcherStats("ocr-cls", 1) !== undefined).toBe(batched);
    },
  );
});
