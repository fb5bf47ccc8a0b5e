/**
 * A CPU model (or pipeline, its step models in-process): a Lambda container function running ORT,
 * its published version naming the live model version, alias `live`, and a CodeDeploy deployment group that shifts the alias with the model's
 * rollout once the release hook has checked the new version, and rolls back when the new version's
 * alarms fire.
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { LambdaDeploymentGroup } from "aws-cdk-lib/aws-codedeploy";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import { Grant, type IGrantable, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import {
  Alias,
  Architecture,
  DockerImageCode,
  DockerImageFunction,
  LoggingFormat,
} from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import type { CpuModel } from "../model-spec";
import { ortVersion, sharpVersion } from "../paths";
import { lambdaDeploymentConfig } from "../rollout";
import { stageImage } from "../staging";
import type { CatalogTarget, IModelBackend, ImageSource } from "./backend";
import { type ModelFunctionAlarms, modelFunctionAlarms } from "./model-alarms";
import type { IModelRepository } from "./model-storage";
import { acknowledgeFindings } from "./nag";
import { ReleaseHook } from "./release-hook";

/** Properties of ModelFunction. */
export interface ModelFunctionProps {
  /** The resolved catalog entry. */
  readonly model: CpuModel;
  /** Where the function loads model files from (read-only on the model's own prefix). */
  readonly repository: IModelRepository;
  /** Where every alarm of the model notifies. */
  readonly alarmTopic: ITopic;
  /** Image build. @default functions/Dockerfile with dist/model-function, built now from the source (infra/staging.ts) */
  readonly image?: ImageSource;
  /** onnxruntime-node version installed in the image. @default the version package-lock.json pins */
  readonly ortVersion?: string;
  /** Retention of the function's log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** POWERTOOLS_METRICS_NAMESPACE of the function's EMF metrics (run-failure alarm). @default "EdgeInfer" */
  readonly metricsNamespace?: string;
}

/** The function, its alias `live` and the deployment group that moves the alias. */
export class ModelFunction extends Construct implements IModelBackend {
  readonly modelName: string;
  readonly function: DockerImageFunction;
  /** Alias `live`: what the gateway invokes and CodeDeploy shifts. */
  readonly alias: Alias;
  readonly deploymentGroup: LambdaDeploymentGroup;
  /** Release alarms (the deployment group's, on the new version) and steady-state alarms (alias). */
  readonly alarms: ModelFunctionAlarms;
  /** The BeforeAllowTraffic hook that checks a new version before any traffic moves. */
  readonly releaseHook: ReleaseHook;
  readonly catalogTarget: CatalogTarget;

  constructor(scope: Construct, id: string, props: ModelFunctionProps) {
    super(scope, id);
    const { model } = props;
    this.modelName = model.name;
    const arm = model.architecture === "arm64";
    const image = props.image ?? stageImage(this, "cpu");
    const namespace = props.metricsNamespace ?? "EdgeInfer";

    const logGroup = new LogGroup(this, "Logs", { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    // An own role instead of AWSLambdaBasicExecutionRole: logs only to this log group.
    const role = new Role(this, "Role", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
    logGroup.grantWrite(role);

    this.function = new DockerImageFunction(this, "Function", {
      code: DockerImageCode.fromImageAsset(image.directory, {
        file: image.file,
        platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
        buildArgs: { ORT_VERSION: props.ortVersion ?? ortVersion(), SHARP_VERSION: sharpVersion() },
      }),
      architecture: arm ? Architecture.ARM_64 : Architecture.X86_64,
      memorySize: model.memoryMiB,
      timeout: Duration.seconds(model.timeoutSeconds),
      role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      description: `edge-infer model ${model.name}`,
      // Old versions stay published: `update-alias` can point live back at one in seconds.
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
      // MODEL_VERSION is part of the version hash: bumping it publishes a new Lambda version.
      environment: {
        MODEL_NAME: model.name,
        MODEL_VERSION: String(model.liveVersion),
        MODEL_REPOSITORY: props.repository.uri,
        MODEL_CACHE_DIR: "/tmp/models",
        POWERTOOLS_METRICS_NAMESPACE: namespace,
      },
    });
    props.repository.grantRead(role, `${model.name}/`);
    // A pipeline runs its step models in this function: it reads their files too (nothing more).
    for (const step of model.steps) props.repository.grantRead(role, `${step}/`);

    this.alias = new Alias(this, "Live", {
      aliasName: "live",
      version: this.function.currentVersion,
      provisionedConcurrentExecutions:
        model.provisionedConcurrency > 0 ? model.provisionedConcurrency : undefined,
    });
    this.catalogTarget = { backend: "lambda", target: this.alias.functionArn };

    const version = this.function.currentVersion;
    this.alarms = modelFunctionAlarms(this, {
      model,
      function: this.function,
      version,
      alias: this.alias,
      topic: props.alarmTopic,
      namespace,
    });
    // The release alarms name the new version: CloudFormation updates them before the alias moves.
    for (const a of Object.values(this.alarms.release)) this.alias.node.addDependency(a);

    this.releaseHook = new ReleaseHook(this, "ReleaseHook", {
      modelName: model.name,
      function: this.function,
      version,
      aliasName: this.alias.aliasName,
      repository: props.repository,
      logRetention: props.logRetention,
    });
    this.deploymentGroup = new LambdaDeploymentGroup(this, "Deployment", {
      alias: this.alias,
      deploymentConfig: lambdaDeploymentConfig(this, "Rollout", model.rollout),
      preHook: this.releaseHook.function,
      alarms: Object.values(this.alarms.release),
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    acknowledgeFindings(
      this.deploymentGroup,
      "AwsSolutions-IAM5",
      /^Resource::<[A-Za-z0-9]*ReleaseHookFunction[A-Za-z0-9]*\.Arn>:\*$/,
      "CDK grants CodeDeploy invoke on the release hook's versions (<hook ARN>:*), as a hook may be invoked qualified; it is this model's own hook only.",
    );
    acknowledgeFindings(
      this.deploymentGroup,
      "AwsSolutions-IAM4",
      /AWSCodeDeployRoleForLambdaLimited$/,
      "CodeDeploy's own least-privilege managed policy for Lambda: it may only update aliases and read the alarms it watches.",
    );
  }

  /** lambda:InvokeFunction on alias `live` only. */
  grantInvoke(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ["lambda:InvokeFunction"],
      resourceArns: [this.alias.functionArn],
    });
  }
}
