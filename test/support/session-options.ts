/** Session options of tests: config.json's defaults for a CPU model (configlessConfig), with changes. */
import { configlessConfig } from "../../layers/repository/config";
import type { SessionOptions } from "../../layers/repository/types";

/** `optimization` as a CPU model without one gets it, with `changes` on top. */
export function cpuOptions(changes: Partial<SessionOptions> = {}): SessionOptions {
  return { ...configlessConfig("test").optimization, ...changes };
}
