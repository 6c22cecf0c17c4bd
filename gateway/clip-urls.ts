/**
 * Turns a catalogued clip into the protocol's clip map with a signed,
 * expiring URL. Expiry is rounded up to the next hour, so every answer
 * naming a clip within that hour carries the same URL (cacheable by the bear
 * and by a CDN keyed on the full URL).
 */
import { signClipUrl } from '../sdk/l3/signed-url.js';
import type { ClipRef } from '../sdk/protocol/index.js';
import type { ClipInfo } from './clip-catalog.js';

export interface ClipUrlOptions {
  /** Origin in URLs, e.g. `https://cdn.example.com`; read per call because the HTTP port is known only after listen. */
  origin(): string;
  urlKey: string;
  ttlSeconds: number;
}

const HOUR = 3600;

export function createClipUrls({ origin, urlKey, ttlSeconds }: ClipUrlOptions) {
  return {
    ref(clip: ClipInfo, extra: Pick<ClipRef, 'inline' | 'priority' | 'pinned'> = {}, nowSec = Math.floor(Date.now() / 1000)): ClipRef {
      const expires = Math.ceil((nowSec + ttlSeconds) / HOUR) * HOUR;
      return {
        clipId: clip.clipId,
        sha256: Buffer.from(clip.sha256, 'hex'),
        size: clip.size,
        url: signClipUrl({ origin: origin(), sha256: clip.sha256, key: urlKey, expiresAt: expires }),
        expires,
        codec: clip.codec,
        ...extra,
      };
    },
  };
}
export type ClipUrls = ReturnType<typeof createClipUrls>;
