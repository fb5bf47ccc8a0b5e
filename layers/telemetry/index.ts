/**
 * Telemetry: structured logs, metrics (CloudWatch EMF) and phase timing. The Prometheus metrics
 * (./prometheus) are left out on purpose: import them only where /metrics is served, so prom-client
 * stays out of the gateway's Lambda bundle.
 */
export { EMF_DIMENSION, EMF_NAMESPACE, EmfMetrics, emfCounts } from "./emf";
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
  PHASES,
  type Phase,
  type RequestMetrics,
  type RequestOutcome,
} from "./metrics";
export { fromPowertools, type PowertoolsLoggerLike } from "./powertools";
export { PhaseTimer, roundMs, serverTiming } from "./timing";
