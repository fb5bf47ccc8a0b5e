/**
 * Inference metrics per model: Prometheus text at /metrics (names after Triton's nv_inference_*)
 * and, on Lambda, CloudWatch EMF lines with the names the CDK dashboard reads.
 */
import { ERROR_TABLE } from "../errors";
import { EMF_NAMESPACE, EmfBuffer } from "./emf";
import { ModelStats } from "./model-stats";
import { type Counter, type Histogram, Registry } from "./registry";

/** Phases of a request, in order. */
export const PHASES = ["queue", "decode", "infer", "encode"] as const;
/** One phase of a request: queue wait, input decode, inference, output encode. */
export type Phase = (typeof PHASES)[number];

/** Error kinds that are the server's fault; any other failure is the client's (4xx). */
const SERVER_KINDS: ReadonlySet<string> = new Set(
  Object.entries(ERROR_TABLE)
    .filter(([, info]) => info.status >= 500)
    .map(([kind]) => kind),
);

/** What happened to one request. */
export interface RequestOutcome {
  /** Model the request named; pass a fixed placeholder (e.g. "_unknown") for models that do not exist. */
  model: string;
  /** Version that answered, if known. */
  version?: string;
  /** HTTP status of the response. */
  status: number;
  /** The error kind (layers/errors.ts) of a failed request. */
  reason?: string;
  /** Inferences in the request (batch size). @default 1 */
  batchSize?: number;
  /** Wall time of the whole request, ms. */
  durationMs: number;
  /** Time per phase, ms; phases left out are not recorded. */
  phases?: Partial<Record<Phase, number>>;
  /** Served from the result cache. */
  cached?: boolean;
  /** The result cache was asked and had no answer. */
  cacheMiss?: boolean;
}

/** Options of Metrics. */
export interface MetricsOptions {
  /** Buckets of the request duration histogram, ms. */
  buckets?: readonly number[];
  /** Also buffer EMF for toEMF(); leave off where nothing flushes it. @default false */
  emf?: boolean;
  /** @default "EdgeInfer" */
  namespace?: string;
  /** Label sets kept per metric. @default 1000 */
  maxSeries?: number;
}

/** Request duration buckets, ms: sub-millisecond cache hits up to Lambda cold starts. */
export const DEFAULT_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

const PHASE_METRIC: Record<Phase, { prom: string; emf: string; help: string }> = {
  queue: {
    prom: "nv_inference_queue_duration_us",
    emf: "queue_ms",
    help: "Cumulative time requests spent queued, us",
  },
  decode: {
    prom: "nv_inference_compute_input_duration_us",
    emf: "decode_ms",
    help: "Cumulative time decoding inputs, us",
  },
  infer: {
    prom: "nv_inference_compute_infer_duration_us",
    emf: "infer_ms",
    help: "Cumulative inference time, us",
  },
  encode: {
    prom: "nv_inference_compute_output_duration_us",
    emf: "encode_ms",
    help: "Cumulative time encoding outputs, us",
  },
};

/** Label sets whose bound series are kept per Metrics (model × version); past it, series are keyed per call. */
const MAX_BOUND = 256;

type Inc = (by?: number) => void;

/** The series of one (model, version), bound on first use so recording a request re-keys nothing. */
interface BoundSeries {
  success: Inc;
  count: Inc;
  duration: Inc;
  histogram: (value: number) => void;
  phases: Record<Phase, Inc>;
  /** By status code. */
  responses: Map<number, Inc>;
  /** By reason. */
  failures: Map<string, Inc>;
}

/** True when a failure with this status/reason counts as a server error (5xx). */
export function isServerError(status: number, reason: string | undefined): boolean {
  if (status >= 500) return true;
  if (status >= 400) return false;
  return reason !== undefined && SERVER_KINDS.has(reason);
}

/** The per-model inference metrics of one process. */
export class Metrics {
  readonly registry: Registry;
  /** The same requests in Triton's statistics shape (`GET /v2/models/stats`). */
  readonly stats = new ModelStats();
  readonly #emf: EmfBuffer | undefined;
  readonly #success: Counter;
  readonly #failure: Counter;
  readonly #responses: Counter;
  readonly #count: Counter;
  readonly #duration: Counter;
  readonly #phases: Record<Phase, Counter>;
  readonly #cacheHits: Counter;
  readonly #cacheMisses: Counter;
  readonly #histogram: Histogram;
  readonly #bound = new Map<string, Map<string, BoundSeries>>();
  #boundCount = 0;

