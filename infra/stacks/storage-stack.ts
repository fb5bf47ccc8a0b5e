/** The stack holding what outlives every release: the model repository, cache and API keys. */
import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ModelStorage, type ModelStorageProps } from "../constructs/model-storage";

/** Properties of StorageStack. */
export interface StorageStackProps extends StackProps {
  /** Passed to ModelStorage. @default {} */
  readonly storage?: ModelStorageProps;
}

/** S3 model repository, DynamoDB cache table and API keys table, named in the outputs. */
export class StorageStack extends Stack {
  readonly storage: ModelStorage;

  constructor(scope: Construct, id: string, props: StorageStackProps = {}) {
    super(scope, id, props);
    this.storage = new ModelStorage(this, "ModelStorage", props.storage);
    // What the README's upload and key commands need.
    new CfnOutput(this, "RepositoryUri", {
      value: this.storage.uri,
      description: "Upload models here (aws s3 sync)",
    });
    new CfnOutput(this, "CacheTable", { value: this.storage.cacheTable.tableName });
    new CfnOutput(this, "ApiKeysTable", {
      value: this.storage.apiKeysTable.tableName,
      description: "API_KEYS_TABLE",
    });
  }
}
