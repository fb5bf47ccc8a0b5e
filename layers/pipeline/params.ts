/** Processor parameters from config.json, read once at load with messages naming the step and field. */
import { ModelNotReady } from "../errors";

/** Reads one processor step's `parameters`; unknown names are refused (typos must not pass silently). */
export class Params {
  private readonly used = new Set<string>();

  constructor(
    private readonly raw: Readonly<Record<string, unknown>>,
    private readonly where: string,
  ) {}

  /** A finite number within [min, max], or `fallback` when absent. */
  number(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    this.used.add(name);
    const v = this.raw[name];
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) {
      throw new ModelNotReady(
        `${this.where}: parameters.${name} must be a number in [${min}, ${max}], received ${JSON.stringify(v)}`,
      );
    }
    return v;
  }

  /** An integer within [min, max], or `fallback` when absent. */
  integer(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.number(name, fallback, min, max);
    if (!Number.isSafeInteger(v))
      throw new ModelNotReady(`${this.where}: parameters.${name} must be an integer, received ${v}`);
    return v;
  }

  /** A non-empty string (required). */
  string(name: string): string {
    this.used.add(name);
    const v = this.raw[name];
    if (typeof v !== "string" || v === "") {
      throw new ModelNotReady(
        `${this.where}: parameters.${name} must be a non-empty string, received ${JSON.stringify(v) ?? "nothing"}`,
      );
    }
    return v;
  }

  /** Refuses any parameter no reader asked for. */
  done(): void {
    const unknown = Object.keys(this.raw).filter((k) => !this.used.has(k));
    if (unknown.length > 0) {
      const allowed = [...this.used].join(", ") || "none";
      throw new ModelNotReady(`${this.where}: unknown parameter '${unknown[0]}' (allowed: ${allowed})`);
    }
  }
}
