/**
 * L3: content-addressed blob storage for audio and other large immutable
 * values. A blob's name is the hex SHA-256 of its bytes, so a blob never
 * changes once written, a CDN may cache it forever, and a bear can verify
 * what it downloaded against the name alone.
 *
 * This interface is all the gateway's HTTP origin and the cache's L3 layer
 * need; a real object store (S3, GCS, R2) implements it with
 * PUT-if-absent / GET / HEAD / ranged GET / DELETE on `clips/{sha256}`.
 */
import type { Readable } from 'node:stream';

export interface BlobRef {
  /** Lower-case hex SHA-256 of the bytes. */
  readonly sha256: string;
  readonly size: number;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface BlobStore {
  /** Stores bytes under their SHA-256; storing the same bytes again is a no-op. */
  put(bytes: Uint8Array): Promise<BlobRef>;
  /** The whole blob, or undefined when there is none by that name. */
  get(sha256: string): Promise<Uint8Array | undefined>;
  stat(sha256: string): Promise<BlobRef | undefined>;
  /** A stream of the blob (or of `range` of it, which the caller has checked against the size). */
  open(sha256: string, range?: ByteRange): Promise<{ ref: BlobRef; stream: Readable } | undefined>;
  delete(sha256: string): Promise<void>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** True for a well-formed blob name; stores and the origin refuse anything else before touching storage. */
export function isBlobName(name: string): boolean {
  return SHA256_HEX.test(name);
}
