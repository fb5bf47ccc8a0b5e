import { describe, expect, it } from "vitest";
import {
  CatalogError,
  DEFAULT_ALARMS,
  DEFAULT_ROLLOUT,
  defineCatalog,
  type ModelEntry,
  withLiveVersion,
} from "../../infra/model-spec";

const cpu = (over: Partial<ModelEntry> = {}): ModelEntry =>
  ({ name: "m", backend: "cpu", liveVersion: 1, ...over }) as ModelEntry;
const gpu = (over: Record<string, unknown> = {}): ModelEntry =>
  ({
    name: "g",
    backend: "gpu",
    liveVersion: 1,
    instanceType: "ml.g5.xlarge",
    instanceCount: 2,
    ...over,
  }) as ModelEntry;

describe("defineCatalog", () => {
  it("applies the defaults of a cpu entry", () => {
    const [m] = defineCatalog({ models: [cpu()] }).models;
    expect(m).toEqual({
      name: "m",
      backend: "cpu",
      liveVersion: 1,
      memoryMiB: 2048,
      timeoutSeconds: 20,
      architecture: "arm64",
      provisionedConcurrency: 0,
      steps: [],
      rollout: DEFAULT_ROLLOUT,
      alarms: DEFAULT_ALARMS,
      location: "models/m/",
      compareWithLive: false,
    });
  });

  it("merges partial alarm thresholds with the defaults and places the model under the prefix", () => {
    const c = defineCatalog({ repositoryPrefix: "repo/v2", models: [gpu({ alarms: { errors: 1 } })] });
    const [m] = c.models;
    expect(c.repositoryPrefix).toBe("repo/v2");
    expect(m?.alarms).toEqual({ ...DEFAULT_ALARMS, errors: 1 });
    expect(m?.location).toBe("repo/v2/g/");
    expect(m?.backend === "gpu" && m.instanceType).toBe("ml.g5.xlarge");
  });

  it.each([
    [
      cpu({ name: "Bad_Name" }),
      /model 'Bad_Name': name must be lower-case \[a-z0-9-\], 1\.\.32 chars, received "Bad_Name"/,
    ],
    [cpu({ liveVersion: 0 }), /model 'm': liveVersion must be a positive integer, received 0/],
    [cpu({ liveVersion: 1.5 }), /liveVersion must be a positive integer, received 1.5/],
    [
      cpu({ memoryMiB: 64 } as Partial<ModelEntry>),
      /model 'm': memoryMiB must be an integer in 128\.\.10240, received 64/,
    ],
    [
      cpu({ timeoutSeconds: 901 } as Partial<ModelEntry>),
      /timeoutSeconds must be an integer in 1\.\.900, received 901/,
    ],
    [
      cpu({ architecture: "ppc" } as unknown as Partial<ModelEntry>),
      /architecture must be "arm64" or "x86_64", received "ppc"/,
    ],
    [
      cpu({ provisionedConcurrency: -1 } as Partial<ModelEntry>),
      /provisionedConcurrency must be an integer in 0\.\.1000/,
    ],
    [
      cpu({ rollout: { canary: { percent: 0, minutes: 5 } } }),
      /rollout\.canary\.percent must be an integer in 1\.\.99, received 0/,
    ],
    [
      cpu({ rollout: { linear: { percent: 10, everyMinutes: 0 } } }),
      /rollout\.linear minutes must be an integer in 1\.\.2880, received 0/,
    ],
    [cpu({ alarms: { errors: -1 } }), /alarms\.errors must be a positive number, received -1/],
    [
      gpu({ instanceType: "g5.xlarge" }),
      /model 'g': instanceType must be like ml\.g5\.xlarge, received "g5\.xlarge"/,
    ],
    [
      gpu({ instanceCount: 1 }),
      /instanceCount must be at least 2 for a canary or linear rollout, received 1/,
    ],
    [
      gpu({ rollout: { canary: { percent: 60, minutes: 5 } } }),
      /rollout percent must be at most 50 on a SageMaker endpoint, received 60/,
    ],
    [
      gpu({ rollout: { linear: { percent: 10, everyMinutes: 90 } } }),
      /rollout minutes must be at most 60 on a SageMaker endpoint, received 90/,
    ],
    [
      gpu({ timeoutSeconds: 60 } as Partial<ModelEntry>),
      /model 'g': timeoutSeconds must be an integer in 1\.\.59, received 60/,
    ],
    [
      cpu({ alarms: { errorRatePercent: 101 } } as Partial<ModelEntry>),
      /model 'm': alarms\.errorRatePercent must be at most 100, received 101/,
    ],
    [
      cpu({ alarms: { minInvocations: 2.5 } } as Partial<ModelEntry>),
      /model 'm': alarms\.minInvocations must be an integer in 1\.\.1000000, received 2\.5/,
    ],
    [
      cpu({ backend: "tpu" } as unknown as Partial<ModelEntry>),
      /model 'm': backend must be "cpu" or "gpu", received "tpu"/,
    ],
  ])("refuses an invalid entry, naming model, field, expected and received (%#)", (entry, message) => {
    expect(() => defineCatalog({ models: [entry] })).toThrow(CatalogError);
    expect(() => defineCatalog({ models: [entry] })).toThrow(message);
  });

  it("lets a single-instance GPU model roll out all at once", () => {
    const [m] = defineCatalog({ models: [gpu({ instanceCount: 1, rollout: "all-at-once" })] }).models;
    expect(m?.rollout).toBe("all-at-once");
  });

  it("refuses duplicate names and a malformed repository prefix", () => {
    expect(() => defineCatalog({ models: [cpu(), cpu()] })).toThrow(
      /model 'm': name must be unique in the catalog/,
    );
    expect(() => defineCatalog({ repositoryPrefix: "/models/", models: [] })).toThrow(
      /repositoryPrefix must be a key prefix without leading or trailing '\/', received "\/models\/"/,
    );
  });
});

