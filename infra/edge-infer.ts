/**
 * Assembles the edge-infer stacks from a catalog: storage, one stack per model, the gateway and
 * observability. Stack ids derive from a prefix and the catalog names; no physical name is fixed.
 */
import { Duration, type Environment, type Stage, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { ImageSource } from "./constructs/backend";
import type { GatewayProps } from "./constructs/gateway";
import type { Catalog } from "./model-spec";
import { AlarmsStack } from "./stacks/alarms-stack";
import { GatewayStack } from "./stacks/gateway-stack";
import { ModelStack } from "./stacks/model-stack";
import { ObservabilityStack } from "./stacks/observability-stack";
import { StorageStack } from "./stacks/storage-stack";
import { checkTimeouts } from "./timeouts";

/** Options of addEdgeInfer. */
export interface EdgeInferOptions {
  readonly catalog: Catalog;
  /** Prefix of every stack id. @default "EdgeInfer" */
  readonly prefix?: string;
  /** Account and region. @default environment-agnostic stacks */
  readonly env?: Environment;
  /** Gateway settings besides backends and storage (entry, domain, WAF...). @default {} */
  readonly gateway?: Omit<GatewayProps, "backends" | "storage">;
  /** CPU image build. @default functions/Dockerfile, repository root as context */
  readonly cpuImage?: ImageSource;
  /** GPU image build. @default functions/Dockerfile.gpu, repository root as context */
  readonly gpuImage?: ImageSource;
  /** onnxruntime-node version of the images. @default the version package-lock.json pins */
  readonly ortVersion?: string;
}

/** The stacks addEdgeInfer created. */
export interface EdgeInferStacks {
  readonly storage: StorageStack;
  /** The alarm topic every alarm notifies. */
  readonly alarms: AlarmsStack;
  /** By model name. */
  readonly models: ReadonlyMap<string, ModelStack>;
  readonly gateway: GatewayStack;
  readonly observability: ObservabilityStack;
}

/** Adds every edge-infer stack for `options.catalog` to `scope` (an App or a Stage). */
export function addEdgeInfer(scope: Stage, options: EdgeInferOptions): EdgeInferStacks {
  const prefix = options.prefix ?? "EdgeInfer";
  const { catalog, env } = options;
  checkTimeouts(catalog, (options.gateway?.timeout ?? Duration.seconds(30)).toSeconds());
  const alarms = new AlarmsStack(scope, `${prefix}-Alarms`, {
    env,
    description: "edge-infer: the alarm topic (SNS) every model and gateway alarm notifies",
  });
  const alarmTopic = alarms.alarmTopic.topic;
  const storage = new StorageStack(scope, `${prefix}-Storage`, {
    env,
    description: "edge-infer: model repository (S3), result cache and API keys (DynamoDB)",
    storage: { repositoryPrefix: catalog.repositoryPrefix },
  });
  const models = new Map<string, ModelStack>();
  for (const model of catalog.models) {
    const stack = new ModelStack(scope, `${prefix}-Model-${model.name}`, {
      env,
      description: `edge-infer: model ${model.name} (${model.backend === "cpu" ? "Lambda, CPU" : "SageMaker, GPU"})`,
      model,
      repository: storage.storage,
      alarmTopic,
      metricsNamespace: options.gateway?.metricsNamespace,
      cpuImage: options.cpuImage,
      gpuImage: options.gpuImage,
      ortVersion: options.ortVersion,
    });
    models.set(model.name, stack);
  }
  const gateway = new GatewayStack(scope, `${prefix}-Gateway`, {
    env,
    description: "edge-infer: gateway Lambda, Function URL and CloudFront",
    ...options.gateway,
    backends: [...models.values()].map((s) => s.backend),
    shadows: Object.fromEntries(
      catalog.models.flatMap((m) => (m.shadow === undefined ? [] : [[m.name, m.shadow]])),
    ),
    storage: storage.storage,
  });
  const observability = new ObservabilityStack(scope, `${prefix}-Observability`, {
    env,
    description: "edge-infer: dashboard and gateway alarms",
    models: catalog.models.map((m) => m.name),
    topic: alarmTopic,
    gatewayFunction: gateway.gateway.function,
    namespace: options.gateway?.metricsNamespace,
    shadows: catalog.models.flatMap((m) =>
      m.shadow === undefined
        ? []
        : [{ model: m.name, liveVersion: m.liveVersion, shadowVersion: m.shadow.version }],
    ),
  });
  return { storage, alarms, models, gateway, observability };
}

/** Runs cdk-nag's AwsSolutions pack over `scope` at synthesis (unacknowledged errors fail it). */
export function addNagChecks(scope: Stage): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope));
}
