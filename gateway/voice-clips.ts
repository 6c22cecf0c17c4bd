/**
 * Voice clips through the SDK: a line in a voice is fetched from the cache
 * under the SDK's voice-synthesis key, and synthesized by the provider only
 * on a miss; the SDK's voice policy also puts the bytes in the L3 blob store,
 * which the HTTP origin serves. The clip is then catalogued under its clip id.
 */
import { createHash } from 'node:crypto';
import { ContentType, type MultiLayerCache } from '../sdk/index.js';
import { voiceSynthesisDigest, voiceSynthesisKey } from '../sdk/keys.js';
import { CLIP_ID_BYTES } from '../sdk/protocol/index.js';
import type { ClipCatalog, ClipInfo } from './clip-catalog.js';
import type { Provider } from './providers/provider.js';

export interface VoiceClipsOptions {
  cache: MultiLayerCache;
  provider: Provider;
  catalog: ClipCatalog;
}

export function createVoiceClips({ cache, provider, catalog }: VoiceClipsOptions) {
  // Hashing is per distinct byte array: an L1 hit returns the same array, so repeats cost nothing.
  const shaOf = new WeakMap<Uint8Array, string>();

  return {
    async clip(text: string, voice: string, starter = false): Promise<{ clip: ClipInfo; bytes: Uint8Array }> {
      const { value } = await cache.fetch(voiceSynthesisKey(text, voice), ContentType.VOICE_SYNTHESIS, () =>
        provider.synthesize(text, voice),
      );
      const bytes = value as Uint8Array;
      let sha256 = shaOf.get(bytes);
      if (!sha256) {
        sha256 = createHash('sha256').update(bytes).digest('hex');
        shaOf.set(bytes, sha256);
      }
      const clipId = voiceSynthesisDigest(text, voice).subarray(0, CLIP_ID_BYTES);
      const clip = catalog.record({ clipId, sha256, size: bytes.byteLength, codec: provider.clipCodec, text, voice, starter });
      return { clip, bytes };
    },
  };
}
export type VoiceClips = ReturnType<typeof createVoiceClips>;
