/**
 * The public edge: the Hono gateway as a Node.js 22 Lambda (esbuild, arm64) behind a Function URL,
 * and CloudFront in front of it adding a secret `x-origin-verify` header that the gateway checks
 * (gateway/auth/origin.ts). Not origin access control: OAC makes every POST carry the body's SHA-256
 * and replaces the client's `Authorization`, which stock Open Inference Protocol clients cannot live
 * with. The gateway may invoke the catalog's backends only, use the cache table, read API keys and
 * the repository.
 */

import { join } from "node:path";
import { Duration, RemovalPolicy, SecretValue, Stack } from "aws-cdk-lib";
import type { ICertificate } from "aws-cdk-lib/aws-certificatemanager";
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HttpVersion,
  OriginRequestPolicy,
  PriceClass,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from "aws-cdk-lib/aws-cloudfront";
import { FunctionUrlOrigin } from "aws-cdk-lib/aws-cloudfront-origins";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import {
  Architecture,
  type FunctionUrl,
  FunctionUrlAuthType,
  LoggingFormat,
  Runtime,
} from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from "aws-cdk-lib/aws-s3";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { ASSETS_GLOBAL } from "../../gateway/console/assets";
import { buildConsoleAssets } from "../../gateway/console/build";
import type { ShadowSpec } from "../../layers/repository/shadow";
import { REPO_ROOT } from "../paths";
import { gatewayTimeouts } from "../timeouts";
import type { CatalogTarget, IModelBackend } from "./backend";
import type { ModelStorage } from "./model-storage";
import { acknowledge } from "./nag";
import { ShadowCompare } from "./shadow-compare";

/** Properties of Gateway. */
export interface GatewayProps {
  /** The models the gateway routes to; it may invoke these and nothing else. */
  readonly backends: readonly IModelBackend[];
  /** Each model's shadow (catalog line `shadow`), written into MODEL_CATALOG. @default none */
  readonly shadows?: Readonly<Record<string, ShadowSpec>>;
  /** Repository, cache table and API keys table. */
  readonly storage: ModelStorage;
  /** TypeScript entry exporting `handler`. @default "<repo>/gateway/lambda.ts" */
  readonly entry?: string;
  /** @default 1024 */
  readonly memoryMiB?: number;
  /**
   * Gateway timeout; its backend deadline and CloudFront's origin read timeout follow it
   * (infra/timeouts.ts: deadline = timeout - 2 s, origin read = timeout + 5 s, at most 60 s).
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /** LOG_LEVEL of the gateway. @default "INFO" */
  readonly logLevel?: string;
  /** POWERTOOLS_SERVICE_NAME. @default "edge-infer-gateway" */
  readonly serviceName?: string;
  /** POWERTOOLS_METRICS_NAMESPACE (EMF). @default "EdgeInfer" */
  readonly metricsNamespace?: string;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Custom domain names; need `certificate` (in us-east-1). @default none: the cloudfront.net name */
  readonly domainNames?: string[];
  /** ACM certificate for `domainNames`; enables TLS 1.2+ only. @default none */
  readonly certificate?: ICertificate;
  /** ARN of a WAFv2 web ACL (scope CLOUDFRONT). @default none */
  readonly webAclArn?: string;
  /** @default PriceClass.PRICE_CLASS_100 */
  readonly priceClass?: PriceClass;
  /** Days CloudFront access logs are kept. @default 90 */
  readonly accessLogDays?: number;
  /**
   * Secrets Manager VersionId of the origin secret to resolve. Set it after rotating the secret by
   * hand: CloudFormation re-reads a dynamic reference only when the reference itself changes.
   * @default the secret's current version (AWSCURRENT at the deploy that last changed the reference)
   */
  readonly originVerifyVersionId?: string;
}

/** Header CloudFront adds to every origin request; the gateway refuses requests without it. */
export const ORIGIN_VERIFY_HEADER = "x-origin-verify";

