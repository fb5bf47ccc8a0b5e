/** How the stacks reference each other. */
import { CrossStackReferences, ReferenceStrength, type Stack } from "aws-cdk-lib";

/**
 * Strong (export/import) references, stated rather than left to the default: a producer still in
 * use cannot be deleted by mistake. To remove a model, delete its catalog line and deploy (the
 * gateway stops importing it), then destroy its stack. Call before adding children.
 */
export function consumeStrongReferences(stack: Stack): void {
  CrossStackReferences.of(stack).consume(ReferenceStrength.STRONG);
}
