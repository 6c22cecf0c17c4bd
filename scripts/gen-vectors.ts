/**
 * Writes docs/vectors: one .cbor file per message (the exact bytes every
 * implementation must produce) and its .json form (the decoded values), plus
 * docs/vectors/invalid: inputs every receiver must reject, with the error code.
 * Run after a deliberate protocol change: `npx tsx scripts/gen-vectors.ts`.
 * test/protocol/vectors.test.ts and the firmware's test_vectors check them.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeMessage, ErrorCode, messageToJson, type ClipRef, type Message } from '../protocol/index.js';

const dir = join(import.meta.dirname, '..', 'docs', 'vectors');
const hex = (h: string) => Buffer.from(h, 'hex');
const fill = (n: number, byte: number) => Buffer.alloc(n, byte);

const greeting: ClipRef = {
  clipId: hex('0123456789abcdef'),
  sha256: hex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'),
  size: 12000,
  url: 'http://127.0.0.1:8080/clips/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855?e=1767225600&s=ab12',
  expires: 1767225600,
  codec: 1,
};

const VALID: Record<string, Message> = {
  hello: { type: 'hello', id: 1, fw: '1.0.0', flashBudget: 1048576, clips: [hex('0123456789abcdef'), fill(8, 0xff)], warmSeq: 3 },
  'hello-empty': { type: 'hello', id: 4294967295, fw: '', flashBudget: 0, clips: [], warmSeq: 0 },
  welcome: { type: 'welcome', id: 1, time: 1764000000, warmSeq: 4, maxRequestBytes: 65536 },
  'utterance-text': { type: 'utterance', id: 2, audio: Buffer.from('tell me a story', 'utf8'), format: 2 },
  'utterance-pcm': { type: 'utterance', id: 23, audio: fill(24, 0x80), format: 1, voice: 'bear' },
  answer: { type: 'answer', id: 2, reply: 'Once upon a time…', clip: greeting, source: 1 },
  'clip-get': { type: 'clipGet', id: 300, clipId: hex('0123456789abcdef'), maxInline: 2048 },
  'clip-inline': {
    type: 'clip', id: 300,
    clip: { ...greeting, size: 4, inline: hex('7f7f8080'), sha256: createHash('sha256').update(hex('7f7f8080')).digest() },
  },
  warm: {
    type: 'warm', seq: 4, totalBytes: 12500,
    clips: [{ ...greeting, priority: 0, pinned: true }, { ...greeting, clipId: fill(8, 0x11), size: 500, priority: 7, pinned: false }],
  },
  'warm-ack': { type: 'warmAck', seq: 4, stored: [hex('0123456789abcdef')], failed: [fill(8, 0x11)], bytesUsed: 12000 },
  stats: { type: 'stats', flashHits: 10, flashMisses: 2, bytesUsed: 12000, clipCount: 1, evictions: 0, maxEraseCount: 65536, uptime: 3600 },
  error: { type: 'error', id: 9, code: ErrorCode.rateLimited, message: 'rate limited' },
};

/** Inputs a receiver must reject, and the error code it answers with. */
const INVALID: Record<string, { hex: string; code: number; why: string }> = {
  truncated: { hex: 'a3000301', code: ErrorCode.malformed, why: 'map of 3 pairs cut after one' },
  'not-cbor': { hex: 'ff', code: ErrorCode.malformed, why: 'a lone break code' },
  trailing: { hex: 'a1000300', code: ErrorCode.malformed, why: 'a complete item followed by extra bytes' },
  'not-a-map': { hex: '8100', code: ErrorCode.invalid, why: 'an array, not a map' },
  'unknown-type': { hex: 'a2001863010a', code: ErrorCode.unknownType, why: 'type 99' },
  'missing-field': { hex: 'a200030107', code: ErrorCode.invalid, why: 'utterance without audio or format' },
  'wrong-type': { hex: 'a4000301070262686903 02'.replace(/ /g, ''), code: ErrorCode.invalid, why: 'utterance audio as a text string' },
  'id-too-big': { hex: 'a3000501 1b0000000100000000 02480123456789abcdef'.replace(/ /g, ''), code: ErrorCode.invalid, why: 'correlation id beyond 32 bits' },
  'clip-id-short': { hex: 'a3000501010243012345', code: ErrorCode.invalid, why: 'clip id of 3 bytes, not 8' },
};

mkdirSync(join(dir, 'invalid'), { recursive: true });
for (const [name, message] of Object.entries(VALID)) {
  writeFileSync(join(dir, `${name}.cbor`), encodeMessage(message));
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(messageToJson(message), null, 2)}\n`);
}
for (const [name, v] of Object.entries(INVALID)) {
  writeFileSync(join(dir, 'invalid', `${name}.cbor`), hex(v.hex));
  writeFileSync(join(dir, 'invalid', `${name}.json`), `${JSON.stringify({ error: v.code, why: v.why }, null, 2)}\n`);
}
console.log(`wrote ${Object.keys(VALID).length} valid and ${Object.keys(INVALID).length} invalid vectors to ${dir}`);
