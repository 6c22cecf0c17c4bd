/**
 * What AI services call: one method per pipeline step, each keyed by a hash
 * (sdk/keys.ts) so a child's audio, prompt or reply never becomes a key.
 */
import { createHash } from 'node:crypto';
import type { MultiLayerCache } from './cache.js';
import { ContentType } from './content-types.js';
import { aiResponseKey, transcriptionKey, voiceSynthesisKey } from './keys.js';

export interface CacheIntegrationService {
  /**
   * The transcription of one recording. `audioHash` names it; when it is empty the SHA-256 of
   * `audioData` is used instead, so callers without a hash can pass the bytes.
   */
  cacheAudioTranscription<T = string>(audioHash: string, computeFn: () => Promise<T> | T, audioData?: Uint8Array): Promise<T>;
  /** The AI's answer to a context (a prompt string or a JSON-able conversation state). */
  cacheAiResponse<T = string>(context: unknown, computeFn: () => Promise<T> | T): Promise<T>;
  /** Synthesized speech for a line in a voice; audio bytes also land in L3. */
  cacheVoiceSynthesis<T = Uint8Array>(text: string, voice: string, computeFn: () => Promise<T> | T): Promise<T>;
}

export function createCacheIntegrationService(cache: MultiLayerCache): CacheIntegrationService {
  return {
    cacheAudioTranscription(audioHash, computeFn, audioData) {
      const name = audioHash || (audioData ? createHash('sha256').update(audioData).digest('hex') : '');
      if (!name) return Promise.reject(new TypeError('cacheAudioTranscription needs an audio hash or the audio data'));
      return cache.getWithFallback(transcriptionKey(name), ContentType.AUDIO_TRANSCRIPTION, computeFn);
    },
    cacheAiResponse(context, computeFn) {
      return cache.getWithFallback(aiResponseKey(context), ContentType.AI_RESPONSE, computeFn);
    },
    cacheVoiceSynthesis(text, voice, computeFn) {
      return cache.getWithFallback(voiceSynthesisKey(text, voice), ContentType.VOICE_SYNTHESIS, computeFn);
    },
  };
}
