/**
 * How a value is stored in L2:
 *
 *   byte 0      version (high nibble, 1) | flags (low nibble: 1 = LZ4, 2 = AES-GCM)
 *   if AES-GCM: key id length (1 byte), key id, IV (12), tag (16)
 *   rest        body, LZ4-framed and/or encrypted as flagged
 *
 * The body is CBOR `[expiresAtMs, value]`: the logical expiry travels with
 * the value, because Redis keeps it longer (for the stale grace period).
 */
import { Decoder, Encoder } from 'cbor-x';
import * as lz4 from 'lz4js';
import { open, seal, type Keyring } from './crypto.js';
import { SerializationError } from './errors.js';

const VERSION = 1;
const FLAG_LZ4 = 1;
const FLAG_AES = 2;
const AES_IV = 12;
const AES_TAG = 16;

const encoder = new Encoder({ useRecords: false });
const decoder = new Decoder({ useRecords: false });

export interface StoredValue {
  readonly value: unknown;
  /** Logical expiry, ms since the epoch. */
  readonly expiresAt: number;
}

/** CBOR body of a value; throws SerializationError for what CBOR cannot hold. */
export function encodeBody(value: unknown, expiresAt: number): Uint8Array {
  try {
    return encoder.encode([expiresAt, value]);
  } catch (err) {
    throw new SerializationError(`value cannot be cached: ${(err as Error).message}`);
  }
}

export function decodeBody(body: Uint8Array): StoredValue {
  const decoded: unknown = decoder.decode(body);
  if (!Array.isArray(decoded) || decoded.length !== 2 || typeof decoded[0] !== 'number') {
    throw new Error('L2 record body is not [expiresAt, value]');
  }
  return { expiresAt: decoded[0], value: decoded[1] };
}

export interface RecordOptions {
  readonly compressAbove: number | undefined;
  /** Encrypt with this ring, binding `aad` (the Redis key). */
  readonly keyring: Keyring | undefined;
  readonly aad: string;
}

export function packRecord(body: Uint8Array, { compressAbove, keyring, aad }: RecordOptions): Buffer {
  let flags = 0;
  let payload = body;
  if (compressAbove !== undefined && body.length >= compressAbove) {
    const packed = lz4.compress(body);
    if (packed.length < body.length) {
      payload = packed;
      flags |= FLAG_LZ4;
    }
  }
  if (!keyring) return Buffer.concat([Uint8Array.of((VERSION << 4) | flags), payload]);
  flags |= FLAG_AES;
  const sealed = seal(keyring, payload, aad);
  const id = Buffer.from(sealed.keyId);
  return Buffer.concat([Uint8Array.of((VERSION << 4) | flags, id.length), id, sealed.iv, sealed.tag, sealed.ciphertext]);
}

/** The body back; throws on an unknown version, a truncated record or a failed decryption. */
export function unpackRecord(record: Uint8Array, keyring: Keyring | undefined, aad: string): Uint8Array {
  const head = record[0];
  if (head === undefined || head >> 4 !== VERSION) throw new Error(`unknown L2 record version ${head === undefined ? '(empty)' : head >> 4}`);
  const flags = head & 0x0f;
  let payload: Uint8Array = record.subarray(1);
  if (flags & FLAG_AES) {
    if (!keyring) throw new Error('encrypted L2 record but no keyring');
    const idLen = payload[0] ?? 0;
    const start = 1 + idLen;
    if (payload.length < start + AES_IV + AES_TAG) throw new Error('truncated encrypted L2 record');
    payload = open(
      keyring,
      {
        keyId: Buffer.from(payload.subarray(1, start)).toString(),
        iv: payload.subarray(start, start + AES_IV),
        tag: payload.subarray(start + AES_IV, start + AES_IV + AES_TAG),
        ciphertext: payload.subarray(start + AES_IV + AES_TAG),
      },
      aad,
    );
  }
  if (flags & FLAG_LZ4) payload = lz4.decompress(payload);
  return payload;
}
