/**
 * Storage: the S3 model repository (Triton layout under a key prefix), the DynamoDB result cache and
 * the API keys table. Grants are methods so that the IAM of data access stays here.
 */
import { Duration, RemovalPolicy } from "aws-cdk-lib";
import { AttributeType, BillingMode, Table } from "aws-cdk-lib/aws-dynamodb";
import { Grant, type IGrantable } from "aws-cdk-lib/aws-iam";
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from "aws-cdk-lib/aws-s3";
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from "aws-cdk-lib/cx-api";
import { Construct } from "constructs";
import { acknowledge, acknowledgeFindings } from "./nag";

/** What a consumer needs of the model repository: its URI and a read grant on a key prefix. */
export interface IModelRepository {
  /** `s3://<bucket>/<prefix>`: what `MODEL_REPOSITORY` is set to. */
  readonly uri: string;
  /** Read (GetObject, and ListBucket limited to the prefix) on `<prefix>/<keyPrefix>`. */
  grantRead(grantee: IGrantable, keyPrefix?: string): Grant;
}

/** Properties of ModelStorage. */
export interface ModelStorageProps {
  /** Key prefix of the repository root in the bucket. @default "models" */
  readonly repositoryPrefix?: string;
  /** Days a replaced or deleted model file is kept (the bucket is versioned). @default 90 */
  readonly noncurrentVersionDays?: number;
  /** Days S3 server access logs are kept. @default 365 */
  readonly accessLogDays?: number;
  /** What happens to the bucket and tables when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** The model repository bucket, the result cache table and the API keys table. */
export class ModelStorage extends Construct implements IModelRepository {
  /** The versioned, encrypted, private, TLS-only model repository bucket. */
  readonly bucket: Bucket;
  /** Where the S3 server access logs of `bucket` go. */
  readonly accessLogs: Bucket;
  /** Result cache: pk (string), TTL attribute `expires_at`, on demand, PITR. */
  readonly cacheTable: Table;
  /** API keys: pk `key_hash` (string), on demand, PITR. */
  readonly apiKeysTable: Table;
  /** Key prefix of the repository root, without a trailing slash. */
  readonly repositoryPrefix: string;
  readonly uri: string;

  constructor(scope: Construct, id: string, props: ModelStorageProps = {}) {
    super(scope, id);
    // Server access logging through a bucket policy, not the legacy log-delivery ACL, whatever the
    // app's feature flags: the log bucket can then keep ACLs disabled.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.repositoryPrefix = props.repositoryPrefix ?? "models";

    this.accessLogs = new Bucket(this, "AccessLogs", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogDays ?? 365) }],
      removalPolicy,
    });
    acknowledge(
      this.accessLogs,
      "AwsSolutions-S1",
      "This bucket is the access-log target; logging it into itself would loop.",
    );

    this.bucket = new Bucket(this, "Repository", {
      versioned: true,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: "repository/",
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(props.noncurrentVersionDays ?? 90) }],
      removalPolicy,
    });
    this.uri = `s3://${this.bucket.bucketName}/${this.repositoryPrefix}`;

    const table = { billingMode: BillingMode.PAY_PER_REQUEST, removalPolicy };
    const pitr = { pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true } };
    this.cacheTable = new Table(this, "Cache", {
      ...table,
      ...pitr,
      partitionKey: { name: "pk", type: AttributeType.STRING },
      timeToLiveAttribute: "expires_at",
    });
    this.apiKeysTable = new Table(this, "ApiKeys", {
      ...table,
      ...pitr,
      partitionKey: { name: "key_hash", type: AttributeType.STRING },
    });
  }

  grantRead(grantee: IGrantable, keyPrefix = ""): Grant {
    const prefix = `${this.repositoryPrefix}/${keyPrefix}`;
    Grant.addToPrincipal({
      grantee,
      actions: ["s3:ListBucket"],
      resourceArns: [this.bucket.bucketArn],
      conditions: { StringLike: { "s3:prefix": [prefix, `${prefix}*`] } },
    });
    const grant = Grant.addToPrincipal({
      grantee,
      actions: ["s3:GetObject"],
      resourceArns: [this.bucket.arnForObjects(`${prefix}*`)],
    });
    const pattern = new RegExp(`^Resource::.*/${escapeRegExp(prefix)}\\*$`);
    const principal = grantee.grantPrincipal;
    if (Construct.isConstruct(principal)) {
      acknowledgeFindings(
        principal,
        "AwsSolutions-IAM5",
        pattern,
        `Read-only s3:GetObject on the key prefix ${prefix} of the model repository: an object ARN needs the trailing wildcard.`,
      );
    }
    return grant;
  }

  /** GetItem and PutItem on the cache table: the gateway reads a result and writes one, nothing else. */
  grantCacheReadWrite(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ["dynamodb:GetItem", "dynamodb:PutItem"],
      resourceArns: [this.cacheTable.tableArn],
    });
  }

  /** GetItem on the API keys table: a key is looked up by its hash. */
  grantApiKeysRead(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ["dynamodb:GetItem"],
      resourceArns: [this.apiKeysTable.tableArn],
    });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
