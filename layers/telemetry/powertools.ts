/**
 * Adapter from Powertools' Logger (used on Lambda for its context and sampling features) to our
 * Logger interface, typed structurally so this layer needs no runtime import of Powertools.
 */
import type { LogFields, Logger } from "./logger";

/** The part of `@aws-lambda-powertools/logger`'s Logger the adapter uses. */
export interface PowertoolsLoggerLike {
  debug(message: string, ...extra: LogFields[]): void;
  info(message: string, ...extra: LogFields[]): void;
  warn(message: string, ...extra: LogFields[]): void;
  error(message: string, ...extra: LogFields[]): void;
  createChild(options?: { persistentKeys?: LogFields }): PowertoolsLoggerLike;
  appendPersistentKeys(keys: LogFields): void;
}

/** Wraps a Powertools Logger; child(fields) becomes a Powertools child with those persistent keys. */
export function fromPowertools(logger: PowertoolsLoggerLike): Logger {
  const args = (fields: LogFields | undefined): LogFields[] => (fields === undefined ? [] : [fields]);
  return {
    debug: (m, f) => logger.debug(m, ...args(f)),
    info: (m, f) => logger.info(m, ...args(f)),
    warn: (m, f) => logger.warn(m, ...args(f)),
    error: (m, f) => logger.error(m, ...args(f)),
    child: (fields) => {
      const child = logger.createChild();
      child.appendPersistentKeys(fields);
      return fromPowertools(child);
    },
  };
}
