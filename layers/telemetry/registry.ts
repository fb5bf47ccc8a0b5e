/**
 * A minimal Prometheus registry: labelled counters and histograms rendered in the text exposition
 * format (version 0.0.4). Label sets per metric are capped, so a client that invents model names
 * cannot grow memory or the /metrics page without bound.
 */

/** Label names and values of one series. */
export type Labels = Record<string, string>;

/** Series kept per metric before new label sets fold into one `_other` series. */
export const DEFAULT_MAX_SERIES = 1_000;
/** The label value that overflowing series are folded into. */
export const OVERFLOW_LABEL = "_other";

/** Escapes a label value: backslash, double quote and newline (the format's rules). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Number.POSITIVE_INFINITY) return "+Inf";
  if (v === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(v);
}

abstract class Metric<S> {
  readonly #series = new Map<string, { labels: Labels; state: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly maxSeries: number,
  ) {}

  protected abstract fresh(): S;

  #pick(labels: Labels): Labels {
    const picked: Labels = {};
    for (const n of this.labelNames) picked[n] = labels[n] ?? "";
    return picked;
  }

  /** The state of the series for `labels` if it exists. */
  protected find(labels: Labels): S | undefined {
    return this.#series.get(JSON.stringify(this.#pick(labels)))?.state;
  }

  /** The state of the series for `labels`, created on first use; unknown label names are ignored. */
  protected series(labels: Labels): S {
    let picked = this.#pick(labels);
    let id = JSON.stringify(picked);
    let entry = this.#series.get(id);
    if (entry === undefined && this.#series.size >= this.maxSeries) {
      picked = Object.fromEntries(this.labelNames.map((n) => [n, OVERFLOW_LABEL]));
      id = JSON.stringify(picked);
      entry = this.#series.get(id);
    }
    if (entry === undefined) {
      entry = { labels: picked, state: this.fresh() };
      this.#series.set(id, entry);
    }
    return entry.state;
  }

  protected entries(): Array<{ labels: Labels; state: S }> {
    return [...this.#series.values()];
  }

  abstract render(): string[];
}

/** A monotonically increasing counter per label set. */
export class Counter extends Metric<{ value: number }> {
  protected fresh() {
    return { value: 0 };
  }

  /** Adds `by` (>= 0) to the series of `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) return; // counters never go down; NaN and negatives are dropped
    this.series(labels).value += by;
  }

  /**
   * `inc` for one fixed label set, without re-keying it on every call: the series is looked up
   * (and created) at the first increment, as `inc` would, then kept.
   */
  bind(labels: Labels): (by?: number) => void {
    let state: { value: number } | undefined;
    return (by = 1) => {
      if (!(by >= 0)) return;
      state ??= this.series(labels);
      state.value += by;
    };
  }

  /** Current value of a series (0 if never incremented). */
  get(labels: Labels = {}): number {
    return this.find(labels)?.value ?? 0;
  }

  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...this.entries().map(
        ({ labels, state }) => `${this.name}${formatLabels(labels)} ${formatValue(state.value)}`,
      ),
    ];
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

/** A histogram with fixed upper bounds per label set. */
export class Histogram extends Metric<HistogramState> {
  readonly buckets: readonly number[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
    maxSeries: number,
  ) {
    super(name, help, labelNames, maxSeries);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }

  protected fresh(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }

  /** Records one observation. */
  observe(labels: Labels, value: number): void {
    if (!Number.isFinite(value)) return;
    this.#record(this.series(labels), value);
  }

  /** `observe` for one fixed label set; the series is looked up at the first observation, then kept. */
  bind(labels: Labels): (value: number) => void {
    let state: HistogramState | undefined;
    return (value) => {
      if (!Number.isFinite(value)) return;
      state ??= this.series(labels);
      this.#record(state, value);
    };
  }

  #record(s: HistogramState, value: number): void {
    s.sum += value;
    s.count++;
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= (this.buckets[i] ?? Number.POSITIVE_INFINITY)) s.counts[i] = (s.counts[i] ?? 0) + 1;
    }
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, state } of this.entries()) {
      this.buckets.forEach((le, i) => {
        const l = formatLabels({ ...labels, le: formatValue(le) });
        lines.push(`${this.name}_bucket${l} ${state.counts[i] ?? 0}`);
      });
      lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: "+Inf" })} ${state.count}`);
      lines.push(`${this.name}_sum${formatLabels(labels)} ${formatValue(state.sum)}`);
      lines.push(`${this.name}_count${formatLabels(labels)} ${state.count}`);
    }
    return lines;
  }
}

/** Holds metrics and renders them all. */
export class Registry {
  readonly #metrics: Array<Counter | Histogram> = [];
  readonly #maxSeries: number;

  constructor(maxSeries = DEFAULT_MAX_SERIES) {
    this.#maxSeries = maxSeries;
  }

  /** Registers a counter. */
  counter(name: string, help: string, labelNames: readonly string[]): Counter {
    const c = new Counter(name, help, labelNames, this.#maxSeries);
    this.#metrics.push(c);
    return c;
  }

  /** Registers a histogram. */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): Histogram {
    const h = new Histogram(name, help, labelNames, buckets, this.#maxSeries);
    this.#metrics.push(h);
    return h;
  }

  /** The Prometheus text exposition of every metric, newline-terminated. */
  render(): string {
    return `${this.#metrics.flatMap((m) => m.render()).join("\n")}\n`;
  }
}
