/** config.json `shadow` and `live_version`, and the catalog line's `shadow`: validated, unknown keys rejected. */
import { describe, expect, it } from "vitest";
import { parseCatalog } from "../../../gateway/config";
import { parseModelConfig } from "../../../layers/repository/config";

const fails = (json: unknown) => () => parseModelConfig(json, "m");

describe("config.json shadow and live_version", () => {
  it("parses both, argmax defaulting to none", () => {
    const c = parseModelConfig({ live_version: 1, shadow: { version: 2, percent: 12.5 } }, "m");
    expect(c.live_version).toBe(1);
    expect(c.shadow).toEqual({ version: 2, percent: 12.5, argmax: [] });
    expect(parseModelConfig({}, "m")).not.toHaveProperty("shadow");
  });

  it.each([
    [{ shadow: { version: 2, percent: 10, pct: 1 } }, "shadow has unknown field 'pct'"],
    [{ shadow: { version: 0, percent: 10 } }, "shadow.version must be a positive integer"],
    [{ shadow: { version: 2, percent: 101 } }, "shadow.percent must be a number from 0 to 100"],
    [{ shadow: { version: 2, percent: 5, argmax: "y" } }, "shadow.argmax must be an array of output names"],
    [{ shadow: [2] }, "shadow must be an object"],
    [{ live_version: 2, shadow: { version: 2, percent: 5 } }, "shadow.version is the live version (2)"],
    [{ live_version: "1" }, "live_version must be a positive integer"],
  ])("rejects %j", (json, message) => {
    expect(fails(json)).toThrow(message);
  });

  it("a pipeline refuses both (not shadowed yet)", () => {
    const pipeline = { platform: "ensemble", inputs: [], outputs: [], shadow: { version: 2, percent: 1 } };
    expect(fails(pipeline)).toThrow(/shadow does not apply to platform "ensemble"/);
  });

  it("the catalog line's shadow is checked the same way, naming MODEL_CATALOG", () => {
    const line = { backend: "lambda", target: "arn:fn:live" };
    const ok = parseCatalog(JSON.stringify({ m: { ...line, shadow: { version: 1, percent: 10 } } }));
    expect(ok?.m?.shadow).toEqual({ version: 1, percent: 10, argmax: [] });
    expect(() => parseCatalog(JSON.stringify({ m: { ...line, shadow: { version: 1 } } }))).toThrow(
      /MODEL_CATALOG.*"m".shadow.percent must be a number from 0 to 100/,
    );
  });
});
