/** The stack of the public edge: gateway function, Function URL, CloudFront. */
import { CfnOutput, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { Gateway, type GatewayProps } from "../constructs/gateway";
import { StronglyReferencingStack } from "./references";

/** Properties of GatewayStack: those of the Gateway construct. */
export interface GatewayStackProps extends StackProps, GatewayProps {}

/** Gateway construct plus its public URL as an output. */
export class GatewayStack extends StronglyReferencingStack {
  readonly gateway: Gateway;

  constructor(scope: Construct, id: string, props: GatewayStackProps) {
    super(scope, id, props);
    this.gateway = new Gateway(this, "Gateway", props);
    new CfnOutput(this, "Url", {
      value: `https://${this.gateway.distribution.distributionDomainName}`,
      description: "Public base URL of the inference API",
    });
    new CfnOutput(this, "OriginSecretArn", {
      value: this.gateway.originVerifySecret.secretArn,
      description:
        "Secret CloudFront sends in x-origin-verify (rotate: README, 'How CloudFront reaches the gateway')",
    });
  }
}
