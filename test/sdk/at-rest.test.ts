import { describe, expect, it } from 'vitest';
import { ContentType, createCacheIntegrationService } from '../../sdk/index.js';
import { createKeyLayout } from '../../sdk/key-layout.js';
import { useL2Caches } from '../helpers/cache.js';
import { L2_BACKENDS } from '../helpers/l2-backends.js';

describe.each(L2_BACKENDS)('data at rest on $name', (kind) => {
  const env = useL2Caches(kind);

  it('holds no child words in keys or values of sensitive types, and no raw key text at all', async () => {
    const cache = await env.caches.make({ asyncWriteEnabled: false });
    const service = createCacheIntegrationService(cache);
    const words = 'MY-SECRET-WORDS grandma lives at 12 Honey Lane';
    await service.cacheAudioTranscription('', async () => words, Buffer.from('pcm audio of the child'));
    await service.cacheAiResponse({ child: words }, async () => `reply to ${words}`);
    await cache.set(`session ${words}`, { said: words }, ContentType.USER_SESSION, { tags: [`tag ${words}`] });
    await cache.set(`emotion ${words}`, { mood: words }, ContentType.EMOTION_ANALYSIS);
    await cache.set(`config ${words}`, 'public setting', ContentType.CONFIGURATION);
    const dump = await env.backend.dump();
    expect(dump.length).toBeGreaterThan(0);
    expect(dump.includes('public setting')).toBe(true); // the dump does see values (configuration is not sensitive)
    expect(dump.includes('MY-SECRET-WORDS')).toBe(false);
    expect(dump.includes('Honey Lane')).toBe(false);
  });

  it('marks sensitive records encrypted and compresses large ones', async () => {
    const cache = await env.caches.make({ asyncWriteEnabled: false, keyPrefix: 'flags:' });
    await cache.set('t', 'hello', ContentType.AUDIO_TRANSCRIPTION);
    await cache.set('big', 'la '.repeat(5000), ContentType.STATIC_ASSET);
    const layout = createKeyLayout('flags:');
    expect((await env.backend.raw.getBuffer(layout.entry(ContentType.AUDIO_TRANSCRIPTION, 't').l2Key))![0]! & 0x0f).toBe(2); // AES-GCM
    const bigRecord = (await env.backend.raw.getBuffer(layout.entry(ContentType.STATIC_ASSET, 'big').l2Key))!;
    expect(bigRecord[0]! & 0x0f).toBe(1); // LZ4
    expect(bigRecord.length).toBeLessThan(2000);
  });

  it('rotates keys: a new key encrypts, the old one still decrypts', async () => {
    const oldKey = Buffer.alloc(32, 7).toString('base64');
    const newKey = Buffer.alloc(32, 9).toString('hex');
    const before = await env.caches.make({ keyPrefix: 'rot:', encryptionKeys: { old: oldKey }, asyncWriteEnabled: false });
    await before.set('s', { step: 3 }, ContentType.USER_SESSION);
    const after = await env.caches.make({ keyPrefix: 'rot:', encryptionKeys: { new: newKey, old: oldKey } });
    expect(await after.get('s', ContentType.USER_SESSION)).toEqual({ step: 3 });
    const stranger = await env.caches.make({ keyPrefix: 'rot:', encryptionKeys: { other: newKey } });
    expect(await stranger.get('s', ContentType.USER_SESSION)).toBeUndefined(); // unreadable → miss, not a crash
  });
});
