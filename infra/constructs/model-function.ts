/**
 * A CPU model: a Lambda container function running ORT, its published version naming the live model
 * version, alias `live`, and a CodeDeploy deployment group that shifts the alias with the model's
 * rollout and rolls back when the alias alarms fire.
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
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
import { Construct } from "constructs";
import type { CpuModel } from "../model-spec";
import { ortVersion, REPO_ROOT } from "../paths";
import { lambdaDeploymentConfig } from "../rollout";
import type { CatalogTarget, IModelBackend, ImageSource } from "./backend";
import type { IModelRepository } from "./model-storage";
import { acknowledgeFindings } from "./nag";

/** Properties of ModelFunction. */
export interface ModelFunctionProps {
  /** The resolved catalog entry. */
  readonly model: CpuModel;
  /** Where the function loads model files from (read-only on the model's own prefix). */
  readonly repository: IModelRepository;
  /** Image build. @default { directory: REPO_ROOT, file: "functions/Dockerfile" } */
  readonly image?: ImageSource;
  /** onnxruntime-node version installed in the image. @default the version package-lock.json pins */
  readonly ortVersion?: string;
  /** Retention of the function's log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** The function, its alias `live` and the deployment group that moves the alias. */
export class ModelFunction extends Construct implements IModelBackend {
  readonly modelName: string;
  readonly function: DockerImageFunction;
  /** Alias `live`: what the gateway invokes and CodeDeploy shifts. */
  readonly alias: Alias;
  readonly deploymentGroup: LambdaDeploymentGroup;
  /** Alias alarms that stop and roll back a deployment: errors, p99 duration, throttles. */
  readonly alarms: { readonly errors: Alarm; readonly duration: Alarm; readonly throttles: Alarm };
  readonly catalogTarget: CatalogTarget;

  constructor(scope: Construct, id: string, props: ModelFunctionProps) {
    super(scope, id);
    const { model } = props;
    this.modelName = model.name;
    const arm = model.architecture === "arm64";
    const image = props.image ?? { directory: REPO_ROOT, file: "functions/Dockerfile" };

    const logGroup = new LogGroup(this, "Logs", { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    // An own role instead of AWSLambdaBasicExecutionRole: logs only to this log group.
    const role = new Role(this, "Role", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
    logGroup.grantWrite(role);

    this.function = new DockerImageFunction(this, "Function", {
      code: DockerImageCode.fromImageAsset(image.directory, {
        file: image.file,
        platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
        buildArgs: { ORT_VERSION: props.ortVersion ?? ortVersion() },
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
      },
    });
    props.repository.grantRead(role, `${model.name}/`);

    this.alias = new Alias(this, "Live", {
      aliasName: "live",
      version: this.function.currentVersion,
      provisionedConcurrentExecutions:
        model.provisionedConcurrency > 0 ? model.provisionedConcurrency : undefined,
    });
    this.catalogTarget = { backend: "lambda", target: this.alias.functionArn };

    const period = Duration.minutes(1);
    const alarm = (
      alarmId: string,
      metric: ReturnType<Alias["metricErrors"]>,
      threshold: number,
      what: string,
    ) =>
      new Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: model.alarms.evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `${model.name} (alias live): ${what}. Stops and rolls back a deployment in progress.`,
      });
    this.alarms = {
      errors: alarm(
        "Errors",
        this.alias.metricErrors({ period, statistic: "Sum" }),
        model.alarms.errors,
        `>= ${model.alarms.errors} errors a minute`,
      ),
      duration: alarm(
        "DurationP99",
        this.alias.metricDuration({ period, statistic: "p99" }),
        model.alarms.p99LatencyMs,
        `p99 duration >= ${model.alarms.p99LatencyMs} ms`,
      ),
      throttles: alarm(
        "Throttles",
        this.alias.metricThrottles({ period, statistic: "Sum" }),
        model.alarms.throttles,
        `>= ${model.alarms.throttles} throttles a minute`,
      ),
    };

    this.deploymentGroup = new LambdaDeploymentGroup(this, "Deployment", {
      alias: this.alias,
      deploymentConfig: lambdaDeploymentConfig(this, "Rollout", model.rollout),
      alarms: [this.alarms.errors, this.alarms.duration, this.alarms.throttles],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
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
