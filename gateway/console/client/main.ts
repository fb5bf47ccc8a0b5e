/** The console's entry point: loads models, then keeps the live charts and releases fresh. */
import { getJson, initKey } from "./api";
import { refreshLive, refreshReleases } from "./charts";
import { byId } from "./dom";
import { loadModels, renderModels } from "./models";
import { initTry } from "./tryit";

const REFRESH_MS = 5_000;
let timer: ReturnType<typeof setInterval> | undefined;

async function load(): Promise<void> {
  const server = await getJson<{ name: string; version: string }>("/v2");
  if (server !== undefined) byId("server").textContent = `${server.name} ${server.version}`;
  const models = await loadModels();
  renderModels(models);
  initTry(models);
  const tick = () => {
    void refreshLive();
    void refreshReleases();
  };
  tick();
  if (timer !== undefined) clearInterval(timer);
  timer = setInterval(tick, REFRESH_MS);
  document.body.dataset.loaded = "true";
}

initKey(() => void load());
void load();
