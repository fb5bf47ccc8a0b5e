/**
 * A GPU model: a SageMaker real-time endpoint running the container server (ORT CUDA, CPU fallback).
 * A new live version replaces the SageMaker model and endpoint config; the endpoint then moves to
 * them blue/green with the catalog's rollout and rolls back when its alarms fire.
 */
import { Duration, Names, RemovalPolicy, Stack } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { DockerImageAsset, Platform } from "aws-cdk-lib/aws-ecr-assets";
import { Grant, type IGrantable, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { CfnEndpoint, CfnEndpointConfig, CfnModel } from "aws-cdk-lib/aws-sagemaker";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";
import type { GpuModel } from "../model-spec";
import { ortVersion, sharpVersion } from "../paths";
import { sageMakerTrafficRouting } from "../rollout";
import { stageImage } from "../staging";
import { notify } from "./alarm-topic";
import type { CatalogTarget, IModelBackend, ImageSource } from "./backend";
import type { IModelRepository } from "./model-storage";
import { acknowledge, acknowledgeFindings } from "./nag";

/** Properties of GpuEndpoint. */
export interface GpuEndpointProps {
  /** The resolved catalog entry. */
  readonly model: GpuModel;
  /** Where the container loads model files from (read-only on the model's own prefix). */
  readonly repository: IModelRepository;
  /** Where the endpoint's alarms notify. */
  readonly alarmTopic: ITopic;
  /** Image build. @default functions/Dockerfile.gpu with dist/model-server, built now from the source (infra/staging.ts) */
  readonly image?: ImageSource;
  /** onnxruntime-node version installed in the image. @default the version package-lock.json pins */
  readonly ortVersion?: string;
  /** Retention of the endpoint's log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Seconds the old fleet is kept (and alarms watched) after the last shift. @default 600 */
  readonly terminationWaitSeconds?: number;
}

/** The SageMaker name of the one production variant. */
export const VARIANT_NAME = "AllTraffic";

/** SageMaker model, endpoint config and endpoint, with rollback alarms. */
export class GpuEndpoint extends Construct implements IModelBackend {
  readonly modelName: string;
  /** Endpoint name, derived from the construct path (alarms need it before the endpoint exists). */
  readonly endpointName: string;
  readonly endpoint: CfnEndpoint;
  readonly endpointConfig: CfnEndpointConfig;
  readonly sageMakerModel: CfnModel;
  readonly role: Role;
  /** Alarms that roll back a blue/green update: 5xx errors and p99 model latency. */
  readonly alarms: { readonly errors: Alarm; readonly latency: Alarm };
  readonly catalogTarget: CatalogTarget;

  constructor(scope: Construct, id: string, props: GpuEndpointProps) {
    super(scope, id);
    const { model } = props;
    this.modelName = model.name;
    // Lower case: SageMaker writes endpoint ARNs in lower case, and IAM compares them as written.
    this.endpointName = Names.uniqueResourceName(this, { maxLength: 63, separator: "-" }).toLowerCase();
    const source = props.image ?? stageImage(this, "gpu");
    const image = new DockerImageAsset(this, "Image", {
      directory: source.directory,
      file: source.file,
      platform: Platform.LINUX_AMD64,
      buildArgs: { ORT_VERSION: props.ortVersion ?? ortVersion(), SHARP_VERSION: sharpVersion() },
    });

    this.role = new Role(this, "ExecutionRole", {
      assumedBy: new ServicePrincipal("sagemaker.amazonaws.com"),
    });
    image.repository.grantPull(this.role);
    acknowledgeFindings(
      this.role,
      "AwsSolutions-IAM5",
      /^Resource::\*$/,
      "ecr:GetAuthorizationToken has no resource-level permissions; image pulls themselves are limited to the asset repository.",
    );
    // Created here so it has a retention; SageMaker writes to it by this fixed name. Deleted with the
    // stack (after the endpoint, which depends on it, and without logs:CreateLogGroup the endpoint
    // cannot re-create it meanwhile), so the model can be removed from the catalog and added again.
    const logGroup = new LogGroup(this, "Logs", {
      logGroupName: `/aws/sagemaker/Endpoints/${this.endpointName}`,
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    logGroup.grantWrite(this.role);
    logGroup.grant(this.role, "logs:DescribeLogStreams");
    props.repository.grantRead(this.role, `${model.name}/`);

    this.sageMakerModel = new CfnModel(this, "Model", {
      executionRoleArn: this.role.roleArn,
      primaryContainer: {
        image: image.imageUri,
        environment: {
          MODEL_NAME: model.name,
          MODEL_VERSION: String(model.liveVersion),
          MODEL_REPOSITORY: props.repository.uri,
          MODEL_CACHE_DIR: "/tmp/models",
          // Below SageMaker's 60 s: the container answers its own 504 first (infra/timeouts.ts).
          BACKEND_TIMEOUT_MS: String(model.timeoutSeconds * 1000),
        },
      },
    });
    // SageMaker checks the role's permissions (image pull) when the model is created.
    this.sageMakerModel.node.addDependency(this.role);
    acknowledge(
      this.sageMakerModel,
      "AwsSolutions-SM1",
      "No VPC by design: the container reads S3 and the gateway calls it through the SageMaker API.",
    );

    this.endpointConfig = new CfnEndpointConfig(this, "Config", {
      productionVariants: [
        {
          variantName: VARIANT_NAME,
          modelName: this.sageMakerModel.attrModelName,
          instanceType: model.instanceType,
          initialInstanceCount: model.instanceCount,
          initialVariantWeight: 1,
          containerStartupHealthCheckTimeoutInSeconds: 600,
        },
      ],
    });
    acknowledge(
      this.endpointConfig,
      "AwsSolutions-SM2",
      "GPU instance types with local NVMe storage (g5, g6...) refuse a KmsKeyId; their instance storage is hardware-encrypted.",
    );

    const dimensionsMap = { EndpointName: this.endpointName, VariantName: VARIANT_NAME };
    const metric = (metricName: string, statistic: string) =>
      new Metric({
        namespace: "AWS/SageMaker",
        metricName,
        dimensionsMap,
        statistic,
        period: Duration.minutes(1),
      });
    const alarm = (alarmId: string, m: Metric, threshold: number, what: string) =>
      notify(
        new Alarm(this, alarmId, {
          metric: m,
          threshold,
          evaluationPeriods: model.alarms.evaluationPeriods,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
          alarmDescription: `${model.name} (SageMaker endpoint): ${what}. Rolls back a blue/green update in progress.`,
        }),
        props.alarmTopic,
      );
    this.alarms = {
      errors: alarm(
        "Errors",
        metric("Invocation5XXErrors", "Sum"),
        model.alarms.errors,
        `>= ${model.alarms.errors} 5xx a minute`,
      ),
      // ModelLatency is in microseconds.
      latency: alarm(
        "LatencyP99",
        metric("ModelLatency", "p99"),
        model.alarms.p99LatencyMs * 1000,
        `p99 model latency >= ${model.alarms.p99LatencyMs} ms`,
      ),
    };

    this.endpoint = new CfnEndpoint(this, "Endpoint", {
      endpointName: this.endpointName,
      endpointConfigName: this.endpointConfig.attrEndpointConfigName,
      deploymentConfig: {
        blueGreenUpdatePolicy: {
          trafficRoutingConfiguration: sageMakerTrafficRouting(model.rollout),
          terminationWaitInSeconds: props.terminationWaitSeconds ?? 600,
        },
        autoRollbackConfiguration: {
          alarms: [{ alarmName: this.alarms.errors.alarmName }, { alarmName: this.alarms.latency.alarmName }],
        },
      },
    });
    this.endpoint.node.addDependency(logGroup);
    // SageMaker's deployment guardrails read the rollback alarms' state with the execution role.
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ["cloudwatch:DescribeAlarms"],
        resources: [this.alarms.errors.alarmArn, this.alarms.latency.alarmArn],
      }),
    );
    this.catalogTarget = { backend: "sagemaker", target: this.endpoint.attrEndpointName };
  }

  /** sagemaker:InvokeEndpoint on this endpoint only. */
  grantInvoke(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ["sagemaker:InvokeEndpoint"],
      resourceArns: [
        Stack.of(this).formatArn({
          service: "sagemaker",
          resource: "endpoint",
          resourceName: this.endpointName,
        }),
      ],
    });
  }
}
