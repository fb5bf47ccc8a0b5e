/** Where a pipeline's versions and files live: a directory of the model repository (on disk here; S3: repository-files.ts). */
import { readdir, readFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { ModelNotReady } from "../errors";
import { parseVersionDir } from "../repository/names";

/** The files of a pipeline's versions (its dictionary, its samples). */
export interface PipelineFiles {
  /** Numeric version directories of `model`, ascending (a pipeline's version holds no model.onnx). */
  versions(model: string): Promise<number[]>;
  /** The bytes of `<model>/<version>/<path>`; ModelNotReady when it cannot be read. */
  read(model: string, version: number, path: string): Promise<Uint8Array>;
  /** File names in `<model>/<version>/<dir>`, sorted; empty when the directory is absent. */
  list(model: string, version: number, dir: string): Promise<string[]>;
}

/**
 * `path` relative to its version directory, normalised (`a/./b` → `a/b`); ModelNotReady when it
 * climbs out of it: a config.json names files of its own version only.
 */
export function versionPath(model: string, path: string): string {
  const rel = posix.normalize(path);
  if (rel === ".." || rel.startsWith("../") || posix.isAbsolute(rel))
    throw new ModelNotReady(`model '${model}': file '${path}' is outside its version directory`);
  return rel;
}

/** The error of a file that cannot be read (the cause stays in `cause`, out of any response). */
export function unreadable(model: string, version: number, path: string, cause: unknown): ModelNotReady {
  return new ModelNotReady(`model '${model}' version ${version}: file '${path}' cannot be read`, { cause });
}

/** PipelineFiles of a file-system repository rooted at `root` (local mode). */
export function directoryFiles(root: string): PipelineFiles {
  const inside = (model: string, version: number, path: string) =>
    join(root, model, String(version), versionPath(model, path));
  return {
    async versions(model) {
      const names = await readdir(join(root, model), { withFileTypes: true }).catch(() => []);
      const versions = names.filter((d) => d.isDirectory()).map((d) => parseVersionDir(d.name));
      return versions.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
    },
    async read(model, version, path) {
      const file = inside(model, version, path);
      try {
        return await readFile(file);
      } catch (cause) {
        throw unreadable(model, version, path, cause);
      }
    },
    async list(model, version, dir) {
      const names = await readdir(inside(model, version, dir)).catch(() => []);
      return names.sort();
    },
  };
}
