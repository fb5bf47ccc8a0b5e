/** A model repository in S3 (`s3://bucket/prefix`); model files are cached on local disk. */
import { join } from "node:path";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { BackendFailure, ModelNotFound, ModelNotReady } from "../errors";
import { verifyModelFile } from "./checksum";
import { parseConfigText } from "./config";
import {
  assertModelName,
  assertVersion,
  isValidModelName,
  modelNotFound,
  parseVersionDir,
  withoutReserved,
} from "./names";
import { isS3NotFound, S3ModelCache } from "./s3-download";
import { removeStaleDownloads } from "./stale-downloads";
import type { ModelConfig, ModelRepository, RepositoryLogger } from "./types";

/** Where an S3Repository reads from and caches to. */
export interface S3RepositoryOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix without leading or trailing slash; "" for the bucket's root. */
  prefix: string;
  /** The URI it was opened with. */
  uri: string;
  /** Files land in `<cacheDir>/<bucket>/<prefix>/<model>/<version>/model.onnx`. */
  cacheDir: string;
  logger?: RepositoryLogger;
  /** Serve a version with no `model.onnx.sha256` (with a warning) instead of refusing it. @default false */
  allowMissingChecksum?: boolean;
}

/** The variable that lets an S3 version without a checksum be served. */
export const ALLOW_MISSING_CHECKSUM = "ALLOW_MISSING_CHECKSUM";

/** `<prefix>/<model>/config.json`, `<prefix>/<model>/<n>/model.onnx` in a bucket. */
export class S3Repository implements ModelRepository {
  readonly uri: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly keyPrefix: string;
  private readonly localRoot: string;
  private readonly log: RepositoryLogger;
  private readonly files: S3ModelCache;
  private readonly allowMissingChecksum: boolean;
  private swept: Promise<unknown> | undefined;

  constructor(options: S3RepositoryOptions) {
    this.uri = options.uri;
    this.client = options.client;
    this.bucket = options.bucket;
    this.keyPrefix = options.prefix === "" ? "" : `${options.prefix}/`;
    this.localRoot = join(options.cacheDir, options.bucket, options.prefix);
    this.log = options.logger ?? (() => {});
    this.files = new S3ModelCache(this.client, this.log);
    this.allowMissingChecksum = options.allowMissingChecksum ?? false;
  }

  /** The bucket and key prefix (`""` or ending in `/`), for readers of a version's other files (a pipeline's). */
  get location(): { client: S3Client; bucket: string; keyPrefix: string } {
    return { client: this.client, bucket: this.bucket, keyPrefix: this.keyPrefix };
  }

  /** "Directories" under the prefix holding a config.json, sorted. */
  async listModels(): Promise<string[]> {
    try {
      const candidates: string[] = [];
      await this.list(this.keyPrefix, "/", (page) => {
        for (const { Prefix } of page.CommonPrefixes ?? []) {
          const name = Prefix?.slice(this.keyPrefix.length, -1) ?? "";
          if (isValidModelName(name)) candidates.push(name);
        }
      });
      const present = await Promise.all(candidates.map((m) => this.exists(this.configKey(m))));
      return withoutReserved(candidates, this.log)
        .filter((name) => present[candidates.indexOf(name)])
        .sort();
    } catch (cause) {
      this.log("model repository cannot be listed", { uri: this.uri, error: String(cause) });
      throw new BackendFailure("model repository cannot be listed", { cause });
    }
  }

  /** The validated config of `model`. */
  async readConfig(model: string): Promise<ModelConfig> {
    assertModelName(model);
    let text: string;
    try {
      const got = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.configKey(model) }),
      );
      if (got.Body === undefined) throw new Error("GetObject returned no body");
      text = await got.Body.transformToString("utf8");
    } catch (cause) {
      if (isS3NotFound(cause)) throw modelNotFound(model);
      this.log("config.json cannot be read", { model, error: String(cause) });
      throw new ModelNotReady(`config.json of model '${model}' cannot be read from the repository`, {
        cause,
      });
    }
    return parseConfigText(text, model);
  }

  /** Numeric "directories" of `model` holding a model.onnx, ascending. */
  async listVersions(model: string): Promise<number[]> {
    assertModelName(model);
    const base = `${this.keyPrefix}${model}/`;
    let hasConfig = false;
    const versions: number[] = [];
    try {
      // No delimiter: one listing shows both config.json and every `<n>/model.onnx`.
      await this.list(base, undefined, (page) => {
        for (const { Key } of page.Contents ?? []) {
          const rest = Key?.slice(base.length) ?? "";
          if (rest === "config.json") hasConfig = true;
          const [dir, file, ...more] = rest.split("/");
          const version = dir === undefined ? undefined : parseVersionDir(dir);
          if (version !== undefined && file === "model.onnx" && more.length === 0) versions.push(version);
        }
      });
    } catch (cause) {
      this.log("versions cannot be listed", { model, error: String(cause) });
      throw new ModelNotReady(`versions of model '${model}' cannot be listed`, { cause });
    }
    if (!hasConfig) throw modelNotFound(model);
    return versions.sort((a, b) => a - b);
  }

  /**
   * A local copy of `<model>/<version>/model.onnx`, downloaded unless already cached, checked against
   * the `model.onnx.sha256` beside it in S3 on every load (none: refused unless allowMissingChecksum).
   */
  async fetchModel(model: string, version: number): Promise<string> {
    assertModelName(model);
    assertVersion(model, version);
    this.swept ??= removeStaleDownloads(this.localRoot, this.log);
    await this.swept;
    const key = `${this.keyPrefix}${model}/${version}/model.onnx`;
    const localPath = join(this.localRoot, model, String(version), "model.onnx");
    let path: string;
    try {
      path = await this.files.fetch({ model, version, bucket: this.bucket, key, localPath });
    } catch (e) {
      // Say which is missing: the model or only this version of it.
      if (e instanceof ModelNotFound && !(await this.exists(this.configKey(model)).catch(() => true))) {
        throw modelNotFound(model);
      }
      throw e;
    }
    const sum = await this.readChecksum(model, version, `${key}.sha256`);
    const missing = { allow: this.allowMissingChecksum, variable: ALLOW_MISSING_CHECKSUM };
    try {
      await verifyModelFile(path, sum, { model, version }, missing, this.log);
    } catch (e) {
      // A copy that fails its sum is dropped: the next load downloads it again.
      if (sum !== undefined) await this.files.forget(localPath);
      throw e;
    }
    return path;
  }

  /** The text of a checksum object, or undefined when there is none. */
  private async readChecksum(model: string, version: number, key: string): Promise<string | undefined> {
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await got.Body?.transformToString("utf8");
    } catch (cause) {
      if (isS3NotFound(cause)) return undefined;
      this.log("model checksum cannot be read", { model, version, error: String(cause) });
      throw new ModelNotReady(`model '${model}' version ${version}: its checksum could not be fetched`, {
        cause,
      });
    }
  }

  private configKey(model: string): string {
    return `${this.keyPrefix}${model}/config.json`;
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (e) {
      if (isS3NotFound(e)) return false;
      throw e;
    }
  }

  private async list(
    prefix: string,
    delimiter: string | undefined,
    onPage: (page: ListObjectsV2CommandOutput) => void,
  ): Promise<void> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          Delimiter: delimiter,
          ContinuationToken: token,
        }),
      );
      onPage(page);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }
}
