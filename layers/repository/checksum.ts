/**
 * Integrity of model files: `model.onnx.sha256` beside each `model.onnx` holds its hex SHA-256
 * (`sha256sum model.onnx | cut -d' ' -f1 > model.onnx.sha256`). A file that does not match is never
 * served: flipped bytes in the weights load fine and answer NaN, so only the sum catches them.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { ModelNotReady } from "../errors";
import type { RepositoryLogger } from "./types";

/** The checksum file's name beside each `model.onnx`. */
export const CHECKSUM_FILE = "model.onnx.sha256";

/** Which model file a checksum guards, for messages. */
export interface ChecksumTarget {
  model: string;
  version: number;
}

/** Hex SHA-256 of the file at `path`, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(path), hash);
  return hash.digest("hex");
}

/** The digest a checksum file states: its first word, 64 hex digits (sha256sum's output is accepted). */
export function parseChecksum(text: string, t: ChecksumTarget): string {
  const word = text.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
  if (!/^[0-9a-f]{64}$/.test(word)) {
    throw new ModelNotReady(`${fileName(t)}.sha256 is not a hex SHA-256 digest`);
  }
  return word;
}

/** What to do when a version has no checksum file. */
export interface MissingChecksumPolicy {
  /** Serve it anyway (with a warning)? */
  allow: boolean;
  /** The variable that allows it, named in the refusal. */
  variable?: string;
}

/**
 * Checks the file at `path` against `expected` (the checksum file's text, undefined if there is none):
 * a mismatch or a refused missing sum throws ModelNotReady naming the file and both sums.
 */
export async function verifyModelFile(
  path: string,
  expected: string | undefined,
  t: ChecksumTarget,
  missing: MissingChecksumPolicy,
  log: RepositoryLogger,
): Promise<void> {
  if (expected === undefined) {
    if (!missing.allow) {
      const how =
        missing.variable === undefined ? "" : ` (set ${missing.variable}=on to serve it unverified)`;
      throw new ModelNotReady(`${fileName(t)} has no ${CHECKSUM_FILE} beside it${how}`);
    }
    log(`${fileName(t)} has no ${CHECKSUM_FILE}: served unverified`, { ...t });
    return;
  }
  const want = parseChecksum(expected, t);
  const got = await sha256File(path);
  if (got !== want) {
    log("model file checksum mismatch", { ...t, expected: want, actual: got });
    throw new ModelNotReady(`${fileName(t)} has SHA-256 ${got} but ${CHECKSUM_FILE} says ${want}`);
  }
}

function fileName(t: ChecksumTarget): string {
  return `${t.model}/${t.version}/model.onnx`;
}