describe("withLiveVersion", () => {
  it("changes one model's live version and nothing else", () => {
    const before = defineCatalog({
      models: [cpu({ name: "a" }), cpu({ name: "b", memoryMiB: 512 } as Partial<ModelEntry>)],
    });
    const after = withLiveVersion(before, "b", 7);
    expect(after.models.map((m) => m.liveVersion)).toEqual([1, 7]);
    expect({ ...after.models[1], liveVersion: 1 }).toEqual(before.models[1]);
    expect(after.models[0]).toEqual(before.models[0]);
  });

  it("refuses an unknown model and an invalid version", () => {
    const c = defineCatalog({ models: [cpu()] });
    expect(() => withLiveVersion(c, "nope", 2)).toThrow("model 'nope' is not in the catalog");
    expect(() => withLiveVersion(c, "m", -2)).toThrow(/liveVersion must be a positive integer, received -2/);
  });
});

describe("defineCatalog shadow", () => {
  it("keeps a valid shadow and refuses a bad one, naming the model and the field", () => {
    const [m] = defineCatalog({ models: [cpu({ shadow: { version: 2, percent: 5 } })] }).models;
    expect(m?.shadow).toEqual({ version: 2, percent: 5 });
    expect(() => defineCatalog({ models: [cpu({ shadow: { version: 2, percent: 500 } })] })).toThrow(
      "model 'm': shadow.percent must be a number from 0 to 100, received 500",
    );
    expect(() => defineCatalog({ models: [cpu({ shadow: { version: 1, percent: 5 } })] })).toThrow(
      "model 'm': shadow.version must be another version than liveVersion, received 1",
    );
  });

  it("takes a shadow on cpu models only, and compareWithLive as a boolean", () => {
    expect(() => defineCatalog({ models: [gpu({ shadow: { version: 2, percent: 5 } })] })).toThrow(
      "model 'g': shadow must be set on a cpu model only, received \"gpu\"",
    );
    expect(() => defineCatalog({ models: [cpu({ compareWithLive: "yes" as unknown as boolean })] })).toThrow(
      "model 'm': compareWithLive must be a boolean",
    );
    const [m] = defineCatalog({
      models: [cpu({ shadow: { version: 2, percent: 5 }, compareWithLive: true })],
    }).models;
    expect(m?.compareWithLive).toBe(true);
    expect(() =>
      defineCatalog({ models: [cpu({ alarms: { shadowDisagreementRatePercent: 101 } })] }),
    ).toThrow("alarms.shadowDisagreementRatePercent must be at most 100");
  });
});
