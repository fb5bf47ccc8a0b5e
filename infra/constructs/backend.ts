/** What the gateway needs of a model's backend, whichever service runs it. */
import type { Grant, IGrantable } from "aws-cdk-lib/aws-iam";

/** One entry of the gateway's MODEL_CATALOG variable. */
export type CatalogTarget = { backend: "lambda"; target: string } | { backend: "sagemaker"; target: string };

/** A deployed model the gateway can route to. */
export interface IModelBackend {
  /** The model's catalog name. */
  readonly modelName: string;
  /** How the gateway reaches it: the alias ARN of a Lambda function or a SageMaker endpoint name. */
  readonly catalogTarget: CatalogTarget;
  /** Permission to invoke this model only (the alias `live`, or the endpoint). */
  grantInvoke(grantee: IGrantable): Grant;
}

/** A Docker build: context directory and Dockerfile path relative to it. */
export interface ImageSource {
  /** Build context (the repository root for the real images: see .dockerignore). */
  readonly directory: string;
  /** Dockerfile, relative to `directory`. */
  readonly file: string;
}
