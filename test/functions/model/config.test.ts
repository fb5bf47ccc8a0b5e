/** The model function's configuration: required variables, defaults, and messages naming the variable. */
import { describe, expect, it } from "vitest";
import { readFunctionConfig } from "../../../functions/model/config";
import { DEFAULT_SERVER_LIMITS } from "../../../layers/config/server-limits";

const required = { MODEL_NAME: "ocr-det", MODEL_REPOSITORY: "s3://models-bucket/models" };

describe("readFunctionConfig", () => {
  it("applies the defaults of a SageMaker container / Lambda function", () => {
    expect(readFunctionConfig(required)).toEqual({
      modelName: "ocr-det",
      modelVersion: undefined,
      modelRepository: "s3://models-bucket/models",
      modelCacheDir: undefined,
      allowMissingChecksum: false,
      s3Endpoint: undefined,
      region: undefined,
      port: 8080,
      host: "0.0.0.0",
      timeoutMs: 60_000,
      // The idle bound stays above the container's 60 s deadline.
      server: { ...DEFAULT_SERVER_LIMITS, idleTimeoutMs: 75_000 },
      logLevel: "INFO",
      metricsNamespace: "EdgeInfer",
    });
  });

  it("reads the live version and the optional variables", () => {
    const config = readFunctionConfig({
      ...required,
      MODEL_VERSION: "3",
      MODEL_CACHE_DIR: "/tmp/models",
      S3_ENDPOINT: "http://127.0.0.1:4569",
      AWS_REGION: "eu-west-1",
      PORT: "0",
      HOST: "127.0.0.1",
      BACKEND_TIMEOUT_MS: "500",
      LOG_LEVEL: "warn",
      POWERTOOLS_METRICS_NAMESPACE: "Models",
    });
    expect(config).toMatchObject({
      modelVersion: 3,
      modelCacheDir: "/tmp/models",
      port: 0,
      host: "127.0.0.1",
      timeoutMs: 500,
      metricsNamespace: "Models",
      logLevel: "WARN",
    });
  });

  it.each([
    [{ MODEL_REPOSITORY: "s3://b/m" }, "MODEL_NAME: required (the model this function serves)"],
    [{ MODEL_NAME: "ocr-det" }, "MODEL_REPOSITORY: required (s3://bucket/prefix or file:///path)"],
    [
      { ...required, MODEL_NAME: "../etc" },
      `MODEL_NAME: expected letters, digits, '_', '.', '-', got "../etc"`,
    ],
    [{ ...required, MODEL_VERSION: "0" }, 'MODEL_VERSION: expected an integer from 1 to 999999999, got "0"'],
    [
      { ...required, MODEL_VERSION: "latest" },
      'MODEL_VERSION: expected an integer from 1 to 999999999, got "latest"',
    ],
    [{ ...required, PORT: "-1" }, 'PORT: expected an integer from 0 to 65535, got "-1"'],
    [
      { ...required, S3_ENDPOINT: "127.0.0.1:4569" },
      'S3_ENDPOINT: expected an http(s) URL, got "127.0.0.1:4569"',
    ],
    [
      { ...required, LOG_LEVEL: "trace" },
      'LOG_LEVEL: expected one of DEBUG, INFO, WARN, ERROR, SILENT, got "trace"',
    ],
  ])("refuses %o", (env, message) => {
    expect(() => readFunctionConfig(env)).toThrow(message);
  });
});
