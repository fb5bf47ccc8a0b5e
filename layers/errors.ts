/**
 * Domain errors, and the one table of their kinds (ERROR_TABLE): the status each kind gets at the
 * edge, what a 5xx says in public, whether a retry may succeed, and how a failure is rebuilt when it
 * crosses the wire. The HTTP layer (layers/http/errors.ts) builds the responses from it.
 */
/** Every kind of error raised on purpose; each has its line in ERROR_TABLE. */
export type ErrorKind =
  | "invalid_input"
  | "unauthorized"
  | "forbidden"
  | "model_not_found"
  | "payload_too_large"
  | "rate_limited"
  | "internal"
  | "backend_failure"
  | "model_not_ready"
  | "overloaded"
  | "dependency_unavailable"
  | "backend_timeout"
  | "client_closed";

/** Base class of every error edge-infer raises on purpose. */
export class InferenceError extends Error {
  readonly kind: ErrorKind;
  /** Seconds a client should wait before retrying (429, 503 overloaded or dependency unavailable). */
  readonly retryAfter: number | undefined;

  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown; retryAfter?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.retryAfter = options?.retryAfter;
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
 * `Retry-After`, failing closed. Clients see the table's public text, never this message.
 */
export class DependencyUnavailable extends InferenceError {
  constructor(message: string, options: { cause?: unknown; retryAfter?: number } = {}) {
    super("dependency_unavailable", message, { cause: options.cause, retryAfter: options.retryAfter ?? 5 });
  }
}

/** Load shedding: too many requests in flight or queued for a model. */
export class Overloaded extends InferenceError {
  constructor(message: string, retryAfter = 1) {
    super("overloaded", message, { retryAfter });
  }
}

/**
 * The client went away before its answer (status 499, nginx's "client closed request"): only logged
 * and counted, since nobody is left to read the response.
 */
export class ClientClosed extends InferenceError {
  constructor(message = "the client closed the connection") {
    super("client_closed", message);
  }
}

/** True for errors raised on purpose (as opposed to bugs and foreign exceptions). */
export function isInferenceError(e: unknown): e is InferenceError {
  return e instanceof InferenceError;
}

/** No credentials, or credentials that match no active key (401 + `WWW-Authenticate: Bearer`). */
export class Unauthorized extends InferenceError {
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

/** What one error kind means at the edges. */
export interface ErrorKindInfo {
  /** The HTTP status it is answered with. */
  status: number;
  /** True when the same request may succeed later (load, readiness, deadlines), never for a client's mistake. */
  retryable: boolean;
  /** What a 5xx says instead of the error's own message; `m` is the quoted model name or "". */
  public?: (m: string) => string;
  /** The domain error a failure of this kind is rebuilt as after crossing the wire. */
  rebuild: (message: string) => InferenceError;
}

/**
 * The one table of error kinds: the HTTP status map, the wire check, the metric reasons and the
 * failure mapping are all derived from it. A new kind is one line here (and one in ErrorKind).
 */
export const ERROR_TABLE: Readonly<Record<ErrorKind, ErrorKindInfo>> = {
  invalid_input: { status: 400, retryable: false, rebuild: (m) => new InvalidInput(m) },
  unauthorized: { status: 401, retryable: false, rebuild: (m) => new Unauthorized(m) },
  forbidden: { status: 403, retryable: false, rebuild: (m) => new Forbidden(m) },
  model_not_found: { status: 404, retryable: false, rebuild: (m) => new ModelNotFound(m) },
  payload_too_large: { status: 413, retryable: false, rebuild: (m) => new PayloadTooLarge(m) },
  rate_limited: { status: 429, retryable: true, rebuild: (m) => new RateLimited(m, 1) },
  // A function's internal error is its backend failing, as the gateway sees it.
  internal: { status: 500, retryable: false, rebuild: (m) => new BackendFailure(m) },
  backend_failure: {
    status: 502,
    retryable: true,
    public: (m) => (m ? `the backend of model ${m} failed` : "a backend failed"),
    rebuild: (m) => new BackendFailure(m),
  },
  model_not_ready: {
    status: 503,
    retryable: true,
    public: (m) => (m ? `model ${m} is not ready` : "the model is not ready"),
    rebuild: (m) => new ModelNotReady(m),
  },
  overloaded: {
    status: 503,
    retryable: true,
    public: (m) => (m ? `model ${m} is overloaded, retry later` : "overloaded, retry later"),
    rebuild: (m) => new Overloaded(m),
  },
  // The key store is the one dependency the gateway fails closed on; another would get its own words.
  dependency_unavailable: {
    status: 503,
    retryable: true,
    public: () => "the API key store is unavailable; retry later",
    rebuild: (m) => new DependencyUnavailable(m),
  },
  backend_timeout: {
    status: 504,
    retryable: true,
    public: (m) =>
      m ? `the backend of model ${m} did not answer in time` : "a backend did not answer in time",
    rebuild: (m) => new BackendTimeout(m),
  },
  // Logs and metrics only: no client reads it.
  client_closed: { status: 499, retryable: false, rebuild: (m) => new ClientClosed(m) },
};
