/**
 * Model descriptions (signature, config) kept per model and version, so that requests are validated
 * without asking the backend (a bad request costs no invocation) and concurrent misses share one call.
 */
import type { ModelDescription } from "../backend/contract";

interface Slot {
  promise: Promise<ModelDescription>;
  expiresAt: number;
}

/** A TTL map of in-flight or settled describe calls; failures are not kept. */
export class DescribeCache {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached description of (model, version), or the result of `load` stored for ttlMs. */
  get(
    model: string,
    version: number | undefined,
    load: () => Promise<ModelDescription>,
  ): Promise<ModelDescription> {
    const key = `${model}\u0000${version ?? ""}`;
    const slot = this.slots.get(key);
    if (slot !== undefined && slot.expiresAt > this.now()) return slot.promise;
    const promise = load();
    const fresh: Slot = { promise, expiresAt: this.now() + this.ttlMs };
    this.slots.set(key, fresh);
    promise.catch(() => {
      if (this.slots.get(key) === fresh) this.slots.delete(key);
    });
    return promise;
  }

  /** Forgets every version of `model` (after it was loaded or unloaded). */
  forget(model: string): void {
    for (const key of this.slots.keys()) if (key.startsWith(`${model}\u0000`)) this.slots.delete(key);
  }

  /** Forgets everything (e.g. after a deployment). */
  clear(): void {
    this.slots.clear();
  }
}
