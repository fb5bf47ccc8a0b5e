import { describe, expect, it } from "vitest";
import { InvalidInput } from "../../../layers/errors";
import { parseTarget } from "../../../layers/http/target";

describe("parseTarget", () => {
  it("finds the model in /v2/models/{model}/..., percent-decoded", () => {
    expect(parseTarget("/v2/models/ocr-det/infer")).toEqual({
      model: "ocr-det",
      version: undefined,
      invalid: undefined,
      infer: true,
    });
    expect(parseTarget("/v2/models/ocr-det/versions/3/infer")).toMatchObject({
      model: "ocr-det",
      version: 3,
    });
    expect(parseTarget("/v2/models/ocr%2Drec")).toMatchObject({ model: "ocr-rec", infer: false });
    expect(parseTarget("/v2/models/%E0%A4%A")?.model).toBe("%E0%A4%A");
    expect(parseTarget("/v2/models")).toBeNull();
    expect(parseTarget("/v2/health/ready")).toBeNull();
  });

  it("keeps a version that is not a positive integer as the error the routes throw", () => {
    const target = parseTarget("/v2/models/add/versions/1.5/infer");
    expect(target).toMatchObject({ model: "add", version: undefined, infer: true });
    expect(target?.invalid).toEqual(
      new InvalidInput('model version must be a positive integer, received "1.5"'),
    );
  });
});
