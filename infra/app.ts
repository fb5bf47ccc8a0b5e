/**
 * The CDK app (`npx cdk synth|deploy`): every stack for infra/catalog.ts, checked by cdk-nag.
 * Context: `-c prefix=<stack id prefix>` (default EdgeInfer), `-c gpu=false` to leave GPU models out,
 * `-c originSecretVersion=<VersionId>` after rotating the origin secret by hand (README).
 */
import { App } from "aws-cdk-lib";
import { catalog } from "./catalog";
import { addEdgeInfer, addNagChecks } from "./edge-infer";
import { defineCatalog } from "./model-spec";

const app = new App();
const prefix: unknown = app.node.tryGetContext("prefix");
const gpu: unknown = app.node.tryGetContext("gpu");
const withGpu = !(gpu === false || gpu === "false");
const originSecretVersion: unknown = app.node.tryGetContext("originSecretVersion");

addEdgeInfer(app, {
  catalog: withGpu
    ? catalog
    : defineCatalog({ ...catalog, models: catalog.models.filter((m) => m.backend !== "gpu") }),
  prefix: typeof prefix === "string" && prefix !== "" ? prefix : undefined,
  gateway: {
    originVerifyVersionId:
      typeof originSecretVersion === "string" && originSecretVersion !== "" ? originSecretVersion : undefined,
  },
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
addNagChecks(app);
app.synth();
