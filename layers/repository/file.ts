/** A model repository on the local file system (`file:///abs/path` or a plain path). */
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { BackendFailure, ModelNotReady } from "../errors";
import { CHECKSUM_FILE, verifyModelFile } from "./checksum";
import { CONFIGLESS, configlessConfig, parseConfigText } from "./config";
import {
  assertModelName,
  assertVersion,
  isValidModelName,
  logOnce,
  modelNotFound,
  parseVersionDir,
  versionNotFound,
  withoutReserved,
} from "./names";
import {
  MAX_VERSION_FILE_BYTES,
  type ModelConfig,
  type ModelRepository,
  type RepositoryLogger,
} from "./types";

/** Why a folder of the repository root is not served. */
const NOT_A_MODEL =
  "no config.json and no <version>/model.onnx (a model folder holds <version>/model.onnx, and config.json unless everything is read from the ONNX file)";

/** `<root>/<model>/config.json`, `<root>/<model>/<n>/model.onnx` on disk. */
export class FileRepository implements ModelRepository {
  /** Says once per folder what a listing found in it (listings repeat: the index, discovery). */
  private readonly note: ReturnType<typeof logOnce>;

  /**
   * @param root absolute directory of the repository
   * @param uri the URI it was opened with
   */
  constructor(
    readonly root: string,
    readonly uri: string = root,
    private readonly log: RepositoryLogger = () => {},
  ) {
    this.note = logOnce(log);
  }

  /** Directories under the root holding a config.json or a `<version>/model.onnx`, sorted. */
  async listModels(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.root);
    } catch (cause) {
      this.log("model repository cannot be listed", { uri: this.uri, error: String(cause) });
      throw new BackendFailure("model repository cannot be listed", { cause });
    }
    const names = withoutReserved(entries.filter(isValidModelName), this.note);
    const configs = await Promise.all(names.map((name) => this.hasConfig(name)));
    const versions = await Promise.all(names.map((name, i) => (configs[i] ? [] : this.versionsOf(name))));
    const models: string[] = [];
    for (const [i, name] of names.entries()) {
      if (configs[i]) models.push(name);
      else if ((versions[i]?.length ?? 0) > 0) {
        models.push(name);
        this.note(CONFIGLESS, { model: name });
      } else if (await this.isFolder(name)) {
        // A folder that is not a model is named, with why, rather than skipped in silence.
        this.note("model folder skipped", { model: name, reason: NOT_A_MODEL });
      }
    }
    return models.sort();
  }

  /** The validated config of `model`. */
  async readConfig(model: string): Promise<ModelConfig> {
    assertModelName(model);
    let text: string;
    try {
      text = await readFile(join(this.root, model, "config.json"), "utf8");
    } catch (cause) {
      if (isMissing(cause)) {
        // Triton's auto-complete: a folder of ONNX versions alone is a model with the defaults.
        if ((await this.versionsOf(model)).length > 0) return configlessConfig(model);
        throw modelNotFound(model);
      }
      this.log("config.json cannot be read", { model, error: String(cause) });
      throw new ModelNotReady(`config.json of model '${model}' cannot be read`, { cause });
    }
    return parseConfigText(text, model);
  }

  /** Numeric directories of `model` holding a model.onnx, ascending. */
  async listVersions(model: string): Promise<number[]> {
    assertModelName(model);
    const versions = await this.versionsOf(model);
    if (versions.length === 0 && !(await this.hasConfig(model))) throw modelNotFound(model);
    return versions;
  }

  private async versionsOf(model: string): Promise<number[]> {
    const dir = join(this.root, model);
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (cause) {
      if (isMissing(cause)) return [];
      throw new ModelNotReady(`versions of model '${model}' cannot be listed`, { cause });
    }
    const versions: number[] = [];
    for (const name of entries) {
      const version = parseVersionDir(name);
      if (version !== undefined && (await isFile(join(dir, name, "model.onnx")))) versions.push(version);
    }
    return versions.sort((a, b) => a - b);
  }

  /**
   * The real path of `<model>/<version>/model.onnx` (symbolic links resolved), checked against the
   * `model.onnx.sha256` beside it; a local file without one is served with a warning.
   */
  async fetchModel(model: string, version: number): Promise<string> {
    assertModelName(model);
    assertVersion(model, version);
    const file = join(this.root, model, String(version), "model.onnx");
    if (!(await isFile(file))) {
      const known = (await this.hasConfig(model)) || (await this.versionsOf(model)).length > 0;
      throw known ? versionNotFound(model, version) : modelNotFound(model);
    }
    let path: string;
    let sum: string | undefined;
    try {
      path = await realpath(file);
      sum = await readFile(join(this.root, model, String(version), CHECKSUM_FILE), "utf8").catch((e) => {
        if (isMissing(e)) return undefined;
        throw e;
      });
    } catch (cause) {
      throw new ModelNotReady(`model '${model}' version ${version} cannot be opened`, { cause });
    }
    await verifyModelFile(path, sum, { model, version }, { allow: true }, this.log);
    return path;
  }

  /** The text of `<model>/<version>/<name>` (labels.txt), or undefined when there is none. */
  async readVersionFile(model: string, version: number, name: string): Promise<string | undefined> {
    assertModelName(model);
    assertVersion(model, version);
    const path = join(this.root, model, String(version), name);
    try {
      if ((await stat(path)).size > MAX_VERSION_FILE_BYTES) throw new Error(`${name} is too large`);
      return await readFile(path, "utf8");
    } catch (cause) {
      if (isMissing(cause)) return undefined;
      throw new ModelNotReady(`model '${model}' version ${version}: its ${name} cannot be read`, { cause });
    }
  }

  private isFolder(name: string): Promise<boolean> {
    return stat(join(this.root, name)).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  private hasConfig(model: string): Promise<boolean> {
    return isFile(join(this.root, model, "config.json"));
  }
}

/** True when `path` is a regular file (following symbolic links); false on any error. */
async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function isMissing(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
