/**
 * Structural limits on a JSON body, checked by one linear scan before JSON.parse: parse time and
 * memory of a hostile body (10^6 nested arrays, a flat array of 10^8 zeros) are bounded by these
 * limits, not by what V8 happens to survive.
 */
import { InvalidInput, PayloadTooLarge } from "../errors";

/** Limits of checkJsonLimits. */
export interface JsonLimits {
  /** Deepest nesting of arrays and objects. A request is ~4 levels plus the rank of a nested tensor. @default 32 */
  maxDepth: number;
  /** Array elements in the whole document, nested arrays' elements included. @default 16_777_216 */
  maxElements: number;
}

/** The default JSON limits. */
export const DEFAULT_JSON_LIMITS: Readonly<JsonLimits> = { maxDepth: 32, maxElements: 16 * 1024 * 1024 };

/** What the scan saw (when within limits). */
export interface JsonShape {
  depth: number;
  elements: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

function isSpace(ch: number): boolean {
  return ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09;
}

/**
 * Scans `json` (text, or UTF-8 bytes such as the JSON header of a binary request) counting bracket
 * depth and array elements outside strings. Throws InvalidInput past maxDepth and PayloadTooLarge
 * past maxElements, stopping at the first violation. It does not validate syntax: JSON.parse does.
 */
export function checkJsonLimits(
  json: string | Uint8Array,
  limits: JsonLimits = DEFAULT_JSON_LIMITS,
): JsonShape {
  const text = typeof json === "string";
  const length = text ? json.length : json.byteLength;
  const at = text ? (i: number) => json.charCodeAt(i) : (i: number) => json[i] ?? 0;
  // One flag per open container: is it an array? Bounded by maxDepth, so a plain array is fine.
  const isArray: boolean[] = [];
  let depth = 0;
  let maxSeen = 0;
  let elements = 0;
  // Set right after "[": the next non-space character starts the first element unless it is "]".
  let awaitingFirst = false;
  for (let i = 0; i < length; i++) {
    const ch = at(i);
    if (isSpace(ch)) continue;
    if (awaitingFirst) {
      awaitingFirst = false;
      if (ch !== CLOSE_ARRAY) elements++;
    }
    switch (ch) {
      case QUOTE:
        // Skip the string in a tight loop: brackets and commas in it are not structure.
        for (i++; i < length; i++) {
          const c = at(i);
          if (c === BACKSLASH) i++;
          else if (c === QUOTE) break;
        }
        break;
      case OPEN_ARRAY:
      case OPEN_OBJECT:
        depth++;
        if (depth > limits.maxDepth) {
          throw new InvalidInput(`JSON nesting is deeper than the limit of ${limits.maxDepth} levels`);
        }
        if (depth > maxSeen) maxSeen = depth;
        isArray[depth] = ch === OPEN_ARRAY;
        awaitingFirst = ch === OPEN_ARRAY;
        break;
      case CLOSE_ARRAY:
      case CLOSE_OBJECT:
        // Unbalanced input is JSON.parse's to reject; just never go below zero.
        if (depth > 0) depth--;
        break;
      case COMMA:
        if (depth > 0 && isArray[depth] === true) elements++;
        break;
    }
    if (elements > limits.maxElements) {
      throw new PayloadTooLarge(
        `JSON body has more than ${limits.maxElements} array elements, the limit; send large tensors in binary`,
      );
    }
  }
  return { depth: maxSeen, elements };
}
