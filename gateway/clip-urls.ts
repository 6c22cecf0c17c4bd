/**
 * Turns a catalogued clip into the protocol's clip map with a signed,
 * expiring URL. Expiry is rounded up to the next hour, so every answer
 * naming a clip within that hour carries the same URL (cacheable by the bear
 * and by a CDN keyed on the full URL), and each clip is signed once an hour,
 * not once per answer (an HMAC is a measurable part of a cached answer); its
 * CBOR is likewise made once and spliced into every answer that names it.
 * A bear that came over TLS gets URLs on the gateway's HTTPS origin, one on
 * plaintext (loopback only) the HTTP one: each clip has one entry per origin.
 */
import { signClipUrl } from '../sdk/index.js';
import { encodeFieldValue, type ClipRef } from '../protocol/index.js';
import type { ClipInfo } from './clip-catalog.js';

export interface ClipUrlOptions {
  /**
   * Origin in the URLs a bear gets, e.g. `https://cdn.example.com`, by whether it came over TLS; read per
   * call because the ports are known only after listen.
   */
  origin(tls: boolean): string;
  /** Whether this connected bear came over TLS (MQTTS or WSS). */
  overTls(deviceId: string): boolean;
  urlKey: string;
  ttlSeconds: number;
}

const HOUR = 3600;

export function createClipUrls({ origin, overTls, urlKey, ttlSeconds }: ClipUrlOptions) {
  // Keyed by the catalog's entry, so a forgotten clip's URL goes with it: the plain ref (no inline
  // bytes, no warm fields) and its CBOR, both made once per clip, origin and expiry hour.
  const signed = [new WeakMap<ClipInfo, { ref: ClipRef; encoded: Buffer }>(), new WeakMap<ClipInfo, { ref: ClipRef; encoded: Buffer }>()];
  const current = (deviceId: string, clip: ClipInfo, nowSec: number): { ref: ClipRef; encoded: Buffer } => {
    const expires = Math.ceil((nowSec + ttlSeconds) / HOUR) * HOUR;
    const tls = overTls(deviceId);
    const byClip = signed[tls ? 1 : 0]!;
    let made = byClip.get(clip);
    if (made?.ref.expires !== expires) {
      const ref: ClipRef = {
        clipId: clip.clipId,
        sha256: Buffer.from(clip.sha256, 'hex'),
        size: clip.size,
        url: signClipUrl({ origin: origin(tls), sha256: clip.sha256, key: urlKey, expiresAt: expires }),
        expires,
        codec: clip.codec,
      };
      made = { ref, encoded: encodeFieldValue('answer', 'clip', ref) };
      byClip.set(clip, made);
    }
    return made;
  };
  return {
    /** The clip as `deviceId` gets it. */
    ref(deviceId: string, clip: ClipInfo, extra: Pick<ClipRef, 'inline' | 'priority' | 'pinned'> = {}, nowSec = Math.floor(Date.now() / 1000)): ClipRef {
      const { ref } = current(deviceId, clip, nowSec);
      return extra.inline === undefined && extra.priority === undefined && extra.pinned === undefined ? ref : { ...ref, ...extra };
    },
    /**
     * What makes the refs this bear gets now differ from another bear's (its origin, by transport, and
     * the expiry hour): two bears with the same variant get byte-identical refs for the same clips.
     */
    variant(deviceId: string, nowSec = Math.floor(Date.now() / 1000)): string {
      return `${overTls(deviceId) ? 'tls' : 'plain'}:${Math.ceil((nowSec + ttlSeconds) / HOUR) * HOUR}`;
    },
    /** The plain ref's CBOR (a clip map), for encodeFromValues. */
    encodedRef(deviceId: string, clip: ClipInfo, nowSec = Math.floor(Date.now() / 1000)): Buffer {
      return current(deviceId, clip, nowSec).encoded;
    },
  };
}
export type ClipUrls = ReturnType<typeof createClipUrls>;
