import { readGatewayConfig } from "./gateway/config";
import { startGateway } from "./gateway/serve";
const config = readGatewayConfig({ LOG_LEVEL: "DEBUG", HOST: "127.0.0.1", PORT: "0" });
const gw = await startGateway(config, { print: () => {} });
const r = await fetch(`${gw.url}/console/api/releases`);
console.log(r.status, await r.text());
const r2 = await fetch(`${gw.url}/v2/models/ocr-cls/shadow`);
console.log(r2.status, await r2.text());
await gw.close();
