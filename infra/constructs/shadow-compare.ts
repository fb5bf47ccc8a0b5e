/**
 * The shadow comparison function (functions/shadow-compare): the gateway hands it sampled requests
 * with their live answers by asynchronous Invoke; it calls the shadow version of the model's own
 * function and prints EMF metrics. Bounded: reserved concurrency caps the shadow load on the model
 * functions; no retries (a retried event would be counted twice); events that wait too long are
 * discarded. It may invoke only the shadowed models' functions.
 */
import { Duration, Stack } from "aws-cdk-lib";
import { type IGrantable, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import {
  Architecture,
  Code,
  Function as LambdaFunction,
  LoggingFormat,
  Runtime,
} from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { stageBundle } from "../staging";
import type { IModelBackend } from "./backend";
import { acknowledge } from "./nag";

/** Properties of ShadowCompare. */
export interface ShadowCompareProps {
  /** The models that have a shadow (Lambda backends): the only functions it may invoke. */
  readonly backends: readonly IModelBackend[];
  /** POWERTOOLS_METRICS_NAMESPACE of its EMF metrics. @default "EdgeInfer" */
  readonly metricsNamespace?: string;
  /** Comparisons running at once, all models together. @default 10 */
  readonly maxConcurrency?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** The comparison function and its log group (its disagreement lines name the worst elements). */
export class ShadowCompare extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ShadowCompareProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, "Logs", { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    const role = new Role(this, "Role", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
    this.logGroup.grantWrite(role);
    for (const b of props.backends) b.grantInvoke(role);
    const targets = Object.fromEntries(props.backends.map((b) => [b.modelName, b.catalogTarget.target]));
    this.function = new LambdaFunction(this, "Function", {
      code: Code.fromAsset(stageBundle(this, "shadow-compare")),
      handler: "index.handler",
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      // Longer than a model function's call (at most the gateway's deadline) plus the comparison.
      timeout: Duration.seconds(60),
      reservedConcurrentExecutions: props.maxConcurrency ?? 10,
      retryAttempts: 0,
      maxEventAge: Duration.minutes(5),
      role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      description: "edge-infer shadow comparison (live answer vs shadow version)",
      environment: {
        SHADOW_TARGETS: Stack.of(this).toJsonString(targets),
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? "EdgeInfer",
        NODE_OPTIONS: "--enable-source-maps",
      },
    });
    acknowledge(
      this.function,
      "AwsSolutions-L1",
      "Node.js 22 is the runtime edge-infer targets and tests (architecture.md); moving to a newer one is a deliberate change.",
    );
  }

  /** Lets the gateway hand jobs over (asynchronous Invoke of this function only). */
  grantHandOver(grantee: IGrantable): void {
    // The unqualified function only (Function.grantInvoke would add every version, `:*`).
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: [this.function.functionArn] }),
    );
  }
}
