/**
 * The JSON form of protocol messages used by docs/vectors/*.json and by
 * debugging tools: the message object with every byte string as lowercase hex.
 */
import type { Message } from './messages.js';

export function messageToJson(message: Message): unknown {
  return JSON.parse(JSON.stringify(message, (_key, value: unknown) => {
    if (value && typeof value === 'object' && 'type' in value && value.type === 'Buffer' && 'data' in value) {
      return Buffer.from(value.data as number[]).toString('hex');
    }
    return value instanceof Uint8Array ? Buffer.from(value).toString('hex') : value;
  }));
}

/** Field names that hold byte strings (or lists of them) in the JSON form. */
const BYTE_FIELDS = new Set(['clipId', 'sha256', 'inline', 'audio', 'clips', 'stored', 'failed']);

export function messageFromJson(json: unknown): Message {
  return JSON.parse(JSON.stringify(json), (key, value: unknown) => {
    if (!BYTE_FIELDS.has(key)) return value;
    if (typeof value === 'string') return Buffer.from(value, 'hex');
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((v: string) => Buffer.from(v, 'hex'));
    return value;
  }) as Message;
}
