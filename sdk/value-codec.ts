/**
 * How a value is stored in L2:
 *
 *   byte 0      version (high nibble, 2) | flags (low nibble: 1 = LZ4, 2 = AES-GCM, 4 = TTL)
 *   bytes 1-6   logical expiry, ms since the epoch, unsigned 48-bit big-endian
 *   if TTL:     the value's TTL in ms (4 bytes, big-endian): written when it is not the
 *               content type's own (a per-call TTL, or one the compute chose), so any
 *               reader knows when a fraction of it has passed (eager refresh)
 *   if AES-GCM: key id length (1 byte), key id, IV (12), tag (16)
 *   rest        the CBOR body, LZ4-framed and/or encrypted as flagged
 *
 * The logical expiry travels with the value because Redis keeps the record
 * longer (for the stale grace period), and it is in clear so the read-or-lock
 * script (./l2-scripts.ts) can tell fresh from stale without decoding; with
 * AES-GCM the header is bound into the associated data, so it cannot be
 * altered (the TTL bytes likewise). Version 1 records (expiry inside the body) read as misses.
 */
import { Decoder, Encoder } from 'cbor-x';
import * as lz4 from 'lz4js';
import { open, seal, type Keyring } from './crypto.js';
import { SerializationError } from './errors.js';

export const RECORD_VERSION = 2;
const FLAG_LZ4 = 1;
const FLAG_AES = 2;
const FLAG_TTL = 4;
const TTL_BYTES = 4;
/** Version byte + 48-bit expiry. */
export const RECORD_HEADER_BYTES = 7;
const AES_IV = 12;
const AES_TAG = 16;

const encoder = new Encoder({ useRecords: false });
const decoder = new Decoder({ useRecords: false });

/** CBOR of a value; throws SerializationError for what CBOR cannot hold. */
export function encodeValue(value: unknown): Uint8Array {
  try {
    return encoder.encode(value);
  } catch (err) {
    throw new SerializationError(`value cannot be cached: ${(err as Error).message}`);
  }
}

export function decodeValue(body: Uint8Array): unknown {
  return decoder.decode(body);
}

export interface RecordOptions {
  readonly compressAbove: number | undefined;
  /** Encrypt with this ring, binding `aad` (the Redis key) and the header. */
  readonly keyring: Keyring | undefined;
  readonly aad: string;
  /** The value's TTL, when a reader could not assume it (clamped to 32 bits of ms, about 49 days). */
  readonly ttlMs?: number;
}

export function packRecord(body: Uint8Array, expiresAt: number, { compressAbove, keyring, aad, ttlMs }: RecordOptions): Buffer {
  let flags = 0;
  let payload = body;
  if (compressAbove !== undefined && body.length >= compressAbove) {
    const packed = lz4.compress(body);
    if (packed.length < body.length) {
      payload = packed;
      flags |= FLAG_LZ4;
    }
  }
  if (keyring) flags |= FLAG_AES;
  if (ttlMs !== undefined) flags |= FLAG_TTL;
  const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES + (ttlMs === undefined ? 0 : TTL_BYTES));
  header[0] = (RECORD_VERSION << 4) | flags;
  header.writeUIntBE(Math.max(0, Math.min(Math.round(expiresAt), 2 ** 48 - 1)), 1, 6);
  if (ttlMs !== undefined) header.writeUInt32BE(Math.max(0, Math.min(Math.round(ttlMs), 2 ** 32 - 1)), RECORD_HEADER_BYTES);
  if (!keyring) return Buffer.concat([header, payload]);
  const sealed = seal(keyring, payload, aadOf(aad, header));
  const id = Buffer.from(sealed.keyId);
  return Buffer.concat([header, Uint8Array.of(id.length), id, sealed.iv, sealed.tag, sealed.ciphertext]);
}

/** The logical expiry in a record's header, or undefined if it is not a version-2 record. */
export function recordExpiry(record: Uint8Array): number | undefined {
  if (record.length < RECORD_HEADER_BYTES || record[0]! >> 4 !== RECORD_VERSION) return undefined;
  return Buffer.from(record.buffer, record.byteOffset, RECORD_HEADER_BYTES).readUIntBE(1, 6);
}

/**
 * The body, expiry and TTL (undefined when the record does not carry one) back; throws on an
 * unknown version, a truncated record or a failed decryption.
 */
export function unpackRecord(record: Uint8Array, keyring: Keyring | undefined, aad: string): { body: Uint8Array; expiresAt: number; ttlMs: number | undefined } {
  const expiresAt = recordExpiry(record);
  if (expiresAt === undefined) throw new Error(`unknown L2 record version ${record.length === 0 ? '(empty)' : record[0]! >> 4}`);
  const flags = record[0]! & 0x0f;
  let headerBytes = RECORD_HEADER_BYTES;
  let ttlMs: number | undefined;
  if (flags & FLAG_TTL) {
    if (record.length < RECORD_HEADER_BYTES + TTL_BYTES) throw new Error('truncated L2 record');
    ttlMs = Buffer.from(record.buffer, record.byteOffset, record.length).readUInt32BE(RECORD_HEADER_BYTES);
    headerBytes += TTL_BYTES;
  }
  let payload: Uint8Array = record.subarray(headerBytes);
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
      aadOf(aad, record.subarray(0, headerBytes)),
    );
  }
  if (flags & FLAG_LZ4) payload = lz4.decompress(payload);
  return { body: payload, expiresAt, ttlMs };
}

function aadOf(key: string, header: Uint8Array): Buffer {
  return Buffer.concat([header, Buffer.from(key)]);
}
