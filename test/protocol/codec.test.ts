import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLIP_ID_BYTES,
  decodeMessage,
  encodeFieldValue,
  encodeFromValues,
  encodeMessage,
  encodeUint,
  ErrorCode,
  ProtocolError,
  SHA256_BYTES,
  type ClipRef,
  type Message,
} from '../../protocol/index.js';

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((a) => Buffer.from(a));
const clipRef: fc.Arbitrary<ClipRef> = fc.record(
  {
    clipId: bytes(CLIP_ID_BYTES), sha256: bytes(SHA256_BYTES), size: u32, url: fc.string({ maxLength: 100 }), expires: u32,
    inline: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), codec: fc.integer({ min: 0, max: 255 }),
    priority: fc.integer({ min: 0, max: 0xffff }), pinned: fc.boolean(),
  },
  { requiredKeys: ['clipId', 'sha256', 'size', 'url', 'expires'] },
);
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('hello' as const), id: u32, fw: fc.string({ maxLength: 8 }), flashBudget: u32, clips: fc.array(bytes(8), { maxLength: 5 }), warmSeq: u32 }),
  fc.record({ type: fc.constant('utterance' as const), id: u32, audio: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), format: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ type: fc.constant('answer' as const), id: u32, reply: fc.string({ maxLength: 50 }), clip: clipRef, source: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ type: fc.constant('warm' as const), seq: u32, clips: fc.array(clipRef, { maxLength: 4 }), totalBytes: u32 }),
  fc.record({ type: fc.constant('error' as const), id: u32, code: fc.integer({ min: 1, max: 8 }), message: fc.string({ maxLength: 20 }) }),
);

describe('protocol codec', () => {
  it('round-trips any valid message', () => {
    fc.assert(fc.property(message, (m) => {
      expect(decodeMessage(encodeMessage(m))).toEqual(m);
    }), { numRuns: 300 });
  });

  it('assembles from pre-encoded field values exactly the bytes encodeMessage writes', () => {
    fc.assert(fc.property(message, fc.integer({ min: 0, max: 0xffff_ffff }), (m, n) => {
      const values: Record<string, Uint8Array> = {};
      for (const [name, value] of Object.entries(m)) if (name !== 'type') values[name] = encodeFieldValue(m.type, name, value);
      expect(Buffer.from(encodeFromValues(m.type, values)).equals(encodeMessage(m))).toBe(true);
      if ('id' in m) {
        const withUint = encodeFromValues(m.type, { ...values, id: encodeUint(n) });
        expect(Buffer.from(withUint).equals(encodeMessage({ ...m, id: n }))).toBe(true);
      }
    }), { numRuns: 300 });
  });

  it('answers arbitrary bytes with a message or a ProtocolError, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (input) => {
      try {
        decodeMessage(input);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
    }), { numRuns: 2000 });
  });

  it('rejects every truncation of a valid message as malformed', () => {
    fc.assert(fc.property(message, fc.nat(), (m, cut) => {
      const full = encodeMessage(m);
      const at = cut % full.length;
      expect(() => decodeMessage(full.subarray(0, at))).toThrow(ProtocolError);
    }), { numRuns: 300 });
  });

  it('refuses oversize input before decoding it', () => {
    const big = encodeMessage({ type: 'utterance', id: 1, audio: Buffer.alloc(2000), format: 0 });
    const err = (() => { try { decodeMessage(big, 1000); } catch (e) { return e as ProtocolError; } })();
    expect(err?.code).toBe(ErrorCode.tooLarge);
  });

  it('keeps the correlation id of an invalid request so the error can be matched', () => {
    const bad = encodeMessage({ type: 'utterance', id: 77, audio: Buffer.alloc(1), format: 0 });
    bad[bad.length - 1] = 0x20; // format -1: negative integer
    const err = (() => { try { decodeMessage(bad); } catch (e) { return e as ProtocolError; } })();
    expect(err?.code).toBe(ErrorCode.invalid);
    expect(err?.requestId).toBe(77);
  });

  it('refuses to encode a message that breaks the schema', () => {
    expect(() => encodeMessage({ type: 'clipGet', id: 1, clipId: Buffer.alloc(3) })).toThrow(/exactly 8 bytes/);
  });

  it('survives deep nesting without crashing', () => {
    expect(() => decodeMessage(Buffer.alloc(20_000, 0x81))).toThrow(ProtocolError);
  });
});
