/** One stack per catalog model, so that a release of one model touches no other stack. */
import { CfnOutput, type StackProps } from "aws-cdk-lib";
import type { ITopic } from "aws-cdk-lib/aws-sns";
import type { Construct } from "constructs";
import type { IModelBackend, ImageSource } from "../constructs/backend";
import { GpuEndpoint } from "../constructs/gpu-endpoint";
import { ModelFunction } from "../constructs/model-function";
import type { IModelRepository } from "../constructs/model-storage";
import type { ModelSpec } from "../model-spec";
import { StronglyReferencingStack } from "./references";

/** Properties of ModelStack. */
export interface ModelStackProps extends StackProps {
  readonly model: ModelSpec;
  readonly repository: IModelRepository;
  /** Where the model's alarms notify (AlarmsStack). */
  readonly alarmTopic: ITopic;
  /** POWERTOOLS_METRICS_NAMESPACE of the model function. @default "EdgeInfer" */
  readonly metricsNamespace?: string;
  /** CPU image build. @default functions/Dockerfile in the repository root */
  readonly cpuImage?: ImageSource;
  /** GPU image build. @default functions/Dockerfile.gpu in the repository root */
  readonly gpuImage?: ImageSource;
  /** onnxruntime-node version of the images. @default the version package-lock.json pins */
  readonly ortVersion?: string;
}

/** A Lambda model function (backend cpu) or a SageMaker endpoint (backend gpu). */
export class ModelStack extends StronglyReferencingStack {
  readonly backend: IModelBackend;

  constructor(scope: Construct, id: string, props: ModelStackProps) {
    super(scope, id, props);
    const { model, repository, ortVersion, alarmTopic } = props;
    if (model.backend === "cpu") {
      const fn = new ModelFunction(this, "Model", {
        model,
        repository,
        alarmTopic,
        image: props.cpuImage,
        ortVersion,
        metricsNamespace: props.metricsNamespace,
      });
      this.backend = fn;
      // Names for watching and stopping a release (README: aws deploy ...).
      new CfnOutput(this, "FunctionName", { value: fn.function.functionName });
      new CfnOutput(this, "DeploymentApplication", { value: fn.deploymentGroup.application.applicationName });
      new CfnOutput(this, "DeploymentGroup", { value: fn.deploymentGroup.deploymentGroupName });
      new CfnOutput(this, "ReleaseHookLogGroup", { value: fn.releaseHook.logGroup.logGroupName });
    } else {
      const endpoint = new GpuEndpoint(this, "Model", {
        model,
        repository,
        alarmTopic,
        image: props.gpuImage,
        ortVersion,
      });
      this.backend = endpoint;
      new CfnOutput(this, "EndpointName", { value: endpoint.endpointName });
    }
  }
}
