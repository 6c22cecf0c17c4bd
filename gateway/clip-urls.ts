/**
 * Turns a catalogued clip into the protocol's clip map with a signed,
 * expiring URL. Expiry is rounded up to the next hour, so every answer
 * naming a clip within that hour carries the same URL (cacheable by the bear
 * and by a CDN keyed on the full URL), and each clip is signed once an hour,
 * not once per answer (an HMAC is a measurable part of a cached answer).
 */
import { signClipUrl } from '../sdk/index.js';
import type { ClipRef } from '../protocol/index.js';
import type { ClipInfo } from './clip-catalog.js';

export interface ClipUrlOptions {
  /**
   * Origin in the URLs one bear gets, e.g. `https://cdn.example.com`, or the gateway's HTTPS origin for a
   * bear on TLS; read per call (the ports are known only after listen, the transport per bear).
   */
  origin(deviceId: string): string;
  urlKey: string;
  ttlSeconds: number;
}

const HOUR = 3600;

export function createClipUrls({ origin, urlKey, ttlSeconds }: ClipUrlOptions) {
  // Signed path and query (the origin is not signed), keyed by the catalog's entry, so a forgotten clip's URL goes with it.
  const signed = new WeakMap<ClipInfo, { path: string; expires: number }>();
  return {
    /** The clip as `deviceId` gets it. */
    ref(deviceId: string, clip: ClipInfo, extra: Pick<ClipRef, 'inline' | 'priority' | 'pinned'> = {}, nowSec = Math.floor(Date.now() / 1000)): ClipRef {
      const expires = Math.ceil((nowSec + ttlSeconds) / HOUR) * HOUR;
      let url = signed.get(clip);
      if (url?.expires !== expires) {
        url = { path: signClipUrl({ origin: '', sha256: clip.sha256, key: urlKey, expiresAt: expires }), expires };
        signed.set(clip, url);
      }
      return {
        clipId: clip.clipId,
        sha256: Buffer.from(clip.sha256, 'hex'),
        size: clip.size,
        url: origin(deviceId) + url.path,
        expires,
        codec: clip.codec,
        ...extra,
      };
    },
  };
}
export type ClipUrls = ReturnType<typeof createClipUrls>;
