/**
 * The built-in deterministic provider: recognises the phrasebook's prompt
 * audio (./phrasebook.ts), answers from the phrasebook, and speaks with
 * espeak-ng when installed, else with a deterministic tone melody (logged
 * once). Each call waits `latencyMs` first, standing in for a cloud AI's
 * response time so the value of caching is visible.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ClipCodec, UtteranceFormat } from '../../protocol/index.js';
import { sha256Hex } from '../../sdk/index.js';
import { espeak, espeakAvailable } from './espeak.js';
import { encodeMulaw } from './g711.js';
import { PROMPTS, promptAudio, replyTo } from './phrasebook.js';
import type { Provider } from './provider.js';
import { resample } from './resample.js';

/** Voice names a bear may ask for, and the espeak-ng voice behind each. The first is the default. */
export const DEMO_VOICES: ReadonlyMap<string, string> = new Map([
  ['teddy', 'en-us+m3'],
  ['luna', 'en-us+f3'],
  ['grandpa', 'en+m7'],
]);

export interface DemoProviderOptions {
  latencyMs: number;
  log: Logger;
  /** Force the tone fallback (tests of the fallback); default: use espeak-ng when it runs. */
  useEspeak?: boolean;
}

const SAMPLE_RATE = 8000;

export function createDemoProvider({ latencyMs, log, useEspeak }: DemoProviderOptions): Provider {
  let byAudioHash: Map<string, string> | undefined;
  let speech: Promise<boolean> | undefined;
  const hasSpeech = (): Promise<boolean> => {
    speech ??= (useEspeak === false ? Promise.resolve(false) : espeakAvailable()).then((ok) => {
      if (!ok) log.warn('espeak-ng is not installed: the demo voice falls back to deterministic tones');
      return ok;
    });
    return speech;
  };
  const wait = (): Promise<void> => (latencyMs > 0 ? sleep(latencyMs) : Promise.resolve());

  const recognise = (mulaw: Uint8Array): string => {
    byAudioHash ??= new Map(PROMPTS.map((p) => [sha256Hex(promptAudio(p)), p]));
    return byAudioHash.get(sha256Hex(mulaw)) ?? '';
  };

  return {
    name: 'demo',
    voices: [...DEMO_VOICES.keys()],
    clipCodec: ClipCodec.mulaw8k,
    async transcribe(audio, format) {
      await wait();
      if (format === UtteranceFormat.text) return new TextDecoder().decode(audio);
      if (format === UtteranceFormat.mulaw8k) return recognise(audio);
      if (format === UtteranceFormat.pcm16k) return recognise(encodeMulaw(pcm16le(audio)));
      return '';
    },
    async respond(transcript) {
      await wait();
      return replyTo(transcript);
    },
    async synthesize(text, voice) {
      await wait();
      const espeakVoice = DEMO_VOICES.get(voice) ?? DEMO_VOICES.values().next().value!;
      if (await hasSpeech()) {
        try {
          const pcm = await espeak(text, espeakVoice);
          return encodeMulaw(resample(pcm.samples, pcm.sampleRate, SAMPLE_RATE));
        } catch (err) {
          log.warn({ err: (err as Error).message, textBytes: Buffer.byteLength(text) }, 'espeak-ng failed: using the tone fallback');
        }
      }
      return toneSpeech(text, voice);
    },
  };
}

/** Stand-in speech: one 60 ms tone per character (at most 4 s), pitches from the text's hash. */
export function toneSpeech(text: string, voice: string): Uint8Array {
  const digest = createHash('sha256').update(`${voice}\0${text}`).digest();
  const perTone = (SAMPLE_RATE * 60) / 1000;
  const tones = Math.max(1, Math.min(Buffer.byteLength(text), (4 * SAMPLE_RATE) / perTone));
  const pcm = new Int16Array(tones * perTone);
  for (let t = 0; t < tones; t++) {
    const hz = 200 + (digest[t % digest.length]! * 4);
    for (let i = 0; i < perTone; i++) pcm[t * perTone + i] = Math.round(6000 * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE));
  }
  return encodeMulaw(pcm);
}

function pcm16le(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(bytes.byteLength >> 1);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(i * 2, true);
  return out;
}

