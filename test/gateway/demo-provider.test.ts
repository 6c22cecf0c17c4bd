import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { UtteranceFormat } from '../../protocol/index.js';
import { espeakAvailable } from '../../gateway/providers/espeak.js';
import { createDemoProvider, toneSpeech } from '../../gateway/providers/demo-provider.js';
import { decodeMulaw } from '../../gateway/providers/g711.js';
import { NOT_UNDERSTOOD, PROMPTS, promptAudio, replyTo } from '../../gateway/providers/phrasebook.js';

const log = pino({ level: 'silent' });
const hasEspeak = await espeakAvailable();

describe('phrasebook', () => {
  it('has distinct deterministic prompt audio of 0.4 s mu-law', () => {
    const audio = PROMPTS.map((p) => Buffer.from(promptAudio(p)).toString('hex'));
    expect(new Set(audio).size).toBe(PROMPTS.length);
    expect(Buffer.from(promptAudio(PROMPTS[0]!)).toString('hex')).toBe(audio[0]);
    expect(promptAudio(PROMPTS[0]!).length).toBe(3200);
  });

  it('answers every prompt, free text by normalisation, and nothing with "didn\'t catch that"', () => {
    for (const p of PROMPTS) expect(replyTo(p)).not.toBe(replyTo('something nobody says'));
    expect(replyTo('  Tell me a STORY! ')).toBe(replyTo('tell me a story'));
    expect(replyTo('')).toBe(NOT_UNDERSTOOD);
  });
});

describe('demo provider', () => {
  const provider = createDemoProvider({ latencyMs: 0, log, useEspeak: false });

  it('recognises prompt audio as mu-law and as PCM16, and typed text', async () => {
    const audio = promptAudio('sing me a song');
    expect(await provider.transcribe(audio, UtteranceFormat.mulaw8k)).toBe('sing me a song');
    const pcm = decodeMulaw(audio);
    expect(await provider.transcribe(new Uint8Array(pcm.buffer), UtteranceFormat.pcm16k)).toBe('sing me a song');
    expect(await provider.transcribe(new TextEncoder().encode('hi'), UtteranceFormat.text)).toBe('hi');
    expect(await provider.transcribe(new Uint8Array(100), UtteranceFormat.mulaw8k)).toBe('');
  });

  it('falls back to deterministic tones without espeak-ng', async () => {
    const a = await provider.synthesize('hello', 'teddy');
    expect(a).toEqual(toneSpeech('hello', 'teddy'));
    expect(a.length).toBe(5 * 480);
  });

  it.runIf(hasEspeak)('speaks with espeak-ng: 8 kHz mu-law, deterministic, voice-dependent', async () => {
    const speaking = createDemoProvider({ latencyMs: 0, log });
    const a = await speaking.synthesize('Good night, little bear.', 'teddy');
    const b = await speaking.synthesize('Good night, little bear.', 'teddy');
    const c = await speaking.synthesize('Good night, little bear.', 'luna');
    expect(Buffer.compare(a, b)).toBe(0);
    expect(Buffer.compare(a, c)).not.toBe(0);
    // About 1-3 s of speech at 8000 bytes per second.
    expect(a.length).toBeGreaterThan(8000);
    expect(a.length).toBeLessThan(4 * 8000);
  });
});
