/**
 * The order of timeouts along a request, so every layer gives up after the one below it and a
 * client gets the protocol's JSON 504 rather than CloudFront's page or an orphaned model run:
 * model (Lambda timeout, or the GPU container's deadline, itself below SageMaker's 60 s)
 * < gateway backend deadline < gateway function timeout < CloudFront origin read timeout <= 60 s.
 */
import { type Catalog, CatalogError } from "./model-spec";

/** SageMaker real-time endpoints end an invocation after this. */
export const SAGEMAKER_INVOCATION_LIMIT_S = 60;
/** CloudFront's origin read timeout without a quota increase. */
export const CLOUDFRONT_MAX_READ_TIMEOUT_S = 60;
/** What the gateway keeps, after its backend deadline, to answer before Lambda ends it. */
const GATEWAY_MARGIN_MS = 2_000;
/** What CloudFront waits beyond the gateway's own timeout. */
const ORIGIN_MARGIN_S = 5;

/** The gateway's deadlines for a gateway function timeout. */
export interface GatewayTimeouts {
  readonly gatewayTimeoutS: number;
  /** BACKEND_TIMEOUT_MS: how long the gateway waits for any model. */
  readonly backendDeadlineMs: number;
  /** CloudFront's origin read timeout. */
  readonly originReadTimeoutS: number;
}

/** Backend deadline and CloudFront read timeout that follow a gateway timeout. */
export function gatewayTimeouts(gatewayTimeoutS: number): GatewayTimeouts {
  return {
    gatewayTimeoutS,
    backendDeadlineMs: Math.max(1_000, gatewayTimeoutS * 1000 - GATEWAY_MARGIN_MS),
    originReadTimeoutS: Math.min(CLOUDFRONT_MAX_READ_TIMEOUT_S, gatewayTimeoutS + ORIGIN_MARGIN_S),
  };
}

/**
 * Throws CatalogError naming the model and the fields when a catalog line (or the gateway timeout)
 * breaks the order.
 */
export function checkTimeouts(catalog: Catalog, gatewayTimeoutS: number): GatewayTimeouts {
  const t = gatewayTimeouts(gatewayTimeoutS);
  if (!(t.gatewayTimeoutS < t.originReadTimeoutS)) {
    throw new CatalogError(
      `gateway timeout (${gatewayTimeoutS} s) must be below CloudFront's origin read timeout, at most ${CLOUDFRONT_MAX_READ_TIMEOUT_S} s`,
    );
  }
  for (const m of catalog.models) {
    const field =
      m.backend === "cpu" ? "timeoutSeconds (Lambda timeout)" : "timeoutSeconds (container deadline)";
    if (m.backend === "gpu" && !(m.timeoutSeconds < SAGEMAKER_INVOCATION_LIMIT_S)) {
      throw new CatalogError(
        `model '${m.name}': ${field} ${m.timeoutSeconds} s must be below SageMaker's ${SAGEMAKER_INVOCATION_LIMIT_S} s invocation limit`,
      );
    }
    if (!(m.timeoutSeconds * 1000 < t.backendDeadlineMs)) {
      throw new CatalogError(
        `model '${m.name}': ${field} ${m.timeoutSeconds} s must be below the gateway's backend deadline ` +
          `${t.backendDeadlineMs / 1000} s (gateway timeout ${gatewayTimeoutS} s - ${GATEWAY_MARGIN_MS / 1000} s); ` +
          "lower the model's timeoutSeconds or raise the gateway timeout",
      );
    }
  }
  return t;
}
