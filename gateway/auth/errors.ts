/**
 * Access and limit errors of the public edge. Like layers/errors.ts they carry no HTTP: the error
 * mapper turns `kind` into 401/403/413/429 and `retryAfter` into a `Retry-After` header.
 */
import { InferenceError } from "../../layers/errors";

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
