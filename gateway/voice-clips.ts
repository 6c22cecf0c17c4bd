/**
 * Voice clips through the SDK's integration service: a line in a voice is a
 * first-class SDK result (the audio, which layer had it, its blob name and
 * clip id), synthesized by the provider only on a miss; the SDK's voice
 * policy also puts the bytes in the L3 blob store, which the HTTP origin
 * serves. The clip is then catalogued under its clip id. A `subject` (the
 * bear's device id) tells the SDK whose answer used the clip, for erasure.
 */
import { CLIP_ID_BYTES, type CacheIntegrationService } from '../sdk/index.js';
import type { ClipCatalog, ClipInfo } from './clip-catalog.js';
import type { Provider } from './providers/provider.js';

export interface VoiceClipsOptions {
  service: CacheIntegrationService;
  provider: Provider;
  catalog: ClipCatalog;
}

export function createVoiceClips({ service, provider, catalog }: VoiceClipsOptions) {
  return {
    /**
     * The catalogued clip, when its audio is in this process's L1 now (synchronous): the answer
     * path of a repeated question. Undefined sends the caller to `clip`.
     */
    peek(text: string, voice: string, subject?: string): ClipInfo | undefined {
      const step = service.voiceSynthesisStep(text, voice, { subject });
      return step.peek() === undefined ? undefined : catalog.get(step.key.slice(0, 2 * CLIP_ID_BYTES));
    },
    async clip(text: string, voice: string, starter = false, subject?: string): Promise<{ clip: ClipInfo; bytes: Uint8Array }> {
      const { bytes, sha256, clipId } = await service.voiceClip(text, voice, () => provider.synthesize(text, voice), { subject });
      const clip = catalog.record({ clipId, sha256, size: bytes.byteLength, codec: provider.clipCodec, text, voice, starter });
      return { clip, bytes };
    },
  };
}
export type VoiceClips = ReturnType<typeof createVoiceClips>;
