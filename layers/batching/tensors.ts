/**
 * Pure tensor work of the dynamic batcher: checking that a request can be batched, the key that
 * decides which requests may share a batch, stacking along dim 0 and splitting back.
 */
import { BackendFailure, InvalidInput } from "../errors";
import { elementCount, TYPED_ARRAY } from "../protocol/datatypes";
import type { Datatype, Tensor, TensorData } from "../protocol/types";
import type { ValidatedRequest } from "../validation/request";

/**
 * The one view of a typed array the batcher needs. TypeScript cannot call `set` or construct through
 * the union of typed-array types (their overloads differ), so the fixed-size paths go through this.
 */
interface NumericArray {
  readonly length: number;
  set(source: NumericArray, offset?: number): void;
  subarray(begin: number, end: number): NumericArray;
}
type NumericCtor = new (length: number) => NumericArray;

function numericCtor(dt: Exclude<Datatype, "BYTES">): NumericCtor {
  return TYPED_ARRAY[dt] as unknown as NumericCtor;
}

/** A request checked for batching. */
export interface BatchableRequest {
  /** Its rows: the shared dim 0 of its inputs. */
  rows: number;
  /** Its inputs sorted by name, so that requests listing them in another order still stack. */
  sorted: Tensor[];
  /** Equal keys = same input names, datatypes, non-batch dims and requested outputs. */
  key: string;
}

/** Checks unvalidated inputs for batching and computes their key; throws `InvalidInput`. */
export function prepareRequest(
  inputs: readonly Tensor[],
  outputs: readonly string[] | undefined,
  maxBatchSize: number,
): BatchableRequest {
  if (inputs.length === 0) throw new InvalidInput("request has no inputs: expected at least one tensor");
  const sorted = [...inputs].sort(byName);
  let rows = -1;
  let previous: string | undefined;
  for (const t of sorted) {
    if (t.name === previous) throw new InvalidInput(`input "${t.name}" appears more than once`);
    previous = t.name;
    const dim0 = t.shape[0];
    if (dim0 === undefined) {
      throw new InvalidInput(`input "${t.name}" has shape [] but batching needs a batch dimension first`);
    }
    if (!Number.isInteger(dim0) || dim0 < 1) {
      throw new InvalidInput(`input "${t.name}" has batch size ${dim0}, expected an integer >= 1`);
    }
    if (rows === -1) rows = dim0;
    else if (dim0 !== rows) {
      throw new InvalidInput(
        `input "${t.name}" has batch size ${dim0} but input "${sorted[0]?.name}" has ${rows}: every input must share dim 0`,
      );
    }
    checkData(t);
  }
  if (rows > maxBatchSize) {
    throw new InvalidInput(
      `request batch size ${rows} is more than the model's max_batch_size ${maxBatchSize}`,
    );
  }
  return { rows, sorted, key: batchKey(sorted, outputs) };
}

/**
 * A request validateRequest branded, against the description of the model this batcher runs: its
 * inputs are unique, share a dim 0 within max_batch_size, and hold data of their datatype and shape,
 * so only the sort and the key are left to do.
 */
export function prepareValidated(
  request: ValidatedRequest,
  outputs: readonly string[] | undefined,
): BatchableRequest {
  const sorted = [...request.inputs].sort(byName);
  return { rows: sorted[0]?.shape[0] ?? 1, sorted, key: batchKey(sorted, outputs) };
}

const byName = (a: Tensor, b: Tensor) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function batchKey(sorted: readonly Tensor[], outputs: readonly string[] | undefined): string {
  let key = "";
  for (const t of sorted) key += `${t.name}\u0000${t.datatype}\u0000${t.shape.slice(1).join(",")}\u0001`;
  // Outputs keep their order: every request of a batch receives the outputs in the order run returns.
  return key + (outputs === undefined ? "*" : `[${outputs.join("\u0000")}]`);
}

