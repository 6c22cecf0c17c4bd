/**
 * CBOR encoding and validating decoding of protocol messages (./messages.ts).
 *
 * Encoding is deterministic (RFC 8949 section 4.2.1): shortest integer and
 * length forms, definite lengths, map keys ascending. The firmware emits the
 * same bytes, and docs/vectors pins them.
 * Decoding is strict about what it returns (every field checked against the
 * table, bounded) and lenient about what it ignores: unknown map keys are
 * skipped so a newer peer can add optional fields.
 */
import { Decoder, Encoder } from 'cbor-x';
import {
  CLIP_FIELDS,
  ErrorCode,
  MESSAGE_FIELDS,
  MessageType,
  messageTypeName,
  type ClipRef,
  type FieldKind,
  type FieldSpec,
  type Message,
  type MessageTypeName,
} from './messages.js';

/** Largest payload decodeMessage accepts unless told otherwise. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

/** A message that cannot be accepted; `code` is the ErrorCode to answer with. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    readonly code: number,
    message: string,
    /** The request's correlation id when it could be read, else 0. */
    readonly requestId = 0,
  ) {
    super(message);
  }
}

// mapsAsObjects:false keeps integer keys as numbers (Map), and tagUint8Array:false
// writes byte strings untagged, as the bear expects.
const encoder = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false, variableMapSize: true });
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });

type Fields = Record<string, unknown>;

/** Encodes a message; throws ProtocolError(invalid) if it breaks the schema (a bug in the caller). */
export function encodeMessage(message: Message): Buffer {
  const fields = MESSAGE_FIELDS[message.type];
  if (!fields) throw new ProtocolError(ErrorCode.invalid, `cannot encode unknown message type ${String(message.type)}`);
  const map = toWire(message as unknown as Fields, fields, message.type);
  map.set(0, MessageType[message.type]);
  return encoder.encode(sortKeys(map));
}

/**
 * The CBOR of one field's value, checked against the message table: for values
 * sent in many messages (a clip map, a reply line), encoded once and spliced
 * in by encodeFromValues.
 */
export function encodeFieldValue(type: MessageTypeName, name: string, value: unknown): Buffer {
  const field = fieldsByName(type).get(name);
  if (!field) throw new ProtocolError(ErrorCode.invalid, `${type} has no field ${name}`);
  return encoder.encode(toWireValue(value, field.type, `${type}.${name}`));
}

/**
 * A message assembled from its fields' encoded values (encodeFieldValue, or encodeUint for
 * integers): the same bytes as encodeMessage, without building and sorting a map per message.
 */
export function encodeFromValues(type: MessageTypeName, values: Readonly<Record<string, Uint8Array>>): Buffer {
  // Keys are below 24 (one byte each) and the table lists them ascending; a map of at most 23
  // entries has a one-byte head. Key 0 (the type) is one byte and so is its small value.
  const fields = MESSAGE_FIELDS[type];
  let entries = 1;
  let length = 3;
  for (const field of fields) {
    const value = values[field.name];
    if (value === undefined) {
      if (field.optional) continue;
      throw new ProtocolError(ErrorCode.invalid, `${type}.${field.name} is missing`);
    }
    entries += 1;
    length += 1 + value.length;
  }
  const out = Buffer.allocUnsafe(length);
  out[0] = 0xa0 | entries;
  out[1] = 0;
  out[2] = MessageType[type];
  let at = 3;
  for (const field of fields) {
    const value = values[field.name];
    if (value === undefined) continue;
    out[at++] = field.key;
    out.set(value, at);
    at += value.length;
  }
  return out;
}

