/** Model versions travel as the protocol's strings; the engine numbers them. */
import { InvalidInput } from "../errors";

const VERSION = /^[1-9][0-9]{0,8}$/;

/** A protocol version string as a number; InvalidInput unless it is a positive integer. */
export function parseVersion(version: string): number {
  if (!VERSION.test(version)) {
    const shown = version.length > 40 ? `${version.slice(0, 40)}…` : version;
    throw new InvalidInput(`model version must be a positive integer, received ${JSON.stringify(shown)}`);
  }
  return Number(version);
}
