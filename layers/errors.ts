/**
 * Domain errors. They know nothing of HTTP: the edge (gateway/errors.ts, functions/) maps `kind`
 * to a status code and the protocol's `{"error": "..."}` body, as KServe's errors.py does.
 */
export type ErrorKind =
  | "invalid_input" // 400
  | "unauthorized" // 401
  | "forbidden" // 403
  | "model_not_found" // 404
  | "payload_too_large" // 413
  | "rate_limited" // 429
  | "internal" // 500
  | "backend_failure" // 502
  | "model_not_ready" // 503
  | "overloaded" // 503 + Retry-After
  | "backend_timeout"; // 504

/** Base class of every error edge-infer raises on purpose. */
export class InferenceError extends Error {
  readonly kind: ErrorKind;
  /** Seconds a client should wait before retrying (429, 503 overloaded). */
  readonly retryAfter: number | undefined;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown; retryAfter?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.retryAfter = options?.retryAfter;
  }

  /** The protocol's error body. */
  toJSON(): { error: string } {
    return { error: this.message };
  }
}

/** The request does not match the protocol or the model's signature. */
export class InvalidInput extends InferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("invalid_input", message, options);
  }
}

/** No such model, or no such version of it. */
export class ModelNotFound extends InferenceError {
  constructor(message: string) {
    super("model_not_found", message);
  }
}

/** The model exists but is not loaded and warmed up (yet), or failed to load. */
export class ModelNotReady extends InferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("model_not_ready", message, options);
  }
}

/** A backend (Lambda, SageMaker, repository) failed; the message must not leak internals. */
export class BackendFailure extends InferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("backend_failure", message, options);
  }
}

/** A backend did not answer within its deadline. */
export class BackendTimeout extends InferenceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("backend_timeout", message, options);
  }
}

/**
 * A service the gateway itself depends on (the API key store) cannot be reached: 503 with
 * `Retry-After`, failing closed. Its message is written for clients and shown as is.
 */
export class ServiceUnavailable extends InferenceError {
  /** The 503 body's text (the edge shows a 5xx's cause only when it is marked public like this). */
  readonly publicMessage: string;
  constructor(message: string, options: { cause?: unknown; retryAfter?: number } = {}) {
    // "overloaded": the 503 kind that means "come back later"; no new kind for the tables to list.
    super("overloaded", message, { cause: options.cause, retryAfter: options.retryAfter ?? 5 });
    this.publicMessage = message;
  }
}

/** Load shedding: too many requests in flight or queued for a model. */
export class Overloaded extends InferenceError {
  constructor(message: string, retryAfter = 1) {
    super("overloaded", message, { retryAfter });
  }
}

/** True for errors raised on purpose (as opposed to bugs and foreign exceptions). */
export function isInferenceError(e: unknown): e is InferenceError {
  return e instanceof InferenceError;
}

/** No credentials, or credentials that match no active key (401 + `WWW-Authenticate: Bearer`). */
export class Unauthorized extends InferenceError {
  /** Value for the `WWW-Authenticate` response header (RFC 6750). */
  readonly challenge = 'Bearer realm="edge-infer"';
  constructor(message: string) {
    super("unauthorized", message);
  }
}

/** A valid key that may not use the requested model (403). */
export class Forbidden extends InferenceError {
  constructor(message: string) {
    super("forbidden", message);
  }
}

/** The key spent its token bucket (429 + `Retry-After`, whole seconds). */
export class RateLimited extends InferenceError {
  constructor(message: string, retryAfterSeconds: number) {
    super("rate_limited", message, { retryAfter: retryAfterSeconds });
  }
}

/** The request body, or the tensor data in it, is larger than the gateway accepts (413). */
export class PayloadTooLarge extends InferenceError {
  constructor(message: string) {
    super("payload_too_large", message);
  }
}
