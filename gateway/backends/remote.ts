/**
 * The part every remote backend shares: it speaks the transport (layers/transport) to a model
 * function and turns the answer back into tensors or domain errors. Subclasses only deliver bytes.
 */

import type { Backend, InferResult, ModelDescription } from "../../layers/backend";
import { BackendFailure } from "../../layers/errors";
import {
  errorOfFailure,
  inferEvent,
  inferResultOf,
  parseTransportResult,
  queryEvent,
  type TransportEvent,
  type TransportResult,
} from "../../layers/transport";

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A backend reached over the transport; `invoke` sends one event's JSON and returns the answer's bytes. */
export abstract class RemoteBackend<Client> implements Backend {
  protected readonly client: Client;
  /** The Lambda alias ARN or SageMaker endpoint name this backend calls. */
  readonly target: string;

  /** `target`: the function name or ARN with its alias (`…:function:ocr-det:live`), or the endpoint name. */
  constructor(options: { client: Client; target: string }) {
    this.client = options.client;
    this.target = options.target;
  }

  /** Sends the event (UTF-8 JSON) for `model`; throws domain errors for transport-level failures. */
  protected abstract invoke(
    model: string,
    payload: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<Uint8Array>;

  /** Metadata and config of the version, as the function sees them. */
  async describe(
    model: string,
    version: number | undefined,
    signal?: AbortSignal,
  ): Promise<ModelDescription> {
    const result = await this.call(model, queryEvent("metadata", model, version), signal);
    if (result.action !== "metadata") throw unexpected(model, result.action, "metadata");
    return result.description;
  }

  /** Whether the function has the version loaded (its live version once init is done). */
  async ready(model: string, version: number | undefined, signal?: AbortSignal): Promise<boolean> {
    const result = await this.call(model, queryEvent("ready", model, version), signal);
    if (result.action !== "ready") throw unexpected(model, result.action, "ready");
    return result.ready;
  }

  /** Runs the request in the function; tensors cross as a base64 binary protocol body. */
  async infer(...[model, version, request, signal]: Parameters<Backend["infer"]>): Promise<InferResult> {
    return inferResultOf(await this.call(model, inferEvent(model, version, request), signal), model);
  }

  private async call(
    model: string,
    event: TransportEvent,
    signal: AbortSignal | undefined,
  ): Promise<Exclude<TransportResult, { ok: false }>> {
    const bytes = await this.invoke(model, utf8.encode(JSON.stringify(event)), signal);
    let raw: unknown;
    try {
      raw = JSON.parse(utf8Decoder.decode(bytes));
    } catch (e) {
      throw new BackendFailure(`model '${model}' returned a malformed response`, { cause: e });
    }
    const result = parseTransportResult(raw, model);
    if (!result.ok) throw errorOfFailure(result);
    return result;
  }
}

function unexpected(model: string, got: string, wanted: string): BackendFailure {
  return new BackendFailure(`model '${model}' answered ${got} to ${wanted}`);
}

/** True when a thrown value is our own deadline or the caller's abort, not a service failure. */
export function isAbort(e: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (e instanceof Error && e.name === "AbortError");
}