/** Data of the right array type and length, or `InvalidInput`; stacking trusts both. */
function checkData(t: Tensor): void {
  const expected = elementCount(t.shape);
  const ok = t.datatype === "BYTES" ? Array.isArray(t.data) : t.data instanceof TYPED_ARRAY[t.datatype];
  if (!ok)
    throw new InvalidInput(`input "${t.name}" holds data of the wrong type for datatype ${t.datatype}`);
  if (t.data.length !== expected) {
    throw new InvalidInput(
      `input "${t.name}" has ${t.data.length} elements, expected ${expected} for shape [${t.shape.join(",")}]`,
    );
  }
}

/** Stacks compatible requests (inputs sorted by name, as `prepareRequest` returns) along dim 0. */
export function stackInputs(requests: readonly (readonly Tensor[])[], totalRows: number): Tensor[] {
  const first = requests[0];
  if (first === undefined) return [];
  return first.map((model, i) => {
    const parts: TensorData[] = [];
    for (const r of requests) {
      const t = r[i];
      // Equal keys guarantee the same names in the same sorted order; this only narrows the type.
      if (t === undefined) throw new Error(`batch lost input "${model.name}"`);
      parts.push(t.data);
    }
    return {
      name: model.name,
      datatype: model.datatype,
      shape: [totalRows, ...model.shape.slice(1)],
      data: concat(model.datatype, parts),
    };
  });
}

function concat(dt: Datatype, parts: readonly TensorData[]): TensorData {
  if (dt === "BYTES") {
    const out: Uint8Array[] = [];
    for (const p of parts) for (const b of p as Uint8Array[]) out.push(b);
    return out;
  }
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new (numericCtor(dt))(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p as unknown as NumericArray, offset);
    offset += p.length;
  }
  return out as unknown as TensorData;
}

/**
 * Splits a batch's outputs back into each request's rows, in order. Rows are copied, never views:
 * a view would carry the whole batch's buffer, and a codec that read `.buffer` would leak other
 * requests' results. Throws `BackendFailure` when an output does not have the batch's rows.
 */
export function splitOutputs(outputs: readonly Tensor[], rows: readonly number[]): Tensor[][] {
  const total = rows.reduce((a, b) => a + b, 0);
  for (const t of outputs) checkOutput(t, total);
  let start = 0;
  return rows.map((r) => {
    const mine = outputs.map((t) => sliceRows(t, start, r));
    start += r;
    return mine;
  });
}

/** The batch's output must have exactly `total` rows and consistent data; else nobody gets it. */
export function checkOutput(t: Tensor, total: number): void {
  const dim0 = t.shape[0];
  if (dim0 !== total) {
    throw new BackendFailure(
      `model output "${t.name}" has ${dim0 === undefined ? "no batch dimension" : `batch size ${dim0}`}, expected ${total} (the rows of the batch)`,
    );
  }
  const ok = t.datatype === "BYTES" ? Array.isArray(t.data) : t.data instanceof TYPED_ARRAY[t.datatype];
  if (!ok)
    throw new BackendFailure(`model output "${t.name}" holds data of the wrong type for ${t.datatype}`);
  const expected = elementCount(t.shape);
  if (t.data.length !== expected) {
    throw new BackendFailure(`model output "${t.name}" has ${t.data.length} elements, expected ${expected}`);
  }
}

function sliceRows(t: Tensor, startRow: number, rows: number): Tensor {
  const perRow = elementCount(t.shape.slice(1));
  const begin = startRow * perRow;
  const end = begin + rows * perRow;
  let data: TensorData;
  if (t.datatype === "BYTES") {
    data = (t.data as Uint8Array[]).slice(begin, end);
  } else {
    const out = new (numericCtor(t.datatype))(end - begin);
    out.set((t.data as unknown as NumericArray).subarray(begin, end));
    data = out as unknown as TensorData;
  }
  return { name: t.name, datatype: t.datatype, shape: [rows, ...t.shape.slice(1)], data };
}
