/** A gateway over real engines with shadowed models, for the shadow tests. */
import { createApp } from "../../../gateway/app";
import { readGatewayConfig } from "../../../gateway/config";
import { type Gateway, gatewayDeps } from "../../../gateway/deps";
import type { ShadowTotals } from "../../../gateway/shadow/stats";
import type { Backend } from "../../../layers/backend";
import { PrometheusMetrics } from "../../../layers/telemetry/prometheus";

/** A gateway in local mode (open, no cache table) over `catalog`; `timeoutMs` bounds every backend call. */
export function shadowGateway(catalog: Map<string, Backend>, timeoutMs = 2000) {
  const config = readGatewayConfig({ BACKEND_TIMEOUT_MS: String(timeoutMs), LOG_LEVEL: "SILENT" });
  const gateway: Gateway = gatewayDeps(config, catalog, { prometheus: new PrometheusMetrics() });
  const app = createApp(gateway.deps);
  const infer = (model: string, inputs: unknown[], version?: number) =>
    app.request(`/v2/models/${model}${version === undefined ? "" : `/versions/${version}`}/infer`, {
      method: "POST",
      body: JSON.stringify({ inputs }),
    });
  const summary = async (model: string) =>
    (await (await app.request(`/v2/models/${model}/shadow`)).json()) as {
      shadow: { version: number; percent: number } | null;
      live_version?: string;
      shadow_version?: string;
      totals: ShadowTotals;
      last_disagreements: Array<{ request_id: string; outputs: Array<Record<string, unknown>> }>;
    };
  const metrics = async () => (await app.request("/metrics")).text();
  return { gateway, app, infer, summary, metrics };
}
