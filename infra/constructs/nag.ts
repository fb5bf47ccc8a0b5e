/**
 * cdk-nag v3 acknowledgements (CDK `Validations`), each with its written reason. Findings whose id
 * embeds a resolved reference (a wildcard ARN under a bucket of another stack) are acknowledged once
 * the app is prepared, because only then has a cross-stack ARN its final form (an `Fn::ImportValue`).
 */
import { CfnResource, Validations } from "aws-cdk-lib";
import { rules } from "cdk-nag";
import type { IConstruct } from "constructs";

/** Acknowledges a whole rule (e.g. `AwsSolutions-S1`) on `scope` and everything under it. */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The multi-finding rules whose findings can be acknowledged one by one. */
const FINDING_RULES = {
  "AwsSolutions-IAM4": rules.iam.IAMNoManagedPolicies,
  "AwsSolutions-IAM5": rules.iam.IAMNoWildcardPermissions,
} as const;

/**
 * Acknowledges, on every resource under `scope`, the findings of `rule` that match `finding`
 * (e.g. /^Resource::.*\/models\/ocr-det\/\*$/) and only those: a new wildcard elsewhere still fails.
 */
export function acknowledgeFindings(
  scope: IConstruct,
  rule: keyof typeof FINDING_RULES,
  finding: RegExp,
  reason: string,
): void {
  scope.node.addValidation({
    // Runs after prepareApp (references resolved) and before the nag plugin reads acknowledgements.
    validate: () => {
      for (const node of scope.node.findAll()) {
        if (!CfnResource.isCfnResource(node)) continue;
        const result = FINDING_RULES[rule](node);
        if (!Array.isArray(result)) continue;
        for (const f of result) {
          if (finding.test(f)) Validations.of(node).acknowledge({ id: `${rule}[${f}]`, reason });
        }
      }
      return [];
    },
  });
}
