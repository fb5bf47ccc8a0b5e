/** The model repository as the gateway (local mode) and the model function open it from their configuration. */
import { type ModelRepository, openRepository } from "../repository";
import type { Logger } from "../telemetry/logger";

/** The fields of a configuration that say where the models are and how they are read. */
export interface RepositoryConfig {
  /** MODEL_REPOSITORY: `s3://bucket/prefix`, `file:///path` or a path. */
  modelRepository: string;
  /** MODEL_CACHE_DIR: the local copy of s3:// model files. */
  modelCacheDir: string | undefined;
  /** ALLOW_MISSING_CHECKSUM: serve an s3:// version that has no model.onnx.sha256. */
  allowMissingChecksum: boolean;
  /** S3_ENDPOINT: an S3-compatible endpoint. */
  s3Endpoint: string | undefined;
  /** AWS_REGION. */
  region: string | undefined;
}

/** Opens the configured repository; its warnings (a missing checksum, a file skipped) go to `logger`. */
export function openConfiguredRepository(
  config: RepositoryConfig,
  logger: Pick<Logger, "warn">,
): ModelRepository {
  return openRepository(config.modelRepository, {
    s3Endpoint: config.s3Endpoint,
    region: config.region,
    cacheDir: config.modelCacheDir,
    allowMissingChecksum: config.allowMissingChecksum,
    logger: (msg, fields) => logger.warn(msg, { ...fields }),
  });
}