  constructor(options: MetricsOptions = {}) {
    const r = new Registry(options.maxSeries);
    this.registry = r;
    const mv = ["model", "version"];
    this.#success = r.counter("nv_inference_request_success", "Successful inference requests", mv);
    this.#failure = r.counter("nv_inference_request_failure", "Failed inference requests by reason", [
      ...mv,
      "reason",
    ]);
    this.#responses = r.counter("edgeinfer_http_responses", "Responses by HTTP status code", [
      "model",
      "code",
    ]);
    this.#count = r.counter("nv_inference_count", "Inferences performed (a batch of n counts n)", mv);
    this.#duration = r.counter("nv_inference_request_duration_us", "Cumulative request duration, us", mv);
    this.#phases = {
      queue: r.counter(PHASE_METRIC.queue.prom, PHASE_METRIC.queue.help, mv),
      decode: r.counter(PHASE_METRIC.decode.prom, PHASE_METRIC.decode.help, mv),
      infer: r.counter(PHASE_METRIC.infer.prom, PHASE_METRIC.infer.help, mv),
      encode: r.counter(PHASE_METRIC.encode.prom, PHASE_METRIC.encode.help, mv),
    };
    this.#cacheHits = r.counter("nv_cache_num_hits_per_model", "Result cache hits", ["model"]);
    this.#cacheMisses = r.counter("nv_cache_num_misses_per_model", "Result cache misses", ["model"]);
    this.#histogram = r.histogram(
      "nv_inference_request_duration_ms",
      "Request duration, ms",
      ["model"],
      options.buckets ?? DEFAULT_BUCKETS_MS,
    );
    this.#emf = options.emf === true ? new EmfBuffer(options.namespace ?? EMF_NAMESPACE, "model") : undefined;
  }

  /** Records a finished request (success or failure) with its timings. */
  recordRequest(o: RequestOutcome): void {
    this.stats.record(o);
    const b = this.#seriesOf(o.model, o.version ?? "");
    const ok = o.status < 400;
    if (ok) {
      b.success();
      b.count(o.batchSize ?? 1);
    } else {
      const reason = o.reason ?? `http_${o.status}`;
      let failure = b.failures.get(reason);
      if (failure === undefined) {
        failure = this.#failure.bind({ model: o.model, version: o.version ?? "", reason });
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
      if (ms === undefined) continue;
      b.phases[phase](Math.round(ms * 1000));
      this.#emf?.observe(o.model, PHASE_METRIC[phase].emf, ms);
    }
    if (this.#emf !== undefined) {
      this.#emf.count(o.model, "requests");
      this.#emf.count(o.model, "errors", !ok && isServerError(o.status, o.reason) ? 1 : 0);
      this.#emf.count(o.model, "client_errors", !ok && !isServerError(o.status, o.reason) ? 1 : 0);
      this.#emf.observe(o.model, "latency_ms", o.durationMs);
    }
  }

  /**
   * The bound series of (model, version): each is created in the registry at its first increment,
   * exactly as `inc` would. Kept for at most MAX_BOUND label sets, so invented versions cannot grow it.
   */
  #seriesOf(model: string, version: string): BoundSeries {
    const cached = this.#bound.get(model)?.get(version);
    if (cached !== undefined) return cached;
    const labels = { model, version };
    const b: BoundSeries = {
      success: this.#success.bind(labels),
      count: this.#count.bind(labels),
      duration: this.#duration.bind(labels),
      histogram: this.#histogram.bind({ model }),
      phases: {
        queue: this.#phases.queue.bind(labels),
        decode: this.#phases.decode.bind(labels),
        infer: this.#phases.infer.bind(labels),
        encode: this.#phases.encode.bind(labels),
      },
      responses: new Map(),
      failures: new Map(),
    };
    if (this.#boundCount < MAX_BOUND) {
      let byVersion = this.#bound.get(model);
      if (byVersion === undefined) {
        byVersion = new Map();
        this.#bound.set(model, byVersion);
      }
      byVersion.set(version, b);
      this.#boundCount++;
    }
    return b;
  }

  /** Counts a result-cache hit. */
  cacheHit(model: string): void {
    this.#cacheHits.inc({ model });
    this.#emf?.count(model, "cache_hits");
  }

  /** Counts a result-cache miss. */
  cacheMiss(model: string): void {
    this.#cacheMisses.inc({ model });
    this.#emf?.count(model, "cache_misses");
  }

  /** Prometheus text exposition (content type `text/plain; version=0.0.4`). */
  renderPrometheus(): string {
    return this.registry.render();
  }

  /**
   * EMF lines (one JSON document per model) for what was recorded since the last call, which they
   * replace; print each on its own stdout line on Lambda. Empty unless constructed with `emf: true`.
   */
  toEMF(timestamp?: number): string[] {
    return this.#emf?.flush(timestamp) ?? [];
  }
}

/** Content type of renderPrometheus()'s output. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
