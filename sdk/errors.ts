/**
 * The cache's typed errors. Each is thrown for a caller's mistake (bad
 * config, a value that cannot be cached, an unknown content type) or, as
 * TimeoutError, for a caller's compute function that took too long; none is
 * thrown for an infrastructure fault, which the cache absorbs instead.
 */

export class CacheError extends Error {
  override readonly name: string = 'CacheError';
}

/** The configuration passed to createCache is invalid; `field` names the culprit. */
export class ConfigError extends CacheError {
  override readonly name = 'ConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`invalid cache config: ${field}: ${message}`);
  }
}

/** The content type is not one of ContentType's values. */
export class UnknownContentTypeError extends CacheError {
  override readonly name = 'UnknownContentTypeError';
  constructor(readonly contentType: unknown) {
    super(`unknown content type: ${JSON.stringify(String(contentType)).slice(0, 80)}`);
  }
}

/** The value cannot be encoded (a function, a symbol, a cycle, …). */
export class SerializationError extends CacheError {
  override readonly name = 'SerializationError';
}

/** The encoded value is larger than `maxValueBytes`. */
export class ValueTooLargeError extends CacheError {
  override readonly name = 'ValueTooLargeError';
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`value is ${bytes} bytes encoded, above the limit of ${limit}`);
  }
}

/** The key is not a non-empty string within bounds. */
export class InvalidKeyError extends CacheError {
  override readonly name = 'InvalidKeyError';
}

/** A per-call option is out of range; `option` names it. */
export class InvalidOptionError extends CacheError {
  override readonly name = 'InvalidOptionError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`invalid cache option: ${option}: ${message}`);
  }
}

/**
 * The compute function ran past the call's hard timeout (`hardTimeoutMs`) and no stale value could
 * stand in. The compute goes on in the background and fills the cache when it ends.
 */
export class TimeoutError extends CacheError {
  override readonly name = 'TimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`no value within the hard timeout of ${timeoutMs} ms`);
  }
}
