/**
 * Triton's model repository extension over HTTP: `POST /v2/repository/index`,
 * `POST /v2/repository/models/{m}/load` and `.../unload`, over a RepositoryControl handed in (the
 * engine's in local mode and the model container; a read-only catalog on the AWS gateway).
 */
import type { Context, Hono } from "hono";
import type { ModelCatalog } from "../backend/contract";
import type { IndexEntry, RepositoryControl } from "../backend/repository-control";
import { Forbidden, InvalidInput, PayloadTooLarge } from "../errors";
import type { ProtocolEnv } from "./types";

/** What the repository routes are given. */
export interface RepositoryOptions {
  control: RepositoryControl;
  /** Whether the request may see `model` in the index (keys mode: the models its key allows). @default all */
  visible?: (c: Context, model: string) => boolean;
  /** Throws (Forbidden) unless the request may load or unload `model` (keys mode: admin keys). @default all may */
  assertMayControl?: (c: Context, model: string) => void;
}

/** Bodies of these routes are a few fields: anything larger is refused before it is buffered. */
const MAX_BODY_BYTES = 64 * 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Adds the repository routes; `forget(model)` drops what the protocol routes cached of a model. */
export function addRepositoryRoutes(
  app: Hono<ProtocolEnv>,
  options: RepositoryOptions,
  forget: (model: string) => void,
) {
  const { control } = options;
  const visible = options.visible ?? (() => true);
  app.post("/v2/repository/index", async (c) => {
    const body = await bodyOf(c, ["ready"]);
    const ready = body.ready ?? false;
    if (typeof ready !== "boolean")
      throw new InvalidInput(`"ready" must be true or false, received ${show(ready)}`);
    const rows = (await control.index()).filter(
      (row) => visible(c, row.name) && (!ready || row.state === "READY"),
    );
    return c.json(rows);
  });
  const change = (action: "load" | "unload") => async (c: Context<ProtocolEnv>) => {
    const model = c.req.param("model") ?? "";
    options.assertMayControl?.(c, model);
    const body = await bodyOf(c, ["parameters"]);
    checkParameters(body.parameters, action);
    await control[action](model);
    forget(model);
    return c.json({});
  };
  app.post("/v2/repository/models/:model/load", change("load"));
  app.post("/v2/repository/models/:model/unload", change("unload"));
}

/** How long the deployed index waits for one model's readiness before it reports it UNAVAILABLE. */
const DEPLOYED_READY_TIMEOUT_MS = 10_000;

/**
 * The repository of a catalog that is deployed, not loaded (the AWS gateway): the index lists the
 * catalog with each model's readiness; load and unload are refused, saying how models are deployed.
 */
export function deployedCatalog(catalog: ModelCatalog): RepositoryControl {
  const refuse = async (): Promise<never> => {
    throw new Forbidden(
      "this gateway does not load or unload models: deployments go through `cdk deploy` (the model catalog)",
    );
  };
  const index = () =>
    Promise.all(
      [...catalog].map(async ([name, backend]): Promise<IndexEntry> => {
        const signal = AbortSignal.timeout(DEPLOYED_READY_TIMEOUT_MS);
        const ready = await backend.ready(name, undefined, signal).catch(() => false);
        return { name, state: ready ? "READY" : "UNAVAILABLE", reason: ready ? "" : "not ready" };
      }),
    );
  return { index, load: refuse, unload: refuse };
}

/** The JSON object body (empty: `{}`), with no fields but `allowed`. */
async function bodyOf(c: Context<ProtocolEnv>, allowed: string[]): Promise<Record<string, unknown>> {
  const bytes = c.get("body") ?? (await readSmall(c.req.raw.body));
  if (bytes.byteLength === 0) return {};
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new InvalidInput("request body must be a JSON object (or empty)");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new InvalidInput("request body must be a JSON object (or empty)");
  }
  const unknown = Object.keys(json).find((k) => !allowed.includes(k));
  if (unknown !== undefined) {
    throw new InvalidInput(`unknown field ${show(unknown)} in the request (accepted: ${allowed.join(", ")})`);
  }
  return json as Record<string, unknown>;
}

/**
 * Triton's load takes `parameters.config` and model files (a model sent with the request); here a
 * model comes from the repository only. Unload's `unload_dependents` changes nothing (no model here
 * loads others on its behalf), so it is accepted as Triton's clients send it.
 */
function checkParameters(parameters: unknown, action: "load" | "unload"): void {
  if (parameters === undefined) return;
  if (typeof parameters !== "object" || parameters === null || Array.isArray(parameters)) {
    throw new InvalidInput(`"parameters" must be an object, received ${show(parameters)}`);
  }
  for (const [name, value] of Object.entries(parameters)) {
    if (action === "unload" && name === "unload_dependents" && typeof value === "boolean") continue;
    throw new InvalidInput(
      `parameters.${name} is not supported on ${action}: models are read from the repository (put config.json and <version>/model.onnx there, then load)`,
    );
  }
}

async function readSmall(body: ReadableStream<Uint8Array> | null): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) throw new PayloadTooLarge(`request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function show(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 64) ?? String(value);
}
