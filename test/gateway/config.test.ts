/** The gateway's configuration: defaults, and a message naming the variable for each bad value. */
import { describe, expect, it } from "vitest";
import { DEMO_REPOSITORY, readGatewayConfig } from "../../gateway/config";
import { DEFAULT_SERVER_LIMITS } from "../../layers/config/server-limits";

describe("readGatewayConfig", () => {
  it("defaults to local mode on 127.0.0.1:8080 with the demo repository", () => {
    expect(readGatewayConfig({})).toEqual({
      port: 8080,
      host: "127.0.0.1",
      modelRepository: DEMO_REPOSITORY,
      modelCacheDir: undefined,
      allowMissingChecksum: false,
      catalog: undefined,
      backendTimeoutMs: 30_000,
      server: DEFAULT_SERVER_LIMITS,
      region: undefined,
      s3Endpoint: undefined,
      lambdaEndpoint: undefined,
      sagemakerEndpoint: undefined,
      logLevel: "INFO",
      onLambda: false,
      auth: {
        mode: "open",
        warning:
          "auth: OPEN mode, no API key required: API_KEYS_TABLE is unset and HOST=127.0.0.1 is loopback only",
      },
      keyCacheTtlMs: 30_000,
      originVerifySecret: undefined,
      cache: { table: undefined, endpoint: undefined, l1Bytes: 64 * 1024 * 1024, timeoutMs: 50 },
      maxBodyBytes: 4_620_288,
      jsonLimits: { maxDepth: 32, maxElements: 16_777_216 },
      concurrency: { maxInFlight: 32, maxQueued: 128, queueTimeoutMs: 5_000 },
      batching: true,
      inferenceThread: "auto",
      serviceName: "edge-infer-gateway",
      metricsNamespace: "EdgeInfer",
    });
    expect(DEMO_REPOSITORY).toMatch(/^file:\/\/\/.+\/functions\/models$/);
  });

  it("reads every variable", () => {
    const catalog = {
      "ocr-det": { backend: "lambda", target: "arn:aws:lambda:eu-west-1:123456789012:function:ocr-det:live" },
      "ocr-det-gpu": { backend: "sagemaker", target: "ocr-det-gpu" },
    };
    const config = readGatewayConfig({
      PORT: "9000",
      HOST: "0.0.0.0",
      MODEL_REPOSITORY: "s3://bucket/models",
      MODEL_CACHE_DIR: "/tmp/m",
      ALLOW_MISSING_CHECKSUM: "on",
      MODEL_CATALOG: JSON.stringify(catalog),
      BACKEND_TIMEOUT_MS: "1500",
      HTTP_HEADERS_TIMEOUT_MS: "1000",
      HTTP_REQUEST_TIMEOUT_MS: "2000",
      HTTP_KEEP_ALIVE_TIMEOUT_MS: "100",
      HTTP_IDLE_TIMEOUT_MS: "3000",
      HTTP_MAX_CONNECTIONS: "10",
      AWS_REGION: "eu-west-1",
      S3_ENDPOINT: "http://127.0.0.1:4569",
      LAMBDA_ENDPOINT: "http://127.0.0.1:9001",
      SAGEMAKER_RUNTIME_ENDPOINT: "http://127.0.0.1:9002",
      LOG_LEVEL: "debug",
      AWS_LAMBDA_FUNCTION_NAME: "edge-infer-gateway",
      API_KEYS_TABLE: "keys",
      DYNAMODB_ENDPOINT: "http://127.0.0.1:4567",
      API_KEY_CACHE_TTL_MS: "250",
      ORIGIN_VERIFY_SECRET: "s3cret",
      CACHE_TABLE: "cache",
      CACHE_L1_BYTES: "1024",
      CACHE_TIMEOUT_MS: "20",
      MAX_BODY_BYTES: "1000000",
      MAX_JSON_DEPTH: "10",
      MAX_JSON_ELEMENTS: "5000",
      MODEL_MAX_CONCURRENCY: "4",
      MODEL_MAX_QUEUE: "0",
      MODEL_QUEUE_TIMEOUT_MS: "100",
      BATCHING: "off",
      INFERENCE_THREAD: "Worker",
      POWERTOOLS_SERVICE_NAME: "gw",
      POWERTOOLS_METRICS_NAMESPACE: "Ns",
    });
    expect(config).toEqual({
      port: 9000,
      host: "0.0.0.0",
      modelRepository: "s3://bucket/models",
      modelCacheDir: "/tmp/m",
      allowMissingChecksum: true,
      catalog,
      backendTimeoutMs: 1500,
      server: {
        headersTimeoutMs: 1000,
        requestTimeoutMs: 2000,
        keepAliveTimeoutMs: 100,
        idleTimeoutMs: 3000,
        maxConnections: 10,
      },
      region: "eu-west-1",
      s3Endpoint: "http://127.0.0.1:4569",
      lambdaEndpoint: "http://127.0.0.1:9001",
      sagemakerEndpoint: "http://127.0.0.1:9002",
      logLevel: "DEBUG",
      onLambda: true,
      auth: {
        mode: "keys",
        table: "keys",
        endpoint: "http://127.0.0.1:4567",
        message: 'auth: API keys required (DynamoDB table "keys" at http://127.0.0.1:4567)',
      },
      keyCacheTtlMs: 250,
      originVerifySecret: "s3cret",
      cache: { table: "cache", endpoint: "http://127.0.0.1:4567", l1Bytes: 1024, timeoutMs: 20 },
      maxBodyBytes: 1_000_000,
      jsonLimits: { maxDepth: 10, maxElements: 5000 },
      concurrency: { maxInFlight: 4, maxQueued: 0, queueTimeoutMs: 100 },
      batching: false,
      inferenceThread: "worker",
      serviceName: "gw",
      metricsNamespace: "Ns",
    });
  });

  it.each([
    ["ON", true],
    ["true", true],
    ["1", true],
    ["Off", false],
    ["false", false],
    ["0", false],
  ])("reads BATCHING=%s", (value, batching) => {
    expect(readGatewayConfig({ BATCHING: value }).batching).toBe(batching);
  });

  it("refuses open mode where others can connect: a public HOST, or Lambda", () => {
    expect(() => readGatewayConfig({ HOST: "0.0.0.0" })).toThrow(
      /^API_KEYS_TABLE is unset but the gateway is reachable from outside \(HOST=0\.0\.0\.0\)/,
    );
    expect(() => readGatewayConfig({ AWS_LAMBDA_FUNCTION_NAME: "gw" })).toThrow(
      /^API_KEYS_TABLE is unset but the gateway is reachable from outside \(on Lambda\)/,
    );
    expect(readGatewayConfig({ HOST: "0.0.0.0", API_KEYS_TABLE: "keys" }).auth.mode).toBe("keys");
  });

  it.each([
    [{ PORT: "80a" }, 'PORT: expected an integer from 0 to 65535, got "80a"'],
    [{ PORT: "70000" }, 'PORT: expected an integer from 0 to 65535, got "70000"'],
    [{ BACKEND_TIMEOUT_MS: "0" }, 'BACKEND_TIMEOUT_MS: expected an integer from 1 to 900000, got "0"'],
    [{ S3_ENDPOINT: "localhost:4569" }, 'S3_ENDPOINT: expected an http(s) URL, got "localhost:4569"'],
    [{ LOG_LEVEL: "loud" }, 'LOG_LEVEL: expected one of DEBUG, INFO, WARN, ERROR, SILENT, got "loud"'],
    [{ ORIGIN_VERIFY_SECRET: " " }, "ORIGIN_VERIFY_SECRET: is set but empty; unset it or give the secret"],
    [{ DYNAMODB_ENDPOINT: "dynamo:8000" }, 'DYNAMODB_ENDPOINT: expected an http(s) URL, got "dynamo:8000"'],
    [{ CACHE_TIMEOUT_MS: "0" }, 'CACHE_TIMEOUT_MS: expected an integer from 1 to 60000, got "0"'],
    [{ CACHE_L1_BYTES: "1e9" }, 'CACHE_L1_BYTES: expected an integer from 0 to 1099511627776, got "1e9"'],
    [{ API_KEY_CACHE_TTL_MS: "-1" }, 'API_KEY_CACHE_TTL_MS: expected an integer from 0 to 3600000, got "-1"'],
    [{ MAX_BODY_BYTES: "0" }, 'MAX_BODY_BYTES: expected an integer from 1 to 1073741824, got "0"'],
    [
      { MAX_BODY_BYTES: "6000000", AWS_LAMBDA_FUNCTION_NAME: "gw", API_KEYS_TABLE: "k" },
      'MAX_BODY_BYTES: expected an integer from 1 to 4620288, got "6000000"',
    ],
    [{ MAX_JSON_DEPTH: "2" }, 'MAX_JSON_DEPTH: expected an integer from 4 to 1000, got "2"'],
    [
      { MAX_JSON_ELEMENTS: "many" },
      'MAX_JSON_ELEMENTS: expected an integer from 1 to 2147483648, got "many"',
    ],
    [{ MODEL_MAX_CONCURRENCY: "0" }, 'MODEL_MAX_CONCURRENCY: expected an integer from 1 to 100000, got "0"'],
    [{ MODEL_MAX_QUEUE: "-5" }, 'MODEL_MAX_QUEUE: expected an integer from 0 to 1000000, got "-5"'],
    [
      { MODEL_QUEUE_TIMEOUT_MS: "1.5" },
      'MODEL_QUEUE_TIMEOUT_MS: expected an integer from 1 to 900000, got "1.5"',
    ],
    [{ BATCHING: "maybe" }, 'BATCHING: expected on or off, got "maybe"'],
    [{ INFERENCE_THREAD: "gpu" }, 'INFERENCE_THREAD: expected one of auto, main, worker, got "gpu"'],
    [{ MODEL_CATALOG: "{" }, "MODEL_CATALOG: not valid JSON"],
    [
      { MODEL_CATALOG: "[]" },
      'MODEL_CATALOG: expected an object {"<model>": {"backend": "lambda" | "sagemaker", "target": "..."}}',
    ],
    [{ MODEL_CATALOG: "{}" }, "MODEL_CATALOG: lists no model"],
    [
      { MODEL_CATALOG: '{"../x": {"backend": "lambda", "target": "f"}}' },
      'MODEL_CATALOG: invalid model name "../x"',
    ],
    [
      { MODEL_CATALOG: '{"m": {"backend": "ec2", "target": "f"}}' },
      'MODEL_CATALOG: "m".backend must be "lambda" or "sagemaker", got "ec2"',
    ],
    [
      { MODEL_CATALOG: '{"m": {"backend": "lambda", "target": " "}}' },
      'MODEL_CATALOG: "m".target must be a function ARN/name or an endpoint name',
    ],
  ])("refuses %o", (env, message) => {
    expect(() => readGatewayConfig(env)).toThrow(message);
  });
});
