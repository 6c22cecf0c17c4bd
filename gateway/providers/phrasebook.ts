/**
 * The demo provider's world: what children say to the bear (most common
 * first — the simulator draws from this list with a Zipf skew), what the bear
 * answers, and the synthetic "audio" of each prompt the demo transcriber
 * recognises.
 *
 * A prompt's audio is a deterministic melody of tones derived from the
 * prompt's SHA-256, mu-law 8 kHz: not speech, but real audio bytes of a
 * realistic size that a bear (or simulator) can send, and that the demo
 * transcriber maps back to the prompt exactly.
 */
import { createHash } from 'node:crypto';
import { encodeMulaw } from './g711.js';

export const PROMPTS: readonly string[] = [
  'tell me a story',
  'good night teddy',
  'sing me a song',
  'i love you',
  'what is your name',
  'tell me a joke',
  'i am scared of the dark',
  'what sound does a cow make',
  'can we play a game',
  'why is the sky blue',
  'good morning teddy',
  'how old are you',
  'what is your favourite colour',
  'count to five',
  'where do stars come from',
  'i am sad',
  'do you like dinosaurs',
  'what do bears eat',
  'tell me about the moon',
  'i had a bad dream',
  'what is the biggest animal',
  'can you dance',
  'why do cats purr',
  'let us say the alphabet',
];

/** Lines every bear should hold from the start (pinned in its first warm manifest). */
export const STARTER_LINES: readonly string[] = [
  'Hello, friend! I am so happy to see you.',
  'Good night, sleep tight. I will be right here.',
  'Hush little one, close your eyes, the stars are singing lullabies.',
  "I didn't catch that. Can you say it again?",
];
export const NOT_UNDERSTOOD = STARTER_LINES[3]!;

const REPLIES: ReadonlyMap<string, string> = new Map([
  ['tell me a story', 'Once upon a time, a little bear found a golden honey pot under the old oak tree.'],
  ['good night teddy', STARTER_LINES[1]!],
  ['sing me a song', STARTER_LINES[2]!],
  ['i love you', 'I love you too, all the way to the moon and back.'],
  ['what is your name', 'My name is Teddy, and I am your friend.'],
  ['tell me a joke', 'Why did the bear say no to dessert? Because he was already stuffed!'],
  ['i am scared of the dark', 'It is okay. I am right here with you, and the dark is just the night resting.'],
  ['what sound does a cow make', 'A cow says moo! Mooo!'],
  ['can we play a game', 'Yes! Let us play I spy. I spy something soft and cuddly.'],
  ['why is the sky blue', 'Sunlight bounces around in the air, and blue light bounces the most.'],
  ['good morning teddy', 'Good morning, sunshine! Did you sleep well?'],
  ['how old are you', 'I am as old as our friendship, and that feels just right.'],
  ['what is your favourite colour', 'I like honey yellow best. What is yours?'],
  ['count to five', 'One, two, three, four, five!'],
  ['where do stars come from', 'Stars are giant balls of glowing gas, very very far away.'],
  ['i am sad', 'I am sorry you feel sad. Would a big teddy hug help?'],
  ['do you like dinosaurs', 'I love dinosaurs! Roar!'],
  ['what do bears eat', 'Bears eat berries, fish, and lots and lots of honey.'],
  ['tell me about the moon', 'The moon is our sky nightlight. It goes around the Earth.'],
  ['i had a bad dream', 'Dreams are not real. You are safe here with me.'],
  ['what is the biggest animal', 'The blue whale is the biggest animal ever.'],
  ['can you dance', 'I can wiggle my ears! Wiggle wiggle.'],
  ['why do cats purr', 'Cats purr when they are happy and cosy.'],
  ['let us say the alphabet', 'A, B, C, D, E, F, G! Your turn!'],
]);

const DEFAULT_REPLY = 'That sounds wonderful! Tell me more.';

/** Normalises free text to the phrasebook's form: lower case, letters, digits and single spaces. */
export function normalizePrompt(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9' ]+/g, ' ').replace(/'/g, '').replace(/\s+/g, ' ').trim();
}

/** The bear's reply to a transcript ("" means nothing was understood). */
export function replyTo(transcript: string): string {
  const prompt = normalizePrompt(transcript);
  if (!prompt) return NOT_UNDERSTOOD;
  return REPLIES.get(prompt) ?? DEFAULT_REPLY;
}

const SAMPLE_RATE = 8000;
const TONES = 8;
const TONE_SAMPLES = 400; // 50 ms each: 8 tones = 0.4 s = 3200 bytes of mu-law

/** Deterministic mu-law 8 kHz audio for a prompt (see the file comment). */
export function promptAudio(prompt: string): Uint8Array {
  const digest = createHash('sha256').update(`teddy-prompt\0${prompt}`).digest();
  const pcm = new Int16Array(TONES * TONE_SAMPLES);
  for (let t = 0; t < TONES; t++) {
    const hz = 300 + digest.readUInt16BE(t * 2) % 2700;
    for (let i = 0; i < TONE_SAMPLES; i++) {
      pcm[t * TONE_SAMPLES + i] = Math.round(8000 * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE));
    }
  }
  return encodeMulaw(pcm);
}
