/**
 * Infer request and response bodies of the Open Inference Protocol, JSON and binary tensor data
 * extension. Server side: decodeInferRequest, binaryOutputsOf, encodeInferResponse. Client side
 * (tests, bench, Lambda event transport): encodeInferRequest, decodeInferResponse.
 * Decoders throw only InvalidInput, whatever the body holds; tensor data are views into it.
 */
import { InferenceError, InvalidInput } from "../errors";
import { checkParameters, checkTensorData, describe, isObject, label } from "./checks";
import {
  assemble,
  decodeTensors,
  type EncodedBody,
  encodeTensors,
  type SplitBody,
  splitBody,
} from "./framing";
import type { JsonLimits } from "./json-limits";
import { readRequestBody, readRequestBodyYielding } from "./json-request";
import type { DecodedInferRequest, Parameters, RequestOutput, Tensor } from "./types";

/** A decoded infer response, or what a server hands to encodeInferResponse. */
export interface DecodedInferResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: Tensor[];
}

/** Outputs to send as binary: all of them, those named, or none (undefined). */
export type BinaryOutputs = "all" | ReadonlySet<string> | undefined;

/**
 * Server side: decodes an infer request body. `headerLength` is the value of the
 * `Inference-Header-Content-Length` header, when present. `limits` bounds the JSON part's nesting
 * and array elements (PayloadTooLarge past maxElements). Throws InvalidInput.
 */
export function decodeInferRequest(
  body: Uint8Array,
  headerLength?: number,
  limits?: JsonLimits,
): DecodedInferRequest {
  return guard("request", () => requestOf(readRequestBody(body, headerLength, limits)));
}

/**
 * decodeInferRequest that lets other work run every few milliseconds while it decodes a large
 * JSON body (the same result and errors).
 */
export async function decodeInferRequestYielding(
  body: Uint8Array,
  headerLength?: number,
  limits?: JsonLimits,
): Promise<DecodedInferRequest> {
  let split: SplitBody;
  try {
    split = await readRequestBodyYielding(body, headerLength, limits);
  } catch (e) {
    return guard("request", () => {
      throw e;
    });
  }
  return guard("request", () => requestOf(split));
}

function requestOf({ header, binary }: SplitBody): DecodedInferRequest {
  const id = optionalString("request", "id", header.id);
  const parameters = checkParameters("request", header.parameters);
  const inputs = header.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new InvalidInput(`request: inputs must be a non-empty array, received ${describe(inputs)}`);
  }
  const outputs = requestOutputs(header.outputs);
  const req: DecodedInferRequest = { inputs: decodeTensors(inputs, binary, "input") };
  if (id !== undefined) req.id = id;
  if (parameters !== undefined) req.parameters = parameters;
  if (outputs !== undefined) req.outputs = outputs;
  if (booleanParameter("request", parameters, "binary_data_output") === true) req.binaryDataOutput = true;
  return req;
}

/**
 * Outputs a request wants as binary. `binary_data_output` makes binary the default and a requested
 * output's `parameters.binary_data` overrides it either way (Triton's rule).
 */
export function binaryOutputsOf(req: DecodedInferRequest): "all" | Set<string> | undefined {
  const outs = req.outputs ?? [];
  const byDefault = req.binaryDataOutput === true;
  if (outs.length === 0) return byDefault ? "all" : undefined;
  const set = new Set<string>();
  for (const o of outs) {
    const b = o.parameters?.binary_data;
    if (b === true || (b === undefined && byDefault)) set.add(o.name);
  }
  if (byDefault && set.size === outs.length) return "all";
  return set.size === 0 ? undefined : set;
}

/**
 * Server side: encodes an infer response; outputs named by `binary` travel as binary data after the
 * JSON header. A tensor whose data does not match its datatype and shape is an internal error.
 */
export function encodeInferResponse(res: DecodedInferResponse, binary: BinaryOutputs): EncodedBody {
  const isBinary =
    binary === "all" ? () => true : binary === undefined ? () => false : (t: Tensor) => binary.has(t.name);
  const { entries, chunks } = encodeTensors(res.outputs, isBinary);
  const header = {
    model_name: res.model_name,
    model_version: res.model_version,
    id: res.id,
    parameters: res.parameters,
    outputs: entries,
  };
  return assemble(header, chunks);
}

/** Client side: encodes an infer request, every input as binary data when `opts.binary` (`binaryDataOutput` is not sent). */
export function encodeInferRequest(req: DecodedInferRequest, opts: { binary: boolean }): EncodedBody {
  for (const t of req.inputs) checkTensorData(t, (m) => new InvalidInput(m));
  const { entries, chunks } = encodeTensors(req.inputs, () => opts.binary);
  const header = { id: req.id, parameters: req.parameters, inputs: entries, outputs: req.outputs };
  return assemble(header, chunks);
}

/** Client side: decodes an infer response body (JSON or binary outputs). Throws InvalidInput. */
export function decodeInferResponse(body: Uint8Array, headerLength?: number): DecodedInferResponse {
  return guard("response", () => {
    const { header, binary } = splitBody(body, headerLength, "response");
    if (typeof header.model_name !== "string") {
      if (typeof header.error === "string") throw new InvalidInput(`response is an error: ${header.error}`);
      throw new InvalidInput(
        `response: model_name must be a string, received ${describe(header.model_name)}`,
      );
    }
    const res: DecodedInferResponse = {
      model_name: header.model_name,
      outputs: decodeTensors(header.outputs, binary, "output"),
    };
    const version = optionalString("response", "model_version", header.model_version);
    const id = optionalString("response", "id", header.id);
    const parameters = checkParameters("response", header.parameters);
    if (version !== undefined) res.model_version = version;
    if (id !== undefined) res.id = id;
    if (parameters !== undefined) res.parameters = parameters;
    return res;
  });
}

function requestOutputs(v: unknown): RequestOutput[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new InvalidInput(`request: outputs must be an array, received ${describe(v)}`);
  const seen = new Set<string>();
  return v.map((o: unknown, i): RequestOutput => {
    if (!isObject(o)) throw new InvalidInput(`outputs[${i}] must be an object, received ${describe(o)}`);
    if (typeof o.name !== "string") {
      throw new InvalidInput(`outputs[${i}].name must be a string, received ${describe(o.name)}`);
    }
    const who = label("output", o.name);
    if (seen.has(o.name)) throw new InvalidInput(`${who}: requested twice`);
    seen.add(o.name);
    const parameters = checkParameters(who, o.parameters);
    booleanParameter(who, parameters, "binary_data");
    return parameters === undefined ? { name: o.name } : { name: o.name, parameters };
  });
}

/** A flag parameter: absent or a JSON boolean; "yes" or 1 would otherwise be silently taken as false. */
function booleanParameter(who: string, p: Parameters | undefined, name: string): boolean | undefined {
  const v = p?.[name];
  if (v === undefined || typeof v === "boolean") return v;
  throw new InvalidInput(`${who}: parameter ${name} must be true or false, received ${describe(v)}`);
}

function optionalString(what: string, field: string, v: unknown): string | undefined {
  if (v === undefined || typeof v === "string") return v;
  throw new InvalidInput(`${what}: ${field} must be a string, received ${describe(v)}`);
}

/** Turns anything but our own errors into InvalidInput: hostile bodies must never surface a TypeError. */
function guard<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof InferenceError) throw e;
    throw new InvalidInput(`${what} is malformed`, { cause: e });
  }
}
