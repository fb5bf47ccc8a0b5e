/**
 * A model served by its own Lambda function: Invoke on the function's `live` alias (the catalog
 * target). A pinned model version travels in the event: the same function loads it on demand.
 */
import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from "@aws-sdk/client-lambda";
import {
  BackendFailure,
  BackendTimeout,
  type ErrorKind,
  InferenceError,
  ModelNotReady,
  Overloaded,
  PayloadTooLarge,
} from "../../layers/errors";
import { isAbort, RemoteBackend } from "./remote";

/** Backend over `lambda:Invoke` (RequestResponse). */
export class LambdaBackend extends RemoteBackend<LambdaClient> {
  protected async invoke(
    model: string,
    payload: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    let out: InvokeCommandOutput;
    try {
      out = await this.client.send(new InvokeCommand({ FunctionName: this.target, Payload: payload }), {
        abortSignal: signal,
      });
    } catch (e) {
      throw invokeError(model, e, signal);
    }
    if (out.FunctionError !== undefined) throw functionError(model, out.Payload);
    if (out.Payload === undefined) throw new BackendFailure(`model '${model}' returned no payload`);
    return out.Payload;
  }
}

/** Maps an Invoke API failure (the function never ran, or ran out of time). */
function invokeError(model: string, e: unknown, signal: AbortSignal | undefined): InferenceError {
  if (e instanceof InferenceError) return e;
  if (isAbort(e, signal)) return new BackendTimeout(`model '${model}' call was aborted`, { cause: e });
  const name = e instanceof Error ? e.name : "";
  if (name === "TooManyRequestsException" || name === "EC2ThrottledException") {
    return new Overloaded(`model '${model}' is throttled`, 1);
  }
  if (name === "RequestTooLargeException") {
    return new PayloadTooLarge(`request for model '${model}' exceeds the function's payload limit`);
  }
  return new BackendFailure(`model '${model}' could not be invoked`, { cause: e });
}

/**
 * Maps a function error (`X-Amz-Function-Error`): the handler threw, crashed, or timed out. The
 * model function throws with the error kind as `errorType` when its live version fails
 * (functions/model/live.ts): `model_not_ready` is a 503, the rest a 502. The payload's message
 * stays in the cause, for logs only.
 */
function functionError(model: string, payload: Uint8Array | undefined): InferenceError {
  let errorType = "Unknown";
  let errorMessage = "";
  try {
    const body = JSON.parse(new TextDecoder().decode(payload)) as {
      errorType?: unknown;
      errorMessage?: unknown;
    };
    if (typeof body.errorType === "string") errorType = body.errorType;
    if (typeof body.errorMessage === "string") errorMessage = body.errorMessage;
  } catch {
    // An unreadable payload is still a function error.
  }
  const cause = new Error(`${errorType}: ${errorMessage}`);
  if (errorType === "Function.ResponseSizeTooLarge") {
    // The client can fix this one: binary outputs are smaller than JSON, and fewer are smaller still.
    return new PayloadTooLarge(
      `the answer of model '${model}' exceeds Lambda's 6 MB payload limit; ask for binary outputs, fewer outputs or a smaller batch`,
    );
  }
  if (/timed ?out/i.test(errorType) || /Task timed out/.test(errorMessage)) {
    return new BackendTimeout(`model '${model}' function timed out`, { cause });
  }
  if (errorType === ("model_not_ready" satisfies ErrorKind)) {
    return new ModelNotReady(`model '${model}' is not ready`, { cause });
  }
  return new BackendFailure(`model '${model}' function failed`, { cause });
}
