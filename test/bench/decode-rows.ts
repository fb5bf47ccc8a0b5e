/**
 * The JSON decode micro-benchmark: edge-infer's decodeInferRequest (limits on) against JSON.parse
 * of the same body, in this process, alternating so that both see the same machine load. Its
 * ratio is what the "decode within 1.2× JSON.parse" target is judged on.
 */
import { decodeInferRequest } from "../../layers/protocol";
import { DEFAULT_JSON_LIMITS } from "../../layers/protocol/json-limits";
import { type BenchModel, inputTensor, jsonBody } from "./payloads";
import type { Target } from "./report";

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

/** Measures `m`'s JSON request body for about `budgetMs` (at least 5 rounds, at most `maxRounds`). */
export function measureDecode(m: BenchModel, budgetMs: number, maxRounds = 1_000): DecodeRow {
  const body = jsonBody(inputTensor(m));
  const text = utf8.decode(body);
  const parse: number[] = [];
  const decode: number[] = [];
  // Warm-up: the decoder's code optimised (JSON.parse is native) before the first timed round.
  for (let i = 0; i < WARMUP_ROUNDS; i++) decodeInferRequest(body, undefined, DEFAULT_JSON_LIMITS);
  const end = performance.now() + budgetMs;
  while (parse.length < maxRounds && (parse.length < 5 || performance.now() < end)) {
    let t = performance.now();
    JSON.parse(text);
    parse.push(performance.now() - t);
    t = performance.now();
    decodeInferRequest(body, undefined, DEFAULT_JSON_LIMITS);
    decode.push(performance.now() - t);
  }
  const jsonParseMs = Math.min(...parse);
  const decodeMs = Math.min(...decode);
  return {
    model: m.name,
    bytes: body.byteLength,
    rounds: parse.length,
    jsonParseMs,
    decodeMs,
    ratio: decodeMs / jsonParseMs,
    decodeMBps: body.byteLength / 1e3 / decodeMs,
  };
}

/** The decode table, markdown. */
export function decodeTable(rows: readonly DecodeRow[]): string {
  const lines = [
    "| model | JSON body KB | rounds | JSON.parse ms | edge-infer decode ms | decode ÷ JSON.parse | decode MB/s |",
    `|${" --- |".repeat(7)}`,
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.model} | ${(r.bytes / 1e3).toFixed(0)} | ${r.rounds} | ${r.jsonParseMs.toFixed(3)} | ${r.decodeMs.toFixed(3)} | ${r.ratio.toFixed(2)} | ${r.decodeMBps.toFixed(0)} |`,
    );
  }
  return lines.join("\n");
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
