/**
 * The CodeDeploy `BeforeAllowTraffic` hook of one CPU model (functions/release-hook): a small Node.js
 * 22 function that checks the new Lambda version before alias `live` moves. It may invoke only that
 * version and the alias, read only the model's prefix of the repository, and report to CodeDeploy
 * (granted by the deployment group it is attached to).
 */
import { Duration } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import {
  Architecture,
  Code,
  type IFunction,
  type IVersion,
  Function as LambdaFunction,
  LoggingFormat,
  Runtime,
} from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { stageBundle } from "../staging";
import type { IModelRepository } from "./model-storage";
import { acknowledge } from "./nag";

/** Properties of ReleaseHook. */
export interface ReleaseHookProps {
  readonly modelName: string;
  /** The model function. */
  readonly function: IFunction;
  /** The version to check. */
  readonly version: IVersion;
  /** The alias CodeDeploy moves (still on the old version while the hook runs). */
  readonly aliasName: string;
  readonly repository: IModelRepository;
  /** Retention of the hook's log group, where its verdicts and reasons are. @default ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** The hook function and its log group. */
export class ReleaseHook extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ReleaseHookProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, "Logs", { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    const role = new Role(this, "Role", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
    this.logGroup.grantWrite(role);
    // By text, not a reference to the alias: the alias's update waits for this hook.
    const aliasArn = `${props.function.functionArn}:${props.aliasName}`;
    role.addToPolicy(
      new PolicyStatement({
        actions: ["lambda:InvokeFunction"],
        resources: [props.version.functionArn, aliasArn],
      }),
    );
    props.repository.grantRead(role, `${props.modelName}/`);

    this.function = new LambdaFunction(this, "Function", {
      code: Code.fromAsset(stageBundle(this, "release-hook")),
      handler: "index.handler",
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 256,
      // Samples and generated requests on a cold version; CodeDeploy waits up to an hour for a verdict.
      timeout: Duration.minutes(5),
      role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      description: `edge-infer release check of model ${props.modelName}`,
      environment: {
        FUNCTION_NAME: props.function.functionName,
        NEW_VERSION: props.version.version,
        MODEL_NAME: props.modelName,
        MODEL_REPOSITORY: props.repository.uri,
        ALIAS: props.aliasName,
        NODE_OPTIONS: "--enable-source-maps",
      },
    });
    acknowledge(
      this.function,
      "AwsSolutions-L1",
      "Node.js 22 is the runtime edge-infer targets and tests (architecture.md); moving to a newer one is a deliberate change.",
    );
  }
}