/** The shortest CBOR encoding of an unsigned integer up to 2^32 - 1. */
export function encodeUint(n: number): Uint8Array {
  if (n < 24) return SMALL_UINTS[n]!;
  if (n < 0x100) return Uint8Array.of(0x18, n);
  if (n < 0x1_0000) return Uint8Array.of(0x19, n >> 8, n & 0xff);
  return Uint8Array.of(0x1a, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}
const SMALL_UINTS = Array.from({ length: 24 }, (_, n) => Uint8Array.of(n));

const FIELDS_BY_NAME = new Map<MessageTypeName, Map<string, FieldSpec>>();
function fieldsByName(type: MessageTypeName): Map<string, FieldSpec> {
  let byName = FIELDS_BY_NAME.get(type);
  if (!byName) FIELDS_BY_NAME.set(type, (byName = new Map(MESSAGE_FIELDS[type].map((f) => [f.name, f]))));
  return byName;
}

/**
 * Decodes and validates one message. Throws ProtocolError with the code to
 * answer with: tooLarge, malformed (not one complete CBOR item), unknownType
 * or invalid (schema).
 */
export function decodeMessage(bytes: Uint8Array, maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Message {
  if (bytes.length > maxBytes) {
    throw new ProtocolError(ErrorCode.tooLarge, `message is ${bytes.length} bytes, limit is ${maxBytes}`);
  }
  let item: unknown;
  try {
    item = decoder.decode(bytes);
  } catch (err) {
    // Includes RangeError from absurd nesting: bounded by maxBytes, reported as malformed.
    throw new ProtocolError(ErrorCode.malformed, `not a single well-formed CBOR item: ${(err as Error).message}`);
  }
  if (!(item instanceof Map)) throw new ProtocolError(ErrorCode.invalid, 'message is not a CBOR map');
  const rawId = item.get(1);
  const requestId = isUint(rawId, 0xffff_ffff) ? rawId : 0;
  const code = item.get(0);
  const type = typeof code === 'number' ? messageTypeName(code) : undefined;
  if (!type) throw new ProtocolError(ErrorCode.unknownType, `unknown message type ${describe(code)}`, requestId);
  try {
    return { type, ...fromWire(item, MESSAGE_FIELDS[type], type) } as unknown as Message;
  } catch (err) {
    if (err instanceof ProtocolError) throw new ProtocolError(err.code, err.message, requestId);
    throw err;
  }
}

function toWire(value: Fields, fields: readonly FieldSpec[], where: string): Map<number, unknown> {
  const map = new Map<number, unknown>();
  for (const field of fields) {
    const v = value[field.name];
    if (v === undefined) {
      if (field.optional) continue;
      throw new ProtocolError(ErrorCode.invalid, `${where}.${field.name} is missing`);
    }
    map.set(field.key, toWireValue(v, field.type, `${where}.${field.name}`));
  }
  return map;
}

function toWireValue(v: unknown, type: FieldKind, where: string): unknown {
  check(v, type, where);
  if (type.kind === 'clip') return sortKeys(toWire(v as Fields, CLIP_FIELDS, where));
  if (type.kind === 'clipList') return (v as ClipRef[]).map((c, i) => sortKeys(toWire(c as unknown as Fields, CLIP_FIELDS, `${where}[${i}]`)));
  return v;
}

function fromWire(map: Map<unknown, unknown>, fields: readonly FieldSpec[], where: string): Fields {
  const out: Fields = {};
  for (const field of fields) {
    const v = map.get(field.key);
    if (v === undefined) {
      if (field.optional) continue;
      throw new ProtocolError(ErrorCode.invalid, `${where}: key ${field.key} (${field.name}) is missing`);
    }
    const problem = problemWith(v, field.type);
    // The field's path is only spelled out for an error or a nested clip.
    if (problem !== undefined) throw invalidField(`${where}.${field.name}`, problem, v);
    if (field.type.kind === 'clip') out[field.name] = fromWire(v as Map<unknown, unknown>, CLIP_FIELDS, `${where}.${field.name}`);
    else if (field.type.kind === 'clipList') out[field.name] = (v as Map<unknown, unknown>[]).map((c, i) => fromWire(c, CLIP_FIELDS, `${where}.${field.name}[${i}]`));
    else out[field.name] = v;
  }
  return out;
}

/** Throws ProtocolError(invalid) unless `v` has the field's kind and bounds. */
function check(v: unknown, type: FieldKind, where: string): void {
  const problem = problemWith(v, type);
  if (problem !== undefined) throw invalidField(where, problem, v);
}

function invalidField(where: string, problem: string, v: unknown): ProtocolError {
  return new ProtocolError(ErrorCode.invalid, `${where} ${problem}, got ${describe(v)}`);
}

/**
 * What is wrong with `v` as a field of this kind, or undefined. Returns text, not a closure that
 * throws: decoding runs per request, and a closure and a field path per field were 1.6 kB of
 * garbage per cached answer (the gateway's sampled heap profile).
 */
function problemWith(v: unknown, type: FieldKind): string | undefined {
  switch (type.kind) {
    case 'uint':
      return isUint(v, type.max ?? 0xffff_ffff) ? undefined : `must be an unsigned integer <= ${type.max}`;
    case 'tstr':
      if (typeof v !== 'string') return 'must be a text string';
      return Buffer.byteLength(v) > type.max ? `must be at most ${type.max} bytes` : undefined;
    case 'bstr':
      return bytesProblem(v, type.max, type.exact);
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'must be a boolean';
    case 'bstrList':
      if (!Array.isArray(v)) return 'must be an array';
      if (v.length > type.max) return `must have at most ${type.max} entries`;
      for (const item of v as unknown[]) {
        const problem = bytesProblem(item, type.exact, type.exact);
        if (problem !== undefined) return problem;
      }
      return undefined;
    case 'clip':
      return isFieldsLike(v) ? undefined : 'must be a clip map';
    case 'clipList':
      if (!Array.isArray(v)) return 'must be an array';
      if (v.length > type.max) return `must have at most ${type.max} entries`;
      return (v as unknown[]).every(isFieldsLike) ? undefined : 'must hold clip maps';
  }
}

function bytesProblem(v: unknown, max: number, exact: number | undefined): string | undefined {
  if (!(v instanceof Uint8Array)) return 'must be a byte string';
  if (exact !== undefined && v.length !== exact) return `must be exactly ${exact} bytes`;
  return v.length > max ? `must be at most ${max} bytes` : undefined;
}

// Decoded clips are Maps; clips handed to the encoder are plain objects.
function isFieldsLike(v: unknown): boolean {
  return v instanceof Map || (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array));
}

function isUint(v: unknown, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

function sortKeys(map: Map<number, unknown>): Map<number, unknown> {
  return new Map([...map.entries()].sort((a, b) => a[0] - b[0]));
}

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.length}-byte string`;
  if (v instanceof Map) return 'map';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'bigint') return 'integer beyond 32 bits';
  return typeof v === 'number' ? String(v) : typeof v;
}

