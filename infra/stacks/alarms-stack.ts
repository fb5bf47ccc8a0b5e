/** The stack of the alarm topic: deployed first, referenced by every stack that has alarms. */
import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { AlarmTopic } from "../constructs/alarm-topic";

/** AlarmTopic plus its ARN as an output (to subscribe to). */
export class AlarmsStack extends Stack {
  readonly alarmTopic: AlarmTopic;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    this.alarmTopic = new AlarmTopic(this, "AlarmTopic");
    new CfnOutput(this, "AlarmTopicArn", { value: this.alarmTopic.topic.topicArn });
  }
}
