/**
 * Inference metrics per model, as both sinks record them: Prometheus (prometheus.ts, prom-client:
 * local mode and the model container, names after Triton's nv_inference_*) and CloudWatch EMF
 * (emf.ts, Powertools Metrics: the gateway on Lambda, names the CDK dashboard reads).
 */
import { ERROR_TABLE } from "../errors";

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

/** Request duration buckets, ms: sub-millisecond cache hits up to Lambda cold starts. */
export const DEFAULT_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

/** Each phase's Prometheus counter (cumulative us) and EMF metric (ms). */
export const PHASE_METRIC: Record<Phase, { prom: string; emf: string; help: string }> = {
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

/** True when a failure with this status/reason counts as a server error (5xx). */
export function isServerError(status: number, reason: string | undefined): boolean {
  if (status >= 500) return true;
  if (status >= 400) return false;
  return reason !== undefined && SERVER_KINDS.has(reason);
}

/** What records requests: the Prometheus registry or the EMF buffer. */
export interface RequestMetrics {
  /** Records a finished request (success or failure) with its timings. */
  recordRequest(o: RequestOutcome): void;
  /** Counts a result-cache hit. */
  cacheHit(model: string): void;
  /** Counts a result-cache miss. */
  cacheMiss(model: string): void;
  /** The documents to print after each request (EMF, on Lambda); absent where metrics are scraped. */
  flush?(): string[];
}
