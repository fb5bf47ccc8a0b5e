/**
 * The model function on Lambda: one function per model, its `live` alias invoked by the gateway
 * with a transport event (layers/transport). The live version loads during init (top-level await),
 * so the first request finds it warm; a pinned version loads on demand.
 */
import type { Context } from "aws-lambda";
import type { TransportResult } from "../../layers/transport";
import { runInvocation } from "./live";
import { modelService } from "./service";

// One request per instance at a time: a batcher would only add its queue delay to each.
const service = modelService({ batching: false });
try {
  await service.warm();
} catch (e) {
  // The instance stays up: each invocation for the live version retries the load (the engine
  // spaces the retries) and fails while it fails, so Lambda's Errors metric sees it.
  service.logger.error("live model version failed to load during init", {
    error: e instanceof Error ? e.message : String(e),
  });
}

/**
 * Runs one transport event. Domain errors are answered as `{ ok: false, kind }`; a failure of the
 * live version throws (a function error), see live.ts. The run metrics leave with every invocation.
 */
export async function handler(event: unknown, context: Context): Promise<TransportResult> {
  service.logger.debug("invocation", { requestId: context.awsRequestId });
  try {
    return await runInvocation(service, event, context.awsRequestId);
  } finally {
    service.metrics.flush();
  }
}
