/**
 * A pipeline's files in the repository it is served from: on disk (directoryFiles), or in S3 as
 * `<prefix><model>/<version>/<path>` objects, read when a version loads (its dictionary, its
 * samples), never per request, so nothing is cached on disk.
 */
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { ModelNotReady } from "../errors";
import { FileRepository, S3Repository } from "../repository";
import { parseVersionDir } from "../repository/names";
import { listPages } from "../repository/s3";
import type { ModelRepository } from "../repository/types";
import { directoryFiles, type PipelineFiles, unreadable, versionPath } from "./files";

/** The PipelineFiles of `repo` (file:// or s3://); undefined for any other kind of repository. */
export function repositoryFiles(repo: ModelRepository): PipelineFiles | undefined {
  if (repo instanceof FileRepository) return directoryFiles(repo.root);
  if (repo instanceof S3Repository) return s3Files(repo.location);
  return undefined;
}

/** Where the repository is: its client, bucket and key prefix (`""` or ending in `/`). */
export interface S3Location {
  client: S3Client;
  bucket: string;
  keyPrefix: string;
}

/** PipelineFiles over the objects of an S3 repository. */
export function s3Files({ client, bucket, keyPrefix }: S3Location): PipelineFiles {
  /** Every page of a listing: common prefixes (sub-"directories") and object keys. */
  async function list(prefix: string): Promise<{ dirs: string[]; keys: string[] }> {
    const dirs: string[] = [];
    const keys: string[] = [];
    await listPages({ client, bucket }, prefix, "/", (page) => {
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) dirs.push(p.Prefix.slice(prefix.length, -1));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key.slice(prefix.length));
    });
    return { dirs, keys };
  }
  const listed = async (model: string, what: string, prefix: string) => {
    try {
      return await list(prefix);
    } catch (cause) {
      throw new ModelNotReady(`model '${model}': ${what} cannot be listed in the repository`, { cause });
    }
  };
  return {
    async versions(model) {
      const { dirs } = await listed(model, "versions", `${keyPrefix}${model}/`);
      const versions = dirs.map(parseVersionDir).filter((v): v is number => v !== undefined);
      return versions.sort((a, b) => a - b);
    },
    async read(model, version, path) {
      const key = `${keyPrefix}${model}/${version}/${versionPath(model, path)}`;
      try {
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (got.Body === undefined) throw new Error("GetObject returned no body");
        return await got.Body.transformToByteArray();
      } catch (cause) {
        throw unreadable(model, version, path, cause);
      }
    },
    async list(model, version, dir) {
      const rel = versionPath(model, dir);
      const { keys } = await listed(model, `'${dir}'`, `${keyPrefix}${model}/${version}/${rel}/`);
      return keys.filter((k) => k !== "").sort();
    },
  };
}
