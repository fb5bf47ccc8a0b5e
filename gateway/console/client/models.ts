/** The Models table: the catalog, then each model's metadata, readiness and config from the protocol routes. */
import { getJson } from "./api";
import { byId, el } from "./dom";

/** One tensor of a signature. */
export interface TensorSpec {
  name: string;
  datatype: string;
  shape: number[];
}

/** What the console knows of a model. */
export interface ModelInfo {
  name: string;
  backend: string;
  versions: string[];
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  config: Record<string, unknown> | undefined;
  ready: boolean;
}

interface Metadata {
  versions?: string[];
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
}

const path = (name: string) => `/v2/models/${encodeURIComponent(name)}`;
const signature = (ts: TensorSpec[]) => ts.map((t) => `${t.name} ${t.datatype} [${t.shape.join(", ")}]`);

/** Loads every model's description; models whose metadata fails are listed with what is known. */
export async function loadModels(): Promise<ModelInfo[]> {
  const list = await getJson<{ models: Array<{ name: string; backend: string }> }>("/console/api/models");
  if (list === undefined) return [];
  return Promise.all(
    list.models.map(async ({ name, backend }) => {
      const [meta, config, ready] = await Promise.all([
        getJson<Metadata>(path(name)),
        getJson<Record<string, unknown>>(`${path(name)}/config`),
        getJson<{ ready?: boolean }>(`${path(name)}/ready`),
      ]);
      return {
        name,
        backend,
        versions: meta?.versions ?? [],
        inputs: meta?.inputs ?? [],
        outputs: meta?.outputs ?? [],
        config,
        ready: ready?.ready === true,
      };
    }),
  );
}

/** The version unpinned requests get: config's `live_version`, else the highest one served. */
export function liveVersion(m: ModelInfo): string {
  const configured = m.config?.live_version;
  if (typeof configured === "number" || typeof configured === "string") return String(configured);
  return [...m.versions].sort((a, b) => Number(b) - Number(a))[0] ?? "";
}

/** Fills the Models table. */
export function renderModels(models: ModelInfo[]): void {
  const body = byId("models").querySelector("tbody") as HTMLTableSectionElement;
  body.replaceChildren(
    ...models.map((m) => {
      const tr = el("tr", [
        el("td", [m.name]),
        el("td", [m.versions.join(", ")]),
        el("td", [liveVersion(m)]),
        el("td", [m.ready ? "ready" : "not ready"], m.ready ? "ready" : "not-ready"),
        el("td", [m.config?.platform === "ensemble" ? `${m.backend} (pipeline)` : m.backend]),
        el("td", [
          el("pre", [["inputs:", ...signature(m.inputs), "outputs:", ...signature(m.outputs)].join("\n")]),
        ]),
        el("td", [
          el("details", [el("summary", ["config"]), el("pre", [JSON.stringify(m.config, null, 2)])]),
        ]),
      ]);
      tr.dataset.model = m.name;
      return tr;
    }),
  );
}
