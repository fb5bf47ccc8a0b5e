import { describe, expect, it } from "vitest";
import { defaultVersion, policyCount, servableVersions } from "../../../layers/engine/versions";

describe("version policy", () => {
  it("latest n serves the n highest available versions", () => {
    expect(servableVersions({ latest: { num_versions: 2 } }, [3, 1, 10, 2])).toEqual([3, 10]);
    expect(servableVersions({ latest: { num_versions: 5 } }, [2, 1])).toEqual([1, 2]);
    expect(defaultVersion([3, 10])).toBe(10);
  });

  it("all serves every available version", () => {
    expect(servableVersions({ all: {} }, [2, 1, 2])).toEqual([1, 2]);
  });

  it("specific serves the listed versions that exist; the default is the highest of them", () => {
    const servable = servableVersions({ specific: { versions: [1, 3, 9] } }, [1, 2, 3, 4]);
    expect(servable).toEqual([1, 3]);
    expect(defaultVersion(servable)).toBe(3);
  });

  it("has no default when nothing is servable", () => {
    expect(defaultVersion(servableVersions({ specific: { versions: [7] } }, [1]))).toBeUndefined();
  });

  it("counts the versions a policy names", () => {
    expect(policyCount({ latest: { num_versions: 3 } })).toBe(3);
    expect(policyCount({ specific: { versions: [1, 4] } })).toBe(2);
    expect(policyCount({ all: {} })).toBe(0);
  });
});
