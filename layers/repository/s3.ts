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
import { CONFIGLESS, configlessConfig, parseConfigText } from "./config";
import {
  assertModelName,
  assertVersion,
  isValidModelName,
  logOnce,
  modelNotFound,
  parseVersionDir,
  withoutReserved,
} from "./names";
import { isS3NotFound, S3ModelCache } from "./s3-download";
import { removeStaleDownloads } from "./stale-downloads";
import type { ModelConfig, ModelRepository, RepositoryLogger } from "./types";
import { MAX_VERSION_FILE_BYTES } from "./types";

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
  /** Says once per prefix what a listing found in it (listings repeat: the index, discovery). */
  private readonly note: ReturnType<typeof logOnce>;
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
    this.note = logOnce(this.log);
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
      const names = withoutReserved(candidates, this.note);
      const present = await Promise.all(names.map((m) => this.exists(this.configKey(m))));
      // Without config.json, a prefix holding `<n>/model.onnx` is still a model (Triton's auto-complete).
      const versions = await Promise.all(names.map((m, i) => (present[i] ? [] : this.versionsOf(m))));
      return names
        .filter((name, i) => {
          if (present[i]) return true;
          const configless = (versions[i]?.length ?? 0) > 0;
          this.note(configless ? CONFIGLESS : "model folder skipped", {
            model: name,
            ...(configless ? {} : { reason: "no config.json and no <version>/model.onnx" }),
          });
          return configless;
        })
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
      if (isS3NotFound(cause)) {
        if ((await this.versionsOf(model)).length > 0) return configlessConfig(model);
        throw modelNotFound(model);
      }
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
    const { versions, hasConfig } = await this.scan(model);
    if (!hasConfig && versions.length === 0) throw modelNotFound(model);
    return versions;
  }

  private async versionsOf(model: string): Promise<number[]> {
    return (await this.scan(model)).versions;
  }

  /** One listing of `<model>/`: whether it holds config.json, and its `<n>/model.onnx` versions. */
  private async scan(model: string): Promise<{ versions: number[]; hasConfig: boolean }> {
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
    return { versions: versions.sort((a, b) => a - b), hasConfig };
  }

  /**
   * A local copy of `<model>/<version>/model.onnx`, downloaded unless already cached, checked against
   * the `model.onnx.sha256` beside it in S3 on every load (none: refused unless allowMissingChecksum).
   */
  async fetchModel(model: string, version: number): Promise<string> {
    assertModelName(model);
    assertVersion(model, version);
    const key = `${this.keyPrefix}${model}/${version}/model.onnx`;
    // The sum is read while the file downloads (one round trip less on a cold start); a failed
    // download is still what a failed load reports.
    const checksum = this.client
      .send(new GetObjectCommand({ Bucket: this.bucket, Key: `${key}.sha256` }))
      .then((got) => got.Body?.transformToString("utf8"));
    checksum.catch(() => undefined);
    this.swept ??= removeStaleDownloads(this.localRoot, this.log);
    await this.swept;
    const localPath = join(this.localRoot, model, String(version), "model.onnx");
    let path: string;
    try {
      path = await this.files.fetch({ model, version, bucket: this.bucket, key, localPath });
    } catch (e) {
      // Say which is missing: the model or only this version of it.
      const known = () => this.scan(model).then((m) => m.hasConfig || m.versions.length > 0);
      if (e instanceof ModelNotFound && !(await known().catch(() => true))) {
        throw modelNotFound(model);
      }
      throw e;
    }
    const sum = await this.checksumOf(model, version, checksum);
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

  /** The text of `<model>/<version>/<name>` (labels.txt), or undefined when there is none. */
  async readVersionFile(model: string, version: number, name: string): Promise<string | undefined> {
    assertModelName(model);
    assertVersion(model, version);
    try {
      const key = `${this.keyPrefix}${model}/${version}/${name}`;
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if ((got.ContentLength ?? 0) > MAX_VERSION_FILE_BYTES) throw new Error(`${name} is too large`);
      return await got.Body?.transformToString("utf8");
    } catch (cause) {
      if (isS3NotFound(cause)) return undefined;
      this.log(`${name} cannot be read`, { model, version, error: String(cause) });
      throw new ModelNotReady(`model '${model}' version ${version}: its ${name} cannot be read`, { cause });
    }
  }

  /** The text of a checksum object (`read`: its GetObject), or undefined when there is none. */
  private async checksumOf(
    model: string,
    version: number,
    read: Promise<string | undefined>,
  ): Promise<string | undefined> {
    try {
      return await read;
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

  private list(
    prefix: string,
    delimiter: string | undefined,
    onPage: (page: ListObjectsV2CommandOutput) => void,
  ): Promise<void> {
    return listPages(this.location, prefix, delimiter, onPage);
  }
}

/** Every page of a listing under `prefix` of the repository's bucket, handed to `onPage` in order. */
export async function listPages(
  { client, bucket }: { client: S3Client; bucket: string },
  prefix: string,
  delimiter: string | undefined,
  onPage: (page: ListObjectsV2CommandOutput) => void,
): Promise<void> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        Delimiter: delimiter,
        ContinuationToken: token,
      }),
    );
    onPage(page);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}
