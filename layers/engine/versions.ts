/** Which versions a version_policy serves, and which one answers when none is named. */
import type { VersionPolicy } from "../repository/types";

/** Versions served among `available`, ascending (Triton semantics of latest / all / specific). */
export function servableVersions(policy: VersionPolicy, available: readonly number[]): number[] {
  const sorted = [...new Set(available)].sort((a, b) => a - b);
  if ("latest" in policy) return sorted.slice(Math.max(0, sorted.length - policy.latest.num_versions));
  if ("specific" in policy) return sorted.filter((v) => policy.specific.versions.includes(v));
  return sorted;
}

/** The version that answers unversioned requests: the highest servable one. */
export function defaultVersion(servable: readonly number[]): number | undefined {
  return servable.length === 0 ? undefined : Math.max(...servable);
}

/** How many versions the policy names (0 for `all`, which names none). */
export function policyCount(policy: VersionPolicy): number {
  if ("latest" in policy) return policy.latest.num_versions;
  if ("specific" in policy) return policy.specific.versions.length;
  return 0;
}
