/**
 * The encrypted SNS topic every edge-infer alarm notifies (model, GPU endpoint, gateway). It lives in
 * a stack of its own that the others depend on, so model alarms can point at it without a cycle.
 */
import type { Alarm } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import { type ITopic, Topic } from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";

/** The alarm topic and its key. */
export class AlarmTopic extends Construct {
  /** Subscribe e-mail, chat or paging to it. */
  readonly topic: Topic;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // A customer-managed key: CloudWatch cannot publish to a topic under the AWS-managed SNS key.
    const key = new Key(this, "TopicKey", { enableKeyRotation: true, description: "edge-infer alarm topic" });
    key.grant(new ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*");
    this.topic = new Topic(this, "Alarms", { masterKey: key, enforceSSL: true });
  }
}

/** Sends `alarm`'s ALARM and OK transitions to `topic`. */
export function notify(alarm: Alarm, topic: ITopic): Alarm {
  alarm.addAlarmAction(new SnsAction(topic));
  alarm.addOkAction(new SnsAction(topic));
  return alarm;
}
