/**
 * One utterance to one answer: transcribe, respond, synthesize — each step a
 * call to the SDK's integration service, which caches it under its own key
 * (audio hash, transcript, line and voice), so the provider runs only for
 * what no layer holds. The service derives every key, by hashing: no raw
 * audio or text reaches a key or a log.
 */
import { sha256Hex, type CacheIntegrationService, type CacheSource } from '../sdk/index.js';
import { AnswerSource, UtteranceFormat, type Utterance } from '../protocol/index.js';
import type { ClipInfo } from './clip-catalog.js';
import type { Provider } from './providers/provider.js';
import type { VoiceClips } from './voice-clips.js';

export interface ConversationOptions {
  service: CacheIntegrationService;
  provider: Provider;
  voiceClips: VoiceClips;
}

export interface Reply {
  reply: string;
  clip: ClipInfo;
  /** AnswerSource: which layer supplied the AI response. */
  source: number;
}

// 'stale' is a value from memory or Redis served past its freshness because the provider failed.
const ANSWER_SOURCE: Record<CacheSource, number> = {
  compute: AnswerSource.provider,
  l1: AnswerSource.l1,
  stale: AnswerSource.l1,
  l2: AnswerSource.l2,
  l3: AnswerSource.l2,
};

const utf8 = new TextDecoder();

export function createConversation({ service, provider, voiceClips }: ConversationOptions) {
  const transcribe = async (u: Utterance): Promise<string> => {
    // Typed text needs no speech recognition.
    if (u.format === UtteranceFormat.text) return utf8.decode(u.audio);
    return service.cacheAudioTranscription<string>(sha256Hex(u.audio), () => provider.transcribe(u.audio, u.format));
  };

  return {
    async answer(u: Utterance, voice: string): Promise<Reply> {
      const transcript = await transcribe(u);
      const { value: reply, source } = await service.fetchAiResponse<string>(transcript, () => provider.respond(transcript));
      const { clip } = await voiceClips.clip(reply, voice);
      return { reply, clip, source: ANSWER_SOURCE[source] };
    },
  };
}
export type Conversation = ReturnType<typeof createConversation>;
