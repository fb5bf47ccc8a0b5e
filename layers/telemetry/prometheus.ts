/**
 * Prometheus metrics through prom-client, with Triton's names (nv_inference_*), for GET /metrics in
 * local mode and the model container. Import this file only where /metrics is served: it keeps
 * prom-client out of the gateway's Lambda bundle (layers/telemetry/index.ts does not re-export it).
 * Label sets per metric are capped, so a client that invents model names cannot grow memory or the
 * page without bound.
 */
import { Counter, Histogram, Registry } from "prom-client";
import {
  DEFAULT_BUCKETS_MS,
  PHASE_METRIC,
  PHASES,
  type Phase,
  type RequestMetrics,
  type RequestOutcome,
} from "./metrics";

/** Label names and values of one series. */
export type Labels = Record<string, string>;
/** Series kept per metric before new label sets fold into one `_other` series. */
export const DEFAULT_MAX_SERIES = 1_000;
/** The label value that overflowing series are folded into. */
export const OVERFLOW_LABEL = "_other";

/** Options of PrometheusMetrics. */
export interface PrometheusOptions {
  /** Buckets of the request duration histogram, ms. @default DEFAULT_BUCKETS_MS */
  buckets?: readonly number[];
  /** Label sets kept per metric. @default 1000 */
  maxSeries?: number;
}

type Record1 = (value?: number) => void;

/** Counters never go down: NaN, infinities and negatives are dropped. */
const countable = (v: number) => v >= 0 && v !== Number.POSITIVE_INFINITY;

/** A prom-client counter or histogram whose label sets are capped at `max`. */
class Capped {
  readonly #seen = new Set<string>();
  readonly #overflow: Labels;

  constructor(
    readonly names: readonly string[],
    readonly max: number,
    readonly record: (labels: Labels, value: number) => void,
    /** Values outside it are dropped (they would throw in prom-client). */
    readonly accepts: (value: number) => boolean = countable,
  ) {
    this.#overflow = Object.fromEntries(names.map((n) => [n, OVERFLOW_LABEL]));
  }

