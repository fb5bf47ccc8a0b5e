/**
 * The images get sharp's binary for their platform. Images cannot be built here (no Docker), so
 * this runs each Dockerfile's own `npm install` of sharp, word for word, into a temporary folder
 * for the image's platform (linux-arm64 for the CPU function on Graviton, as CDK builds it by
 * default), and looks for the native binary and libvips npm put there. Needs the npm registry (or
 * npm's cache).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT, sharpVersion } from "../../infra/paths";
import { assignments, startCommand } from "../bench/children";

/** How the Dockerfiles name sharp's version: the build argument CDK sets from package-lock.json. */
const SHARP_ARG = ["$", "{SHARP_VERSION}"].join("");

/** The `npm install ...` of sharp in a Dockerfile's RUN instruction, continuation lines joined. */
async function sharpInstall(dockerfile: string): Promise<string> {
  const text = (await readFile(join(REPO_ROOT, dockerfile), "utf8")).replace(/\\\n\s*/g, " ");
  const run = text.split("\n").find((l) => l.startsWith("RUN ") && l.includes(`"sharp@${SHARP_ARG}"`));
  const install = run?.slice(4).split("&&")[0]?.trim();
  if (install === undefined) throw new Error(`${dockerfile} installs no "sharp@${SHARP_ARG}"`);
  return install;
}

const folders: string[] = [];
afterAll(() => Promise.all(folders.map((f) => rm(f, { recursive: true, force: true }))));

describe.each([
  ["functions/Dockerfile", "arm64"],
  ["functions/Dockerfile.gpu", "x64"],
])("%s", (dockerfile, cpu) => {
  it(`installs sharp for linux-${cpu} by naming the platform to npm`, async () => {
    const install = await sharpInstall(dockerfile);
    expect(install).toContain('--os=linux --cpu="$(node -p process.arch)"');
    expect(install).toContain("--omit=dev");

    const dir = await mkdtemp(join(tmpdir(), "sharp-image-"));
    folders.push(dir);
    // A package.json of its own: npm would otherwise install into the nearest one above.
    await writeFile(join(dir, "package.json"), '{"private":true}');
    const command = install.replace('"$(node -p process.arch)"', cpu).replace(SHARP_ARG, sharpVersion());
    await promisify(execFile)("sh", ["-c", command], { cwd: dir, timeout: 240_000 });

    const img = join(dir, "node_modules", "@img");
    const installed = await readdir(img);
    expect(installed).toContain(`sharp-linux-${cpu}`);
    expect(installed).toContain(`sharp-libvips-linux-${cpu}`);
    // Only that platform's: on this x64 machine an arm64 install holds no x64 binary.
    expect(installed.filter((p) => p.startsWith("sharp-linux-"))).toEqual([`sharp-linux-${cpu}`]);
    expect(await readdir(join(img, `sharp-linux-${cpu}`, "lib"))).toEqual([
      `sharp-linux-${cpu}-${sharpVersion()}.node`,
    ]);
    const libvips = await readdir(join(img, `sharp-libvips-linux-${cpu}`, "lib"));
    expect(libvips.some((f) => /^libvips-cpp\.so\.\d/.test(f))).toBe(true);
  }, 300_000);
});

describe("glibc's malloc thresholds", () => {
  /** The `ENV` instructions of a Dockerfile, as name → value. */
  async function imageEnv(dockerfile: string): Promise<Record<string, string>> {
    const text = await readFile(join(REPO_ROOT, dockerfile), "utf8");
    const lines = text.split("\n").filter((l) => l.startsWith("ENV "));
    return assignments(lines.flatMap((l) => l.slice(4).trim().split(/\s+/)));
  }

  it("are npm start's, and both images run ORT with the same ones", async () => {
    // ORT runs with its CPU arena off unless a model's config turns it on; these keep a large model's
    // per-run tensors in malloc's heap instead of mapping them afresh every run (README, "Configuration").
    const { env } = await startCommand();
    const { GLIBC_TUNABLES: tunables, ...thresholds } = env;
    // The top pad keeps a worker thread's malloc heaps from being unmapped and mapped again as its
    // usage crosses one (test/layers/engine/malloc-env.test.ts).
    expect(thresholds).toEqual({
      MALLOC_MMAP_THRESHOLD_: "33554432",
      MALLOC_TRIM_THRESHOLD_: "67108864",
      MALLOC_TOP_PAD_: "67108864",
    });
    for (const dockerfile of ["functions/Dockerfile", "functions/Dockerfile.gpu"]) {
      expect(await imageEnv(dockerfile)).toMatchObject(thresholds);
    }
    // Huge pages for the blocks past the thresholds (test/layers/engine/malloc-env.test.ts): the GPU
    // image's glibc (Ubuntu 22.04, 2.35) reads the tunable; the Lambda base image's (Amazon Linux
    // 2023, 2.34) has no such tunable, so the CPU image does not claim it.
    expect(tunables).toBe("glibc.malloc.hugetlb=1");
    expect((await imageEnv("functions/Dockerfile.gpu")).GLIBC_TUNABLES).toBe(tunables);
    expect((await imageEnv("functions/Dockerfile")).GLIBC_TUNABLES).toBeUndefined();
  });
});
