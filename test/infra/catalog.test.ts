import { describe, expect, it } from "vitest";
import { catalog } from "../../infra/catalog";

describe("the deployed catalog", () => {
  it("serves the three demo OCR models and the ocr pipeline on CPU, and one example model on a GPU endpoint", () => {
    expect(catalog.models.map((m) => [m.name, m.backend])).toEqual([
      ["ocr-det", "cpu"],
      ["ocr-cls", "cpu"],
      ["ocr-rec", "cpu"],
      ["ocr", "cpu"],
      ["ocr-det-gpu", "gpu"],
    ]);
    const gpu = catalog.models.find((m) => m.backend === "gpu");
    expect(gpu?.backend === "gpu" && gpu.instanceType).toBe("ml.g5.xlarge");
  });

  it("points every model at its folder of the repository", () => {
    expect(catalog.repositoryPrefix).toBe("models");
    for (const m of catalog.models) expect(m.location).toBe(`models/${m.name}/`);
  });
});
