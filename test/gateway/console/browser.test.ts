/**
 * The console in a real browser: Debian's chromium driven by playwright-core against the gateway as
 * `npm start` runs it (demo models in-process), then against a keys-mode gateway (dynalite). Screenshots
 * go to test-results/console/ (ignored by git). Not skipped when chromium is missing: it fails, saying so.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKeysCli } from "../../../gateway/auth/cli";
import { createKeyTable, DynamoKeyStore } from "../../../gateway/auth/dynamo-store";
import { type DynaliteHandle, startDynalite } from "../../support/dynalite";
import { makeTestRepository } from "../../support/models";
import { startGatewayServer, type TestGateway } from "../../support/server";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = join(import.meta.dirname, "../../../test-results/console");
const FIXTURES = join(import.meta.dirname, "../../fixtures/ocr");

let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH`,
    );
  }
  await mkdir(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], timeout: 30_000 });
});

afterAll(async () => {
  await browser?.close();
});

/** A fresh page that records console errors and uncaught exceptions. */
async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  return { page, errors };
}

describe("console against the demo models", () => {
  let gw: TestGateway;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    gw = await startGatewayServer({});
    ({ page, errors } = await open(gw.url));
  });
  afterAll(async () => {
    await page?.close();
    await gw?.close();
  });

  it("lists every model with its signature, readiness and backend", async () => {
    await page.waitForSelector("body[data-loaded=true]");
    for (const name of gw.runtime.models) {
      const meta = (await (await fetch(`${gw.url}/v2/models/${name}`)).json()) as {
        inputs: Array<{ name: string; datatype: string; shape: number[] }>;
      };
      const row = page.locator(`#models tr[data-model="${name}"]`);
      await expect(row.innerText()).resolves.toContain("ready\tin-process");
      for (const t of meta.inputs) {
        await expect(row.innerText()).resolves.toContain(`${t.name} ${t.datatype} [${t.shape.join(", ")}]`);
      }
    }
    expect(await page.locator("#models tbody tr").count()).toBe(gw.runtime.models.length);
    await expect(page.locator('#models tr[data-model="ocr"]').innerText()).resolves.toContain("(pipeline)");
  });

  it("sends a request generated from a signature and shows status, Server-Timing and outputs", async () => {
    await page.selectOption("#try-model", "ocr-cls");
    const generated = JSON.parse(await page.inputValue("#try-body")) as {
      inputs: Array<{ shape: number[] }>;
    };
    expect(generated.inputs[0]?.shape).toEqual([1, 3, 48, 192]);
    await page.click("#try-send");
    await page.waitForSelector("#try-status:has-text('HTTP 200')");
    expect(await page.textContent("#try-timing")).toMatch(/infer;dur=[\d.]+/);
    const shown = JSON.parse((await page.textContent("#try-response")) ?? "") as { outputs: unknown[] };
    expect(shown.outputs.length).toBeGreaterThan(0);
  });

  it("reads an image with the ocr pipeline and draws its boxes", async () => {
    const expected = JSON.parse(await readFile(join(FIXTURES, "expected.json"), "utf8")) as Record<
      string,
      string[]
    >;
    await page.selectOption("#try-model", "ocr");
    await page.setInputFiles("#try-file", join(FIXTURES, "lines.jpg"));
    await page.waitForFunction(() =>
      (document.getElementById("try-body") as HTMLTextAreaElement).value.includes("content_type"),
    );
    await page.click("#try-send");
    await page.waitForSelector("#try-text li");
    expect(await page.locator("#try-text li").allInnerTexts()).toEqual(expected["lines.jpg"]);
    // The boxes are stroked in pure-ish red, a colour the fixture (black on white) does not have.
    const red = await page.evaluate(() => {
      const c = document.getElementById("try-canvas") as HTMLCanvasElement;
      const d = c.getContext("2d")?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if ((d[i] ?? 0) > 200 && (d[i + 1] ?? 0) < 60) n++;
      return n;
    });
    expect(red).toBeGreaterThan(100);
    await page.screenshot({ path: join(SHOTS, "ocr.png"), fullPage: true });
  });

  it("charts the traffic live, with no console error on the way", async () => {
    for (let i = 0; i < 5; i++) await page.click("#try-send");
    await page.waitForSelector('#live .chart[data-model="ocr"] canvas', { timeout: 10_000 });
    // The next refresh (every 5 s) carries the requests just sent.
    await page.waitForFunction(() =>
      document.querySelector('#live .chart[data-model="ocr"] .u-legend')?.textContent?.includes("req/s"),
    );
    const live = (await (await fetch(`${gw.url}/console/api/live`)).json()) as {
      models: Record<string, Array<{ rps: number; p50: number | null }>>;
    };
    expect(live.models.ocr?.some((p) => p.rps > 0 && p.p50 !== null)).toBe(true);
    expect(await page.locator("#live .chart canvas").count()).toBe(gw.runtime.models.length);
    await page.screenshot({ path: join(SHOTS, "console.png"), fullPage: true });
    expect(errors).toEqual([]);
  });
});

describe("console in keys mode", () => {
  const TABLE = "console-keys";
  let dynalite: DynaliteHandle;
  let repo: Awaited<ReturnType<typeof makeTestRepository>>;
  let gw: TestGateway;
  let key = "";

  beforeAll(async () => {
    [repo, dynalite] = await Promise.all([makeTestRepository(), startDynalite()]);
    const out: string[] = [];
    const cli = (argv: string[]) =>
      runKeysCli(argv, {
        store: new DynamoKeyStore(dynalite.client, TABLE),
        init: () => createKeyTable(dynalite.client, TABLE),
        out: (l) => out.push(l),
        err: () => {},
      });
    await cli(["init"]);
    out.length = 0;
    await cli(["add", "console"]);
    key = out[0] ?? "";
    gw = await startGatewayServer({
      MODEL_REPOSITORY: repo.dir,
      API_KEYS_TABLE: TABLE,
      DYNAMODB_ENDPOINT: dynalite.endpoint,
    });
  });
  afterAll(async () => {
    await gw?.close();
    await dynalite?.close();
    await repo?.cleanup();
  });

  it("serves the page without a key, asks for one, and works with it", async () => {
    expect((await fetch(`${gw.url}/`)).status).toBe(200);
    expect((await fetch(`${gw.url}/console/api/live`)).status).toBe(401);
    const { page } = await open(gw.url);
    await page.waitForSelector("#key-form:not([hidden])");
    expect(await page.locator("#models tbody tr").count()).toBe(0);
    await page.fill("#key", key);
    await page.click("#key-form button");
    await page.waitForSelector('#models tr[data-model="add"]');
    expect(await page.evaluate(() => sessionStorage.getItem("edge-infer-key"))).toBe(key);
    await page.selectOption("#try-model", "add");
    await page.click("#try-send");
    await page.waitForSelector("#try-status:has-text('HTTP 200')");
    await page.close();
  });
});
