/** Where a pipeline's versions and files live: a directory of the model repository. */
import { readdir, readFile } from "node:fs/promises";
import { join, normalize, sep } from "node:path";
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

/** PipelineFiles of a file-system repository rooted at `root` (local mode). */
export function directoryFiles(root: string): PipelineFiles {
  const inside = (model: string, version: number, path: string) => {
    const rel = normalize(path);
    // A config.json names files of its own version directory only.
    if (rel.startsWith("..") || rel.startsWith(sep))
      throw new ModelNotReady(`model '${model}': file '${path}' is outside its version directory`);
    return join(root, model, String(version), rel);
  };
  return {
    async versions(model) {
      const names = await readdir(join(root, model), { withFileTypes: true }).catch(() => []);
      const versions = names.filter((d) => d.isDirectory()).map((d) => parseVersionDir(d.name));
      return versions.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
    },
    async read(model, version, path) {
      try {
        return await readFile(inside(model, version, path));
      } catch (cause) {
        if (cause instanceof ModelNotReady) throw cause;
        throw new ModelNotReady(`model '${model}' version ${version}: file '${path}' cannot be read`, {
          cause,
        });
      }
    },
    async list(model, version, dir) {
      const names = await readdir(inside(model, version, dir)).catch(() => []);
      return names.sort();
    },
  };
}
