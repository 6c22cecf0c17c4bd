/**
 * The gateway's errors, in one catalogue. A refused request is a
 * ProtocolError carrying the protocol's error code (docs/protocol.md), built
 * here so each refusal has one wording; a provider failure is an
 * UpstreamError, and so is a provider slower than the SDK's hard timeout
 * with nothing cached (its TimeoutError); anything else is a bug, answered
 * as `internal`. A bad
 * option or environment variable is an OptionError naming it.
 */
import { ErrorCode, ProtocolError, type ErrorCodeName } from '../protocol/index.js';
import { TimeoutError } from '../sdk/index.js';

/** A provider (speech, reply, voice) failed and nothing cached could stand in. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
}

/** A gateway option (flag, environment variable or programmatic) has a value it cannot take. */
export class OptionError extends Error {
  override readonly name = 'OptionError';
  constructor(
    /** The flag (`--mqtt-port`), environment variable or option name at fault. */
    readonly option: string,
    reason: string,
  ) {
    super(`${option}: ${reason}`);
  }
}

/** Every way the gateway refuses a bear's message. */
export const refusal = {
  rateLimited: (requestId: number) => new ProtocolError(ErrorCode.rateLimited, 'request rate exceeded, retry later', requestId),
  eventRateLimited: () => new ProtocolError(ErrorCode.rateLimited, 'event rate exceeded'),
  notARequest: (type: string, requestId: number) => new ProtocolError(ErrorCode.unknownType, `${type} is not a request`, requestId),
  notAnEvent: (type: string) => new ProtocolError(ErrorCode.unknownType, `${type} is not an event`),
  noSuchClip: (requestId: number) => new ProtocolError(ErrorCode.notFound, 'no such clip', requestId),
} as const;

const CODE_NAMES = new Map<number, ErrorCodeName>(Object.entries(ErrorCode).map(([name, code]) => [code, name as ErrorCodeName]));

export interface ErrorResponse {
  readonly code: number;
  /** The code's name, for logs and metrics labels. */
  readonly codeName: ErrorCodeName;
  /** The request's correlation id when it could be read, else 0. */
  readonly requestId: number;
  readonly message: string;
}

/** The protocol error a failure is answered with; `requestId` is the request's id if it was decoded. */
export function errorResponse(err: unknown, requestId: number): ErrorResponse {
  if (err instanceof ProtocolError) {
    return { code: err.code, codeName: CODE_NAMES.get(err.code) ?? 'internal', requestId: err.requestId || requestId, message: err.message };
  }
  if (err instanceof UpstreamError) return { code: ErrorCode.upstream, codeName: 'upstream', requestId, message: 'the AI service failed' };
  if (err instanceof TimeoutError) return { code: ErrorCode.upstream, codeName: 'upstream', requestId, message: 'the AI service did not answer in time' };
  return { code: ErrorCode.internal, codeName: 'internal', requestId, message: 'internal error' };
}
