/** The stack of dashboards and gateway alarms; changing it never touches the serving path. */
import type { StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { Observability, type ObservabilityProps } from "../constructs/observability";
import { StronglyReferencingStack } from "./references";

/** Properties of ObservabilityStack: those of the Observability construct. */
export interface ObservabilityStackProps extends StackProps, ObservabilityProps {}

/** The Observability construct (the alarm topic it notifies: AlarmsStack). */
export class ObservabilityStack extends StronglyReferencingStack {
  readonly observability: Observability;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    this.observability = new Observability(this, "Observability", props);
  }
}
