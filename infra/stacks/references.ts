/** How the stacks reference each other. */
import { CrossStackReferences, ReferenceStrength, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";

/**
 * Strong (export/import) references, stated rather than left to the default: a producer still in
 * use cannot be deleted by mistake. To remove a model, delete its catalog line and deploy (the
 * gateway stops importing it), then destroy its stack. Call before adding children.
 */
export function consumeStrongReferences(stack: Stack): void {
  CrossStackReferences.of(stack).consume(ReferenceStrength.STRONG);
}

/** A stack that consumes strong references (consumeStrongReferences) before any child is added. */
export class StronglyReferencingStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    consumeStrongReferences(this);
  }
}
