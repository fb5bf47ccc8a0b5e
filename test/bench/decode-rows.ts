/**
 * The JSON decode micro-benchmark: edge-infer's decodeInferRequest (limits on) against JSON.parse
 * of the same body, in this process, alternating so that both see the same machine load. Its
 * ratio is what the "decode within 1.2× JSON.parse" target is judged on. And its encode
 * twin: the JSON response of the model's own output for the bench input, edge-infer's
 * encodeInferResponse against a JavaScript value per element + JSON.stringify + UTF-8 (the
 * encoder before layers/protocol/json-writer.ts; the bytes are checked equal).
 */
import { decodeInferRequest, encodeInferResponse, tensorToJSONData } from "../../layers/protocol";
import { DEFAULT_JSON_LIMITS } from "../../layers/protocol/json-limits";
import type { Tensor } from "../../layers/protocol/types";
import { type BenchModel, inputTensor, jsonBody } from "./payloads";
import { markdownTable, type Target } from "./report";

/**
 * One model's decode figures: the fastest of alternating rounds (on a shared machine the least
 * disturbed round is the one that measures the code).
 */
export interface DecodeRow {
  model: string;
  bytes: number;
  rounds: number;
  /** JSON.parse of the body already held as a string (no UTF-8 decode: the stricter baseline). */
  jsonParseMs: number;
  /** decodeInferRequest from the body's bytes to typed arrays, limits counted. */
  decodeMs: number;
  /** decodeMs / jsonParseMs. */
  ratio: number;
  /** Body megabytes (10^6) decoded per second. */
  decodeMBps: number;
}

const utf8 = new TextDecoder();
const WARMUP_ROUNDS = 10;

/**
 * `baseline` and `ours` timed in alternating rounds for about `budgetMs` (at least 5 rounds, at
 * most `maxRounds`) after `ours` is warmed up; the fastest round of each (on a shared machine the
 * least disturbed round is the one that measures the code), and the number of rounds.
 */
function alternate(
  baseline: () => unknown,
  ours: () => unknown,
  budgetMs: number,
  maxRounds: number,
): [number, number, number] {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < WARMUP_ROUNDS; i++) ours();
  const end = performance.now() + budgetMs;
  while (a.length < maxRounds && (a.length < 5 || performance.now() < end)) {
    let t = performance.now();
    baseline();
    a.push(performance.now() - t);
    t = performance.now();
    ours();
    b.push(performance.now() - t);
  }
  return [Math.min(...a), Math.min(...b), a.length];
}

/** Measures `m`'s JSON request body for about `budgetMs` (at least 5 rounds, at most `maxRounds`). */
export function measureDecode(m: BenchModel, budgetMs: number, maxRounds = 1_000): DecodeRow {
  const body = jsonBody(inputTensor(m));
  const text = utf8.decode(body);
  const [jsonParseMs, decodeMs, rounds] = alternate(
    () => JSON.parse(text),
    () => decodeInferRequest(body, undefined, DEFAULT_JSON_LIMITS),
    budgetMs,
    maxRounds,
  );
  return {
    model: m.name,
    bytes: body.byteLength,
    rounds,
    jsonParseMs,
    decodeMs,
    ratio: decodeMs / jsonParseMs,
    decodeMBps: body.byteLength / 1e3 / decodeMs,
  };
}

/** The decode table, markdown. */
export function decodeTable(rows: readonly DecodeRow[]): string {
  return markdownTable(
    [
      "model",
      "JSON body KB",
      "rounds",
      "JSON.parse ms",
      "edge-infer decode ms",
      "decode ÷ JSON.parse",
      "decode MB/s",
    ],
    rows.map((r) => [
      r.model,
      (r.bytes / 1e3).toFixed(0),
      String(r.rounds),
      r.jsonParseMs.toFixed(3),
      r.decodeMs.toFixed(3),
      r.ratio.toFixed(2),
      r.decodeMBps.toFixed(0),
    ]),
  );
}

/** The decode target per model. */
export function decodeTargets(rows: readonly DecodeRow[]): Target[] {
  return rows.map((r) => ({
    name: `${r.model} JSON decode: within 1.2× JSON.parse of the same body`,
    measured: `${r.decodeMs.toFixed(3)} vs ${r.jsonParseMs.toFixed(3)} ms (${r.ratio.toFixed(2)}×, ${r.decodeMBps.toFixed(0)} MB/s)`,
    wanted: "≤ 1.20×",
    pass: r.ratio <= 1.2,
  }));
}

/** One model's JSON response encode figures (fastest of alternating rounds). */
export interface EncodeRow {
  model: string;
  /** Elements of the outputs, and the share of them that are integer-valued (a mask's zeros). */
  elements: number;
  integerShare: number;
  bytes: number;
  rounds: number;
  /** A JavaScript value per element, JSON.stringify, UTF-8: the same bytes. */
  stringifyMs: number;
  encodeMs: number;
  ratio: number;
  encodeMBps: number;
}

const utf8Out = new TextEncoder();

/** Measures the JSON response of `outputs` (the model's answer to the bench input) for about `budgetMs`. */
export function measureEncode(
  model: string,
  outputs: Tensor[],
  budgetMs: number,
  maxRounds = 1_000,
): EncodeRow {
  const res = { model_name: model, model_version: "1", outputs };
  const edge = () => encodeInferResponse(res, undefined).body;
  const arrays = () =>
    utf8Out.encode(
      JSON.stringify({
        ...res,
        outputs: outputs.map((t) => ({
          name: t.name,
          datatype: t.datatype,
          shape: t.shape,
          data: tensorToJSONData(t),
        })),
      }),
    );
  const body = edge();
  if (Buffer.compare(Buffer.from(body), Buffer.from(arrays())) !== 0) {
    throw new Error(`bench: ${model}'s JSON response differs from JSON.stringify's`);
  }
  let elements = 0;
  let integers = 0;
  for (const t of outputs) {
    const d = t.data;
    if (Array.isArray(d)) continue;
    for (let i = 0; i < d.length; i++) {
      elements++;
      const v = Number(d[i]);
      if (Number.isInteger(v)) integers++;
    }
  }
  const [stringifyMs, encodeMs, rounds] = alternate(arrays, edge, budgetMs, maxRounds);
  return {
    model,
    elements,
    integerShare: elements === 0 ? 0 : integers / elements,
    bytes: body.byteLength,
    rounds,
    stringifyMs,
    encodeMs,
    ratio: encodeMs / stringifyMs,
    encodeMBps: body.byteLength / 1e3 / encodeMs,
  };
}

/** The encode table, markdown. */
export function encodeTable(rows: readonly EncodeRow[]): string {
  return markdownTable(
    [
      "model",
      "output elements (integer-valued)",
      "JSON response KB",
      "rounds",
      "value per element + JSON.stringify ms",
      "edge-infer encode ms",
      "encode ÷ that",
      "encode MB/s",
    ],
    rows.map((r) => [
      r.model,
      `${r.elements} (${(100 * r.integerShare).toFixed(0)} %)`,
      (r.bytes / 1e3).toFixed(r.bytes < 1e4 ? 2 : 0),
      String(r.rounds),
      r.stringifyMs.toFixed(3),
      r.encodeMs.toFixed(3),
      r.ratio.toFixed(2),
      r.encodeMBps.toFixed(0),
    ]),
  );
}
