/** The stack of dashboards and gateway alarms; changing it never touches the serving path. */
import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { Observability, type ObservabilityProps } from "../constructs/observability";
import { consumeStrongReferences } from "./references";

/** Properties of ObservabilityStack: those of the Observability construct. */
export interface ObservabilityStackProps extends StackProps, ObservabilityProps {}

/** Observability construct plus the alarm topic ARN as an output (to subscribe to). */
export class ObservabilityStack extends Stack {
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    consumeStrongReferences(this);
    this.observability = new Observability(this, "Observability", props);
    new CfnOutput(this, "AlarmTopicArn", { value: this.observability.topic.topicArn });
  }
}
