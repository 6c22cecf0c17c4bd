/**
 * Cache keys for a child's words and voice. Every key is a SHA-256, so no
 * transcript, prompt or reply ever appears in Redis, in logs or on the wire.
 */
import { hash } from 'node:crypto';

/** Key for the transcription of one recording, named by the caller's hash of its bytes. */
export function transcriptionKey(audioHash: string): string {
  return sha256Hex(`transcription\0${audioHash}`);
}

/** Key for the emotion analysis of one recording, named by the caller's hash of its bytes. */
export function emotionAnalysisKey(audioHash: string): string {
  return sha256Hex(`emotion\0${audioHash}`);
}

/** Key for an AI answer to a context (a prompt string, or a JSON-able object hashed canonically). */
export function aiResponseKey(context: unknown): string {
  return sha256Hex(`ai-response\0${typeof context === 'string' ? context : canonicalJson(context)}`);
}

/** SHA-256 of `"voice\0" + voice + "\0" + text`; its first 8 bytes are the protocol's clip id. */
export function voiceSynthesisDigest(text: string, voice: string): Uint8Array {
  return Buffer.from(voiceSynthesisKey(text, voice), 'hex');
}

/** The digest in hex: the cache key of the line's audio (its first 2 × CLIP_ID_BYTES digits are the clip id). */
export function voiceSynthesisKey(text: string, voice: string): string {
  return sha256Hex(`voice\0${voice}\0${text}`);
}

/** Bytes of a clip id: the bear's name for a voice line (protocol/messages.ts has the same bound). */
export const CLIP_ID_BYTES = 8;

/** The clip id the bear knows a voice line by. */
export function clipIdFor(text: string, voice: string): Uint8Array {
  return voiceSynthesisDigest(text, voice).subarray(0, CLIP_ID_BYTES);
}

/**
 * Hex SHA-256. The one-shot `crypto.hash` (Node ≥ 20.12): for the short inputs keys are made of,
 * building a Hash object costs more than hashing (about 0.6 µs against 0.25 µs on our machines).
 */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', data, 'hex');
}

/** JSON with object keys sorted, so equal contexts hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
