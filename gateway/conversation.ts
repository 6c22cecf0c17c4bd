/**
 * One utterance to one answer: transcribe, respond, synthesize — each step a
 * cache lookup through the SDK's integration service under its own key
 * (audio hash, transcript, line and voice), derived once, so the provider
 * runs only for what no layer holds. The keys hash: no raw audio or text
 * reaches a key or a log.
 *
 * Each step first asks this process's L1 synchronously and only fetches
 * (asynchronously, through L2, L3 and the provider) what is not there, so a
 * repeated question is answered without a promise: `answer` returns the
 * Reply itself then, and a Promise of it otherwise. Every step names the
 * bear as the SDK's subject: what its words produced can be erased with it.
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
  const withClip = (subject: string, reply: string, voice: string, source: number): Reply | Promise<Reply> => {
    const clip = voiceClips.peek(reply, voice, subject);
    if (clip) return { reply, clip, source };
    return voiceClips.clip(reply, voice, false, subject).then(({ clip: fetched }) => ({ reply, clip: fetched, source }));
  };

  const withReply = (subject: string, transcript: string, voice: string): Reply | Promise<Reply> => {
    const step = service.aiResponseStep(transcript, { subject });
    const reply = step.peek();
    if (reply !== undefined) return withClip(subject, reply, voice, AnswerSource.l1);
    return step.fetch(() => provider.respond(transcript)).then(({ value, source }) => withClip(subject, value, voice, ANSWER_SOURCE[source]));
  };

  return {
    /** `deviceId`: the bear that asked (the SDK's subject). */
    answer(deviceId: string, u: Utterance, voice: string): Reply | Promise<Reply> {
      // Typed text needs no speech recognition.
      if (u.format === UtteranceFormat.text) return withReply(deviceId, utf8.decode(u.audio), voice);
      const step = service.transcriptionStep(sha256Hex(u.audio), { subject: deviceId });
      const transcript = step.peek();
      if (transcript !== undefined) return withReply(deviceId, transcript, voice);
      return step.fetch(() => provider.transcribe(u.audio, u.format)).then(({ value }) => withReply(deviceId, value, voice));
    },
  };
}
export type Conversation = ReturnType<typeof createConversation>;
