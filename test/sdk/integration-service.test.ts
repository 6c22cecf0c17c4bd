import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ContentType, createCacheIntegrationService, emotionAnalysisKey, sha256Hex } from '../../sdk/index.js';
import { createKeyLayout } from '../../sdk/key-layout.js';
import { useRedisCaches } from '../helpers/cache.js';

const env = useRedisCaches();

describe('integration service: emotion analysis and result forms', () => {
  it('cacheEmotionAnalysis analyses a recording once, across instances, encrypted, keyed by a hash', async () => {
    const a = createCacheIntegrationService(await env.caches.make({ asyncWriteEnabled: false, keyPrefix: 'emo:' }));
    const b = createCacheIntegrationService(await env.caches.make({ keyPrefix: 'emo:' }));
    const audio = Buffer.from('pcm of a giggle');
    let analyses = 0;
    const analyse = async () => ({ mood: 'happy', confidence: 0.9, n: ++analyses });
    expect(await a.cacheEmotionAnalysis('', analyse, audio)).toEqual({ mood: 'happy', confidence: 0.9, n: 1 });
    expect(await b.cacheEmotionAnalysis(sha256Hex(audio), analyse)).toMatchObject({ n: 1 }); // the same recording by its hash
    expect(await b.fetchEmotionAnalysis('', analyse, audio)).toMatchObject({ source: 'l1', value: { n: 1 } });
    expect(analyses).toBe(1);
    await expect(a.cacheEmotionAnalysis('', analyse)).rejects.toThrow(TypeError);

    const raw = new Redis(env.redis.url);
    try {
      const record = (await raw.getBuffer(createKeyLayout('emo:').entry(ContentType.EMOTION_ANALYSIS, emotionAnalysisKey(sha256Hex(audio))).l2Key))!;
      expect(record[0]! & 0x02).toBe(2); // AES-GCM
      expect(record.includes(Buffer.from('happy'))).toBe(false);
    } finally {
      raw.disconnect();
    }
  });

  it('result forms say which layer answered', async () => {
    const service = createCacheIntegrationService(await env.caches.make({ keyPrefix: 'res:' }));
    expect(await service.fetchAiResponse('why is the sky blue?', () => 'light scatters')).toEqual({ value: 'light scatters', source: 'compute' });
    expect(await service.fetchAiResponse('why is the sky blue?', () => 'unused')).toEqual({ value: 'light scatters', source: 'l1' });
    expect(await service.fetchAudioTranscription('h1', () => 'hello')).toMatchObject({ value: 'hello', source: 'compute' });
    expect(await service.cacheAudioTranscription('h1', () => 'unused')).toBe('hello');
  });
});
