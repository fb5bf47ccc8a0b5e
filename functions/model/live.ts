/**
 * How a Lambda invocation of the model function ends. Lambda's `Errors` metric (per alias and per
 * executed version) is what CodeDeploy's rollback alarms watch, so a failure of the function's own
 * live version (MODEL_VERSION) fails the invocation. Everything else is answered as
 * `{ ok: false, kind }`: a client's fault (4xx), and any failure of another version served by the
 * same function (a pinned request), which must not count against the live version.
 */
import type { ErrorKind } from "../../layers/errors";
import { STATUS_OF } from "../../layers/http";
import { parseVersion } from "../../layers/protocol/version";
import { handleTransportEvent, type TransportResult } from "../../layers/transport";
import type { ModelService } from "./service";

/**
 * Fails an invocation. Its `name` is Lambda's `errorType`: the error kind (`model_not_ready`,
 * `internal`, ...), which the gateway maps to its status; the message stays in logs.
 */
export class LiveVersionFailed extends Error {
  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.name = kind;
  }
}

/**
 * True when `raw` addresses the live version: this function's model, with no version or with the
 * live one. Without MODEL_VERSION only unversioned events do (the live version is then the
 * highest one the policy serves, unknown until it loads).
 */
export function addressesLive(raw: unknown, service: ModelService): boolean {
  if (typeof raw !== "object" || raw === null) return false;
  const { model, version } = raw as { model?: unknown; version?: unknown };
  if (model !== service.config.modelName) return false;
  if (version === undefined || version === null) return true;
  const live = service.config.modelVersion;
  if (live === undefined || typeof version !== "string") return false;
  try {
    return parseVersion(version) === live;
  } catch {
    return false;
  }
}

/**
 * Runs one event. For the live version, a load that failed (at init or since; the engine retries
 * it on a later call) and any server-side failure throw LiveVersionFailed; a 4xx is answered.
 */
export async function runInvocation(
  service: ModelService,
  raw: unknown,
  requestId: string,
): Promise<TransportResult> {
  const live = addressesLive(raw, service);
  if (live) {
    try {
      await service.warm();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      service.logger.error("live model version is not ready", { requestId, error: message });
      throw new LiveVersionFailed("model_not_ready", message);
    }
  }
  const result = await handleTransportEvent(service.served, raw, service.logger, requestId);
  if (live && !result.ok && STATUS_OF[result.kind] >= 500) {
    throw new LiveVersionFailed(result.kind, result.error);
  }
  return result;
}
