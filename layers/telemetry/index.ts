/** Telemetry: structured logs, metrics (Prometheus, CloudWatch EMF) and phase timing. */
export { EMF_NAMESPACE, EmfBuffer, emfCounts } from "./emf";
export {
  createLogger,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  type LogSink,
  parseLogLevel,
  silentLogger,
} from "./logger";
export {
  DEFAULT_BUCKETS_MS,
  isServerError,
  Metrics,
  type MetricsOptions,
  PHASES,
  type Phase,
  PROMETHEUS_CONTENT_TYPE,
  type RequestOutcome,
} from "./metrics";
export { fromPowertools, type PowertoolsLoggerLike } from "./powertools";
export { Counter, Histogram, type Labels, Registry } from "./registry";
export { PhaseTimer, serverTiming } from "./timing";
