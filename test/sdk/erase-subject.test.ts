/**
 * eraseSubject on a real Redis with two cache instances and one L3 store:
 * what only the subject's input produced or used leaves L2, both instances'
 * L1 (through the bus) and L3 (ref and blob); what another subject used, and
 * what was cached without a subject, stays; Redis holds no trace of the
 * erased subject afterwards, and a second erasure finds nothing.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import {
  aiResponseKey, ContentType, createCacheIntegrationService, emotionAnalysisKey, sha256Hex, transcriptionKey, voiceSynthesisKey,
} from '../../sdk/index.js';
import { createKeyLayout } from '../../sdk/key-layout.js';
import { redisDump } from '../helpers/raw-dump.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();
const layout = createKeyLayout('teddy:');
const fail = async (): Promise<never> => {
  throw new Error('should have been cached');
};
const l2Key = (type: ContentType, key: string) => layout.entry(type, key).l2Key;

describe('eraseSubject', () => {
  it('removes what only the subject used from every layer and instance, and keeps what others used', async () => {
    const a = await env.caches.make();
    const b = await env.caches.make();
    const sa = createCacheIntegrationService(a);
    const sb = createCacheIntegrationService(b);
    const zoe = { subject: 'bear-a' };
    const rex = { subject: 'bear-b' };
    const audioA = randomBytes(3200);
    const clipBytes = randomBytes(4000);
    const starterBytes = randomBytes(2000);

    // Bear A's own: its audio's transcription and emotion, the answer to its words, the clip of that answer.
    await sa.fetchAudioTranscription('', async () => 'my name is Zoe', audioA, zoe);
    await sa.cacheEmotionAnalysis('', async () => ({ mood: 'happy' }), audioA, zoe);
    await sa.cacheAiResponse('my name is Zoe', async () => 'hello Zoe', zoe);
    const clip = await sa.voiceClip('hello Zoe', 'teddy', async () => clipBytes, zoe);
    // Shared: A caused it, B used it (an L2 hit on the other instance).
    await sa.cacheAiResponse('tell me a story', async () => 'once upon a time', zoe);
    expect(await sb.cacheAiResponse('tell me a story', fail, rex)).toBe('once upon a time');
    // Nobody's: cached without a subject (a starter line), then used by A from L1.
    const starter = await sa.voiceClip('hi, I am your teddy', 'teddy', async () => starterBytes);
    expect(sa.voiceSynthesisStep('hi, I am your teddy', 'teddy', zoe).peek()).toBeDefined();
    // B's own.
    await sb.cacheAiResponse('my dog is Rex', async () => 'woof', rex);
    // The other instance holds A's answer in its L1 (read without a subject: recorded for nobody).
    expect(await sb.cacheAiResponse('my name is Zoe', fail)).toBe('hello Zoe');
    expect(b.peek(aiResponseKey('my name is Zoe'), ContentType.AI_RESPONSE)).toBe('hello Zoe');
    await sleep(200); // hits are recorded in the background

    const report = await a.eraseSubject('bear-a');
    expect(report).toEqual({ l2: 4, l1: 4, l3Refs: 1, l3Blobs: 1, shared: 2 });
    await vi.waitFor(() => expect(b.peek(aiResponseKey('my name is Zoe'), ContentType.AI_RESPONSE)).toBeUndefined());

    const dump = await redisDump(env.redis.url);
    const gone = [
      l2Key(ContentType.AUDIO_TRANSCRIPTION, transcriptionKey(sha256Hex(audioA))),
      l2Key(ContentType.EMOTION_ANALYSIS, emotionAnalysisKey(sha256Hex(audioA))),
      l2Key(ContentType.AI_RESPONSE, aiResponseKey('my name is Zoe')),
      l2Key(ContentType.VOICE_SYNTHESIS, voiceSynthesisKey('hello Zoe', 'teddy')),
    ];
    for (const k of gone) expect(dump.includes(k.split(':').at(-1)!), k).toBe(false);
    for (const trace of ['bear-a', sha256Hex('bear-a'), sha256Hex('subject\0bear-a'), 'Zoe']) expect(dump.includes(trace), trace).toBe(false);
    for (const kept of [
      l2Key(ContentType.AI_RESPONSE, aiResponseKey('tell me a story')),
      l2Key(ContentType.AI_RESPONSE, aiResponseKey('my dog is Rex')),
      l2Key(ContentType.VOICE_SYNTHESIS, voiceSynthesisKey('hi, I am your teddy', 'teddy')),
    ]) expect(dump.includes(kept), kept).toBe(true);
    expect(await sb.cacheAiResponse('tell me a story', fail, rex)).toBe('once upon a time');
    expect(await sb.cacheAiResponse('my dog is Rex', fail, rex)).toBe('woof');

    // L3: A's clip's blob is gone, the starter's stays.
    expect(await a.blobStore!.stat(clip.sha256)).toBeUndefined();
    expect(await a.blobStore!.stat(starter.sha256)).toBeDefined();

    // A second erasure finds nothing.
    expect(await a.eraseSubject('bear-a')).toEqual({ l2: 0, l1: 0, l3Refs: 0, l3Blobs: 0, shared: 0 });
    // What A asks next is computed again (nothing of it was kept anywhere).
    const recomputed = vi.fn(async () => 'hello again');
    expect(await b.getWithFallback(aiResponseKey('my name is Zoe'), ContentType.AI_RESPONSE, recomputed)).toBe('hello again');
    expect(recomputed).toHaveBeenCalledOnce();
  });

  it('refuses a bad subject', async () => {
    const a = await env.caches.make();
    await expect(a.eraseSubject('')).rejects.toThrow(/subject/);
    await expect(a.set('k', 'v', ContentType.AI_RESPONSE, { subject: '' })).rejects.toThrow(/subject/);
  });
});