  /** `labels` while they are known or there is room for them, else the `_other` set. */
  #admit(labels: Labels): Labels {
    const id = this.names.map((n) => labels[n]).join("\u0000");
    if (this.#seen.has(id)) return labels;
    if (this.#seen.size >= this.max) return this.#overflow;
    this.#seen.add(id);
    return labels;
  }

  /** Records `value` under `labels`; a value `accepts` refuses is dropped. */
  add(labels: Labels, value = 1): void {
    if (this.accepts(value)) this.record(this.#admit(labels), value);
  }

  /**
   * `add` for one fixed label set, admitted at its first valid record (as `add` would) and then
   * kept, so the hot path does not re-key it.
   */
  bind(labels: Labels): Record1 {
    let admitted: Labels | undefined;
    return (value = 1) => {
      if (!this.accepts(value)) return;
      admitted ??= this.#admit(labels);
      this.record(admitted, value);
    };
  }
}

/** The series of one (model, version), bound on first use so recording a request re-keys nothing. */
interface BoundSeries {
  success: Record1;
  count: Record1;
  duration: Record1;
  histogram: Record1;
  phases: Record<Phase, Record1>;
  /** By status code. */
  responses: Map<number, Record1>;
  /** By reason. */
  failures: Map<string, Record1>;
}

/** (model, version) pairs whose bound series are kept; past it, series are keyed per call. */
const MAX_BOUND = 256;

/** The per-model inference metrics of one process, on a prom-client registry of its own. */
export class PrometheusMetrics implements RequestMetrics {
  readonly registry = new Registry();
  /** Content type of render()'s output. */
  readonly contentType: string = this.registry.contentType;
  readonly #maxSeries: number;
  readonly #success: Capped;
  readonly #failure: Capped;
  readonly #responses: Capped;
  readonly #count: Capped;
  readonly #duration: Capped;
  readonly #phases: Record<Phase, Capped>;
  readonly #cacheHits: Capped;
  readonly #cacheMisses: Capped;
  readonly #histogram: Capped;
  readonly #bound = new Map<string, BoundSeries>();

  constructor(options: PrometheusOptions = {}) {
    this.#maxSeries = options.maxSeries ?? DEFAULT_MAX_SERIES;
    const mv = ["model", "version"];
    this.#success = this.counter("nv_inference_request_success", "Successful inference requests", mv);
    this.#failure = this.counter("nv_inference_request_failure", "Failed inference requests by reason", [
      ...mv,
      "reason",
    ]);
    this.#responses = this.counter("edgeinfer_http_responses", "Responses by HTTP status code", [
      "model",
      "code",
    ]);
    this.#count = this.counter("nv_inference_count", "Inferences performed (a batch of n counts n)", mv);
    this.#duration = this.counter("nv_inference_request_duration_us", "Cumulative request duration, us", mv);
    const phase = (p: Phase) => this.counter(PHASE_METRIC[p].prom, PHASE_METRIC[p].help, mv);
    this.#phases = {
      queue: phase("queue"),
      decode: phase("decode"),
      infer: phase("infer"),
      encode: phase("encode"),
    };
    this.#cacheHits = this.counter("nv_cache_num_hits_per_model", "Result cache hits", ["model"]);
    this.#cacheMisses = this.counter("nv_cache_num_misses_per_model", "Result cache misses", ["model"]);
    const histogram = new Histogram({
      name: "nv_inference_request_duration_ms",
      help: "Request duration, ms",
      labelNames: ["model"],
      buckets: [...(options.buckets ?? DEFAULT_BUCKETS_MS)],
      registers: [this.registry],
    });
    this.#histogram = new Capped(
      ["model"],
      this.#maxSeries,
      (l, v) => histogram.observe(l, v),
      Number.isFinite,
    );
  }

  /** Registers a capped counter on this registry (label names fixed; values >= 0). */
  private counter(name: string, help: string, labelNames: readonly string[]): Capped {
    const c = new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] });
    return new Capped(labelNames, this.#maxSeries, (l, v) => c.inc(l, v));
  }

  /**
   * Counters whose values are read at each render from `read()` (counts kept elsewhere, e.g. the
   * result cache's): one per entry of `help`, named `<prefix><key>_total`.
   */
  countersFrom<K extends string>(
    prefix: string,
    help: Record<K, string>,
    read: () => Record<K, number>,
  ): void {
    for (const key of Object.keys(help) as K[]) {
      new Counter({
        name: `${prefix}${key}_total`,
        help: help[key],
        registers: [this.registry],
        collect() {
          this.reset();
          this.inc(read()[key]);
        },
      });
    }
  }

  /** A capped counter of someone else's (e.g. the shadow comparison's), on this registry. */
  ownCounter(
    name: string,
    help: string,
    labelNames: readonly string[],
  ): (labels: Labels, by?: number) => void {
    const c = this.counter(name, help, labelNames);
    return (labels, by) => c.add(labels, by);
  }

  /** A capped histogram of someone else's, on this registry; non-finite values are dropped. */
  ownHistogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): (labels: Labels, value: number) => void {
    const h = new Histogram({
      name,
      help,
      labelNames: [...labelNames],
      buckets: [...buckets],
      registers: [this.registry],
    });
    const capped = new Capped(labelNames, this.#maxSeries, (l, v) => h.observe(l, v), Number.isFinite);
    return (labels, value) => capped.add(labels, value);
  }

  recordRequest(o: RequestOutcome): void {
    const version = o.version ?? "";
    const b = this.#seriesOf(o.model, version);
    if (o.status < 400) {
      b.success();
      b.count(o.batchSize ?? 1);
    } else {
      const reason = o.reason ?? `http_${o.status}`;
      let failure = b.failures.get(reason);
      if (failure === undefined) {
        failure = this.#failure.bind({ model: o.model, version, reason });
        b.failures.set(reason, failure);
      }
      failure();
    }
    let responses = b.responses.get(o.status);
    if (responses === undefined) {
      responses = this.#responses.bind({ model: o.model, code: String(o.status) });
      b.responses.set(o.status, responses);
    }
    responses();
    b.duration(Math.round(o.durationMs * 1000));
    b.histogram(o.durationMs);
    for (const phase of PHASES) {
      const ms = o.phases?.[phase];
      if (ms !== undefined) b.phases[phase](Math.round(ms * 1000));
    }
  }

  cacheHit(model: string): void {
    this.#cacheHits.add({ model });
  }

  cacheMiss(model: string): void {
    this.#cacheMisses.add({ model });
  }

  /** The Prometheus text exposition of every metric (content type `contentType`). */
  renderPrometheus(): Promise<string> {
    return this.registry.metrics();
  }

  /** The bound series of (model, version), kept for at most MAX_BOUND pairs so invented versions cannot grow it. */
  #seriesOf(model: string, version: string): BoundSeries {
    const id = `${model}\u0000${version}`;
    const cached = this.#bound.get(id);
    if (cached !== undefined) return cached;
    const labels = { model, version };
    const bind = (c: Capped) => c.bind(labels);
    const b: BoundSeries = {
      success: bind(this.#success),
      count: bind(this.#count),
      duration: bind(this.#duration),
      histogram: this.#histogram.bind({ model }),
      phases: {
        queue: bind(this.#phases.queue),
        decode: bind(this.#phases.decode),
        infer: bind(this.#phases.infer),
        encode: bind(this.#phases.encode),
      },
      responses: new Map(),
      failures: new Map(),
    };
    if (this.#bound.size < MAX_BOUND) this.#bound.set(id, b);
    return b;
  }
}
