/**
 * A consecutive-failure circuit breaker: after `threshold` failures in a row the protected call is
 * skipped for `cooldownMs`, then one probe is let through (half-open); its success closes the circuit,
 * its failure opens it for another cool-down. So a down store costs its timeout `threshold` times, not
 * on every request.
 */
import { type Clock, systemClock } from "./types";

/** Options of CircuitBreaker. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  threshold?: number;
  /** How long the circuit stays open before a probe. @default 10_000 */
  cooldownMs?: number;
  /** Milliseconds clock. @default Date.now */
  now?: Clock;
}

/** State of the circuit, for logs and tests. */
export type CircuitState = "closed" | "open" | "half-open";

/** Tracks failures of one dependency and says whether to call it. */
export class CircuitBreaker {
  readonly threshold: number;
  readonly cooldownMs: number;
  private readonly now: Clock;
  private failures = 0;
  private openedAt: number | undefined;
  private probing = false;

  constructor(options: CircuitBreakerOptions = {}) {
    this.threshold = options.threshold ?? 5;
    this.cooldownMs = options.cooldownMs ?? 10_000;
    this.now = options.now ?? systemClock;
  }

  /** The current state. */
  get state(): CircuitState {
    if (this.openedAt === undefined) return "closed";
    return this.now() - this.openedAt >= this.cooldownMs ? "half-open" : "open";
  }

  /** True when a call may go ahead; in half-open state only one probe at a time is allowed. */
  allow(): boolean {
    const s = this.state;
    if (s === "closed") return true;
    if (s === "open" || this.probing) return false;
    this.probing = true;
    return true;
  }

  /** Records a successful call: closes the circuit. */
  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.probing = false;
  }

  /** Ends a call that says nothing about the dependency's health (e.g. a value too large to send). */
  release(): void {
    this.probing = false;
  }

  /**
   * Records a failed call; opens (or re-opens) the circuit at the threshold or after a failed probe.
   * True when this failure is the one that opened a closed circuit (worth one log line).
   */
  failure(): boolean {
    const wasClosed = this.openedAt === undefined;
    this.failures++;
    if (this.probing || this.failures >= this.threshold) this.openedAt = this.now();
    this.probing = false;
    return wasClosed && this.openedAt !== undefined;
  }
}
