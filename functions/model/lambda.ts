/**
 * The model function on Lambda: one function per model, its `live` alias invoked by the gateway
 * with a transport event (layers/transport). The live version loads during init (top-level await),
 * so the first request finds it warm; a pinned version loads on demand.
 */
import type { Context } from "aws-lambda";
import { handleTransportEvent, type TransportResult } from "../../layers/transport";
import { modelService } from "./service";

// One request per instance at a time: a batcher would only add its queue delay to each.
const service = modelService({ batching: false });
try {
  await service.warm();
} catch (e) {
  // The instance stays up: the engine retries the load on a later request, which then answers 503.
  service.logger.error("live model version failed to load during init", {
    error: e instanceof Error ? e.message : String(e),
  });
}

/** A failure that is ours, not the caller's: thrown so Lambda's Errors metric (and rollback alarms) see it. */
class InternalError extends Error {
  override name = "InternalError";
}

/** Runs one transport event; domain errors are answered as `{ ok: false, kind }`, internal ones thrown. */
export async function handler(event: unknown, context: Context): Promise<TransportResult> {
  service.logger.debug("invocation", { requestId: context.awsRequestId });
  const result = await handleTransportEvent(service.backend, event, service.logger);
  if (!result.ok && result.kind === "internal") throw new InternalError(result.error);
  return result;
}
