/**
 * The model repository: open one by URI. `file:///abs/path` or a plain path → FileRepository,
 * `s3://bucket/prefix` → S3Repository.
 */
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { S3Client } from "@aws-sdk/client-s3";
import { localEndpointCredentials } from "../config/local-credentials";
import { FileRepository } from "./file";
import { S3Repository } from "./s3";
import type { ModelRepository, RepositoryLogger } from "./types";

export { CHECKSUM_FILE } from "./checksum";
export { parseConfigText, parseModelConfig } from "./config";
export { FileRepository } from "./file";
export {
  DEFAULT_MAX_RESPONSE_BYTES,
  type InputLimit,
  limitsProblem,
  type ModelLimits,
  maxShapeOf,
} from "./limits";
export { isValidModelName } from "./names";
export { ALLOW_MISSING_CHECKSUM, S3Repository } from "./s3";
export type * from "./types";

/** Options of openRepository; all optional. */
export interface OpenRepositoryOptions {
  /** Client for s3:// (takes precedence over s3Endpoint/region). */
  s3Client?: S3Client;
  /** S3-compatible endpoint (e.g. s3rver, MinIO); path-style addressing is then used. */
  s3Endpoint?: string;
  region?: string;
  /** Where S3 model files are cached; default `<os.tmpdir()>/edge-infer-models` (Lambda: /tmp). */
  cacheDir?: string;
  logger?: RepositoryLogger;
  /** s3://: serve a version without `model.onnx.sha256` (with a warning). @default false */
  allowMissingChecksum?: boolean;
}

/** Default local cache of S3 model files. */
export const DEFAULT_CACHE_DIR = join(tmpdir(), "edge-infer-models");

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Opens the repository at `uri`; throws an Error naming the URI and the accepted schemes otherwise. */
export function openRepository(uri: string, options: OpenRepositoryOptions = {}): ModelRepository {
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined && uri !== "") {
    return new FileRepository(resolve(uri), uri, options.logger);
  }
  if (scheme === "file") return new FileRepository(fileRoot(uri), uri, options.logger);
  if (scheme === "s3") return openS3(uri, options);
  throw unsupported(uri, "unsupported scheme");
}

function fileRoot(uri: string): string {
  let path: string;
  try {
    path = fileURLToPath(uri);
  } catch (cause) {
    throw unsupported(uri, "not a local file URL", cause);
  }
  if (!isAbsolute(path)) throw unsupported(uri, "not an absolute path");
  return path;
}

function openS3(uri: string, options: OpenRepositoryOptions): S3Repository {
  // Parsed by hand: WHATWG URL would silently resolve "a/../b" to "b" and percent-decode keys.
  const [, bucket = "", rest = ""] = /^s3:\/\/([^/]*)(?:\/(.*))?$/is.exec(uri) ?? [];
  if (!BUCKET.test(bucket)) throw unsupported(uri, "invalid bucket name");
  if (/[?#]/.test(rest)) throw unsupported(uri, "unexpected query or fragment");
  const prefix = rest.replace(/\/+$/, "");
  // The prefix also names the local cache directory: no segment may climb out of it.
  if (prefix !== "" && prefix.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw unsupported(uri, "invalid key prefix");
  }
  return new S3Repository({
    client: options.s3Client ?? makeClient(options),
    bucket,
    prefix,
    uri,
    cacheDir: options.cacheDir ?? DEFAULT_CACHE_DIR,
    logger: options.logger,
    allowMissingChecksum: options.allowMissingChecksum,
  });
}

function makeClient(options: OpenRepositoryOptions): S3Client {
  if (options.s3Endpoint === undefined) return new S3Client({ region: options.region });
  return new S3Client({
    endpoint: options.s3Endpoint,
    forcePathStyle: true,
    // A local S3 look-alike needs some region to sign with; AWS itself always has one set.
    region: options.region ?? "us-east-1",
    // ...and some key: the same placeholder the local DynamoDB gets, unless the environment has one.
    ...localEndpointCredentials(options.s3Endpoint),
  });
}

function unsupported(uri: string, why: string, cause?: unknown): Error {
  const msg =
    `cannot open model repository '${uri}': ${why}; ` +
    "accepted: file:///absolute/path, a plain path, s3://bucket/prefix";
  return new Error(msg, cause === undefined ? undefined : { cause });
}
