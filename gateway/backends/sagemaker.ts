/**
 * A model served by a SageMaker real-time endpoint running the model container (GPU): InvokeEndpoint
 * with the transport event as the JSON body. The container answers domain errors with their HTTP
 * status (so SageMaker's 4xx/5xx metrics mean something) and the transport failure as the body,
 * which SageMaker hands back in ModelError.OriginalMessage.
 */
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from "@aws-sdk/client-sagemaker-runtime";
import {
  BackendFailure,
  BackendTimeout,
  InferenceError,
  ModelNotReady,
  Overloaded,
} from "../../layers/errors";
import { isAbort, RemoteBackend } from "./remote";

const utf8 = new TextEncoder();

/** Backend over `sagemaker:InvokeEndpoint`. */
export class SageMakerBackend extends RemoteBackend<SageMakerRuntimeClient> {
  protected async invoke(
    model: string,
    payload: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array> {
    try {
      const out = await this.client.send(
        new InvokeEndpointCommand({
          EndpointName: this.target,
          ContentType: "application/json",
          Accept: "application/json",
          Body: payload,
        }),
        { abortSignal: signal },
      );
      if (out.Body === undefined) throw new BackendFailure(`model '${model}' returned no body`);
      return out.Body;
    } catch (e) {
      return fromError(model, e, signal);
    }
  }
}

/** A container's own error answer goes on to be parsed as a transport failure; the rest is mapped here. */
function fromError(model: string, e: unknown, signal: AbortSignal | undefined): Uint8Array {
  if (e instanceof InferenceError) throw e;
  if (isAbort(e, signal)) throw new BackendTimeout(`model '${model}' call was aborted`, { cause: e });
  const name = e instanceof Error ? e.name : "";
  if (name === "ModelError") {
    const original = (e as { OriginalMessage?: unknown }).OriginalMessage;
    if (typeof original === "string" && original.startsWith("{")) return utf8.encode(original);
    throw new BackendFailure(`model '${model}' container failed`, { cause: e });
  }
  if (name === "ThrottlingException" || name === "ServiceUnavailable") {
    throw new Overloaded(`model '${model}' endpoint is throttled`, 1);
  }
  if (name === "ModelNotReadyException")
    throw new ModelNotReady(`model '${model}' is not ready`, { cause: e });
  throw new BackendFailure(`model '${model}' endpoint could not be invoked`, { cause: e });
}
