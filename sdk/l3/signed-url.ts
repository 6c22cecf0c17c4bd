/**
 * Signed, expiring clip URLs: `{origin}/clips/{sha256}?e={expiresAt}&s={sig}`.
 *
 * `sig` is base64url(HMAC-SHA-256(key, "/clips/{sha256}\n{expiresAt}")).
 * The origin (or a CDN edge holding the same key) checks it before serving,
 * so a URL handed to one bear cannot be altered to fetch another blob, and
 * stops working at `expiresAt` (Unix seconds). The origin is not signed: the
 * same URL path works behind any CDN hostname.
 *
 * Exactly one spelling verifies: the query is read raw (no percent- or `+`
 * decoding), `e` and `s` appear once each and nothing else, `e` is decimal
 * without leading zeros, and `s` is compared as text with the one canonical
 * base64url signature (43 characters, no padding), in constant time. A
 * lenient base64 decode would let `s+"!!"`, `s+"="` or a last character
 * differing only in its spare bits pass as well, so a URL that a CDN or log
 * filter treats as different would still open the clip.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isBlobName } from './blob-store.js';

export type UrlKey = string | Uint8Array;

export interface SignClipUrlOptions {
  /** Scheme, host and optional base path, without a trailing slash, e.g. `https://cdn.example.com`. */
  readonly origin: string;
  readonly sha256: string;
  readonly key: UrlKey;
  /** Unix seconds. */
  readonly expiresAt: number;
}

export type ClipUrlCheck =
  | { readonly ok: true; readonly sha256: string; readonly expiresAt: number }
  | { readonly ok: false; readonly reason: 'malformed' | 'expired' | 'bad-signature' };

export function signClipUrl({ origin, sha256, key, expiresAt }: SignClipUrlOptions): string {
  if (!isBlobName(sha256)) throw new TypeError('sha256 must be 64 lower-case hex digits');
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) throw new TypeError('expiresAt must be Unix seconds');
  return `${origin.replace(/\/+$/, '')}/clips/${sha256}?e=${expiresAt}&s=${signature(key, sha256, expiresAt)}`;
}

/**
 * Checks a request target (`/clips/{sha}?e=…&s=…`, or a full URL) against the key.
 * Expiry is checked only after the signature, so a forged URL always reads as forged.
 */
export function verifyClipUrl(target: string, key: UrlKey, nowSec = Math.floor(Date.now() / 1000)): ClipUrlCheck {
  let url: URL;
  try {
    url = new URL(target, 'http://origin.invalid');
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const match = /\/clips\/([0-9a-f]{64})$/.exec(url.pathname);
  const query = CANONICAL_QUERY.exec(url.search);
  if (!match || !query) return { ok: false, reason: 'malformed' };
  const sha256 = match[1]!;
  const expiresAt = Number(query[1]);
  const expected = Buffer.from(signature(key, sha256, expiresAt));
  const given = Buffer.from(query[2]!);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad-signature' };
  if (nowSec >= expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true, sha256, expiresAt };
}

/** `?e={decimal, no leading zero}&s={anything up to the end}`, read raw; the signature's form is checked by comparison. */
const CANONICAL_QUERY = /^\?e=(0|[1-9]\d{0,14})&s=([^&]*)$/;

function signature(key: UrlKey, sha256: string, expiresAt: number): string {
  return createHmac('sha256', key).update(`/clips/${sha256}\n${expiresAt}`).digest('base64url');
}
