/**
 * Voice clips through the SDK: a line in a voice is fetched from the cache
 * under the SDK's voice-synthesis key, and synthesized by the provider only
 * on a miss; the SDK's voice policy also puts the bytes in the L3 blob store,
 * which the HTTP origin serves. The clip is then catalogued under its clip id.
 */
import { ContentType, type MultiLayerCache } from '../sdk/index.js';
import { sha256Hex, voiceSynthesisDigest } from '../sdk/keys.js';
import { CLIP_ID_BYTES } from '../protocol/index.js';
import type { ClipCatalog, ClipInfo } from './clip-catalog.js';
import type { Provider } from './providers/provider.js';

export interface VoiceClipsOptions {
  cache: MultiLayerCache;
  provider: Provider;
  catalog: ClipCatalog;
}

export function createVoiceClips({ cache, provider, catalog }: VoiceClipsOptions) {
  return {
    async clip(text: string, voice: string, starter = false): Promise<{ clip: ClipInfo; bytes: Uint8Array }> {
      // One digest gives both names (the contract: the key is its hex, the clip id its first 8 bytes).
      const digest = voiceSynthesisDigest(text, voice);
      const key = Buffer.from(digest).toString('hex');
      const { value: bytes, blob } = await cache.fetch<Uint8Array>(key, ContentType.VOICE_SYNTHESIS, () => provider.synthesize(text, voice));
      // The SDK names the L3 blob; with L3 off there is none, and the clip can still be sent inline.
      const sha256 = blob?.sha256 ?? sha256Hex(bytes);
      const clipId = digest.subarray(0, CLIP_ID_BYTES);
      const clip = catalog.record({ clipId, sha256, size: bytes.byteLength, codec: provider.clipCodec, text, voice, starter });
      return { clip, bytes };
    },
  };
}
export type VoiceClips = ReturnType<typeof createVoiceClips>;