/** The gateway function, its Function URL and the CloudFront distribution. */
export class Gateway extends Construct {
  readonly function: NodejsFunction;
  readonly functionUrl: FunctionUrl;
  readonly distribution: Distribution;
  /** The shared secret CloudFront sends in `x-origin-verify` and the gateway expects. */
  readonly originVerifySecret: Secret;
  /** The shadow comparison function, when a model has a shadow. */
  readonly shadowCompare?: ShadowCompare;
  /** The MODEL_CATALOG the gateway receives, by model name. */
  readonly modelCatalog: Readonly<Record<string, CatalogTarget & { shadow?: ShadowSpec }>>;

  constructor(scope: Construct, id: string, props: GatewayProps) {
    super(scope, id);
    const { storage } = props;
    const timeout = props.timeout ?? Duration.seconds(30);
    this.modelCatalog = Object.fromEntries(
      props.backends.map((b) => {
        const shadow = props.shadows?.[b.modelName];
        return [b.modelName, shadow === undefined ? b.catalogTarget : { ...b.catalogTarget, shadow }];
      }),
    );
    this.originVerifySecret = this.createOriginVerifySecret();
    // A CloudFormation dynamic reference ({{resolve:secretsmanager:...}}): resolved at deploy time,
    // never written into the template. The function gets it in its environment rather than reading
    // the secret at start, because the Secrets Manager SDK client is not one of our dependencies.
    const originVerify = SecretValue.secretsManager(this.originVerifySecret.secretArn, {
      versionId: checkVersionId(props.originVerifyVersionId),
    }).unsafeUnwrap();

    const logGroup = new LogGroup(this, "Logs", { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    const role = new Role(this, "Role", { assumedBy: new ServicePrincipal("lambda.amazonaws.com") });
    logGroup.grantWrite(role);

    this.function = new NodejsFunction(this, "Function", {
      entry: props.entry ?? join(REPO_ROOT, "gateway/lambda.ts"),
      handler: "handler",
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memoryMiB ?? 1024,
      timeout,
      role,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      description: "edge-infer gateway (Open Inference Protocol)",
      environment: {
        MODEL_CATALOG: Stack.of(this).toJsonString(this.modelCatalog),
        CACHE_TABLE: storage.cacheTable.tableName,
        API_KEYS_TABLE: storage.apiKeysTable.tableName,
        MODEL_REPOSITORY: storage.uri,
        LOG_LEVEL: props.logLevel ?? "INFO",
        POWERTOOLS_SERVICE_NAME: props.serviceName ?? "edge-infer-gateway",
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? "EdgeInfer",
        // A backend that is too slow gets the protocol's 504 before Lambda kills the gateway.
        BACKEND_TIMEOUT_MS: String(gatewayTimeouts(timeout.toSeconds()).backendDeadlineMs),
        NODE_OPTIONS: "--enable-source-maps",
        ORIGIN_VERIFY_SECRET: originVerify,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: "node22",
        mainFields: ["module", "main"],
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The AWS SDK v3 clients are bundled too: tree-shaken and minified they load faster than the
        // runtime's full copies, and the version is the one the tests ran.
        externalModules: [],
        // The web console's page, script and styles, inlined (gateway/console/assets.ts).
        define: { [ASSETS_GLOBAL]: JSON.stringify(buildConsoleAssets()) },
        // Some CommonJS dependencies use require(), __filename or __dirname, which ESM lacks (the same
        // banner as infra/bundles.ts).
        banner:
          "import{createRequire as __cr}from'node:module';import{fileURLToPath as __fu}from'node:url';" +
          "import{dirname as __dn}from'node:path';const require=__cr(import.meta.url);" +
          "const __filename=__fu(import.meta.url);const __dirname=__dn(__filename);",
      },
    });
    acknowledge(
      this.function,
      "AwsSolutions-L1",
      "Node.js 22 is the runtime edge-infer targets and tests (architecture.md); moving to a newer one is a deliberate change.",
    );

    for (const backend of props.backends) backend.grantInvoke(role);
    // Sampled requests of shadowed models are compared by a function of their own (README "Shadow comparison").
    const shadowed = props.backends.filter((b) => props.shadows?.[b.modelName] !== undefined);
    if (shadowed.length > 0) {
      const compare = new ShadowCompare(this, "ShadowCompare", {
        backends: shadowed,
        metricsNamespace: props.metricsNamespace ?? "EdgeInfer",
      });
      compare.grantHandOver(role);
      this.function.addEnvironment("SHADOW_FUNCTION", compare.function.functionName);
      this.shadowCompare = compare;
    }
    storage.grantCacheReadWrite(role);
    storage.grantApiKeysRead(role);
    storage.grantRead(role);

    // Public URL: its only guard is the x-origin-verify secret, which the gateway checks first.
    this.functionUrl = this.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    this.distribution = this.createDistribution(props, timeout, originVerify);
  }

  private createOriginVerifySecret(): Secret {
    const secret = new Secret(this, "OriginVerify", {
      description: "edge-infer: value of the x-origin-verify header CloudFront adds for the gateway",
      // Letters and digits only: the value travels as an HTTP header.
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    acknowledge(
      secret,
      "AwsSolutions-SMG4",
      "CloudFront's origin header and the gateway's environment hold this value through deploy-time dynamic references; rotating it means updating the secret and redeploying EdgeInfer-Gateway (README, 'Rotating the origin secret'), which a rotation Lambda cannot do.",
    );
    return secret;
  }

  private createDistribution(props: GatewayProps, timeout: Duration, originVerify: string): Distribution {
    const logs = new Bucket(this, "AccessLogs", {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // CloudFront standard logging writes with an ACL grant.
      objectOwnership: ObjectOwnership.OBJECT_WRITER,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(props.accessLogDays ?? 90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      logs,
      "AwsSolutions-S1",
      "This bucket is the CloudFront access-log target; logging it into itself would loop.",
    );

    const distribution = new Distribution(this, "Distribution", {
      comment: "edge-infer gateway",
      defaultBehavior: {
        origin: new FunctionUrlOrigin(this.functionUrl, {
          readTimeout: Duration.seconds(gatewayTimeouts(timeout.toSeconds()).originReadTimeoutS),
          // Overwrites any x-origin-verify a viewer sends.
          customHeaders: { [ORIGIN_VERIFY_HEADER]: originVerify },
        }),
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_ALL,
        // The gateway caches results itself (keyed by the tensors); CloudFront must not.
        cachePolicy: CachePolicy.CACHING_DISABLED,
        // Authorization (API keys) and Inference-Header-Content-Length must reach the gateway; Host
        // must not, or the Function URL would not recognise the request.
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass ?? PriceClass.PRICE_CLASS_100,
      domainNames: props.domainNames,
      certificate: props.certificate,
      // Only settable with an own certificate; the default one is fixed by CloudFront.
      minimumProtocolVersion: props.certificate ? SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      webAclId: props.webAclArn,
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: "cloudfront/",
    });
    if (props.certificate === undefined) {
      acknowledge(
        distribution,
        "AwsSolutions-CFR4",
        "Without a custom domain CloudFront serves its default *.cloudfront.net certificate, whose TLS policy cannot be set; pass certificate and domainNames to enforce TLS 1.2.",
      );
    }
    if (props.webAclArn === undefined) {
      acknowledge(
        distribution,
        "AwsSolutions-CFR2",
        "Requests are authenticated (API keys) and size-limited by the gateway; a WAF web ACL is optional (webAclArn) because of its fixed monthly cost.",
      );
    }
    acknowledge(
      distribution,
      "AwsSolutions-CFR1",
      "A public inference API: no country is excluded by design.",
    );
    return distribution;
  }
}

/** A Secrets Manager VersionId (a UUID as AWS makes them; 32 to 64 characters per the API). */
function checkVersionId(versionId: string | undefined): string | undefined {
  if (versionId === undefined) return undefined;
  if (!/^[A-Za-z0-9-]{32,64}$/.test(versionId)) {
    throw new Error(
      `Gateway originVerifyVersionId: expected a Secrets Manager VersionId (32-64 letters, digits, '-'), received ${JSON.stringify(versionId)}`,
    );
  }
  return versionId;
}
