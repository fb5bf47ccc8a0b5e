/** The gateway's configuration: defaults, and a message naming the variable for each bad value. */
import { describe, expect, it } from "vitest";
import { DEMO_REPOSITORY, readGatewayConfig } from "../../gateway/config";

describe("readGatewayConfig", () => {
  it("defaults to local mode on 127.0.0.1:8080 with the demo repository", () => {
    expect(readGatewayConfig({})).toEqual({
      port: 8080,
      host: "127.0.0.1",
      modelRepository: DEMO_REPOSITORY,
      modelCacheDir: undefined,
      catalog: undefined,
      backendTimeoutMs: 30_000,
      region: undefined,
      s3Endpoint: undefined,
      lambdaEndpoint: undefined,
      sagemakerEndpoint: undefined,
      logLevel: "INFO",
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
      MODEL_CATALOG: JSON.stringify(catalog),
      BACKEND_TIMEOUT_MS: "1500",
      AWS_REGION: "eu-west-1",
      S3_ENDPOINT: "http://127.0.0.1:4569",
      LAMBDA_ENDPOINT: "http://127.0.0.1:9001",
      SAGEMAKER_RUNTIME_ENDPOINT: "http://127.0.0.1:9002",
      LOG_LEVEL: "debug",
    });
    expect(config).toEqual({
      port: 9000,
      host: "0.0.0.0",
      modelRepository: "s3://bucket/models",
      modelCacheDir: "/tmp/m",
      catalog,
      backendTimeoutMs: 1500,
      region: "eu-west-1",
      s3Endpoint: "http://127.0.0.1:4569",
      lambdaEndpoint: "http://127.0.0.1:9001",
      sagemakerEndpoint: "http://127.0.0.1:9002",
      logLevel: "DEBUG",
    });
  });

  it.each([
    [{ PORT: "80a" }, 'PORT: expected an integer from 0 to 65535, got "80a"'],
    [{ PORT: "70000" }, 'PORT: expected an integer from 0 to 65535, got "70000"'],
    [{ BACKEND_TIMEOUT_MS: "0" }, 'BACKEND_TIMEOUT_MS: expected an integer from 1 to 900000, got "0"'],
    [{ S3_ENDPOINT: "localhost:4569" }, 'S3_ENDPOINT: expected an http(s) URL, got "localhost:4569"'],
    [{ LOG_LEVEL: "loud" }, 'LOG_LEVEL: expected one of DEBUG, INFO, WARN, ERROR, SILENT, got "loud"'],
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
