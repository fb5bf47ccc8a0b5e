/** What every ModelRepository must do alike, written once for the file and S3 tests. */
import { expect, test } from "vitest";
import { ModelNotFound } from "../../../layers/errors";
import type { ModelRepository } from "../../../layers/repository";

/** Runs `fn` and returns what it rejected with. */
export async function rejection(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

/** A test per name: each is ModelNotFound for every call (never read, never a path outside). */
export function illegalNamesAreNotFound(names: string[], repo: () => ModelRepository): void {
  test.each(names)("illegal name %j is ModelNotFound, never read", async (name) => {
    const r = repo();
    for (const call of [() => r.readConfig(name), () => r.listVersions(name), () => r.fetchModel(name, 1)]) {
      const e = await rejection(call);
      expect(e).toBeInstanceOf(ModelNotFound);
      expect(e.message).toBe(`model '${name}' not found in repository`);
    }
  });
}
