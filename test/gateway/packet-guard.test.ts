/**
 * The packet guard's fixed-header reading and the connection limiter's
 * address rules, as pure logic (the socket-level behaviour is in
 * packet-limits.test.ts).
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createConnectionLimiter, exemptList } from '../../gateway/connection-limiter.js';
import { guardPackets, type PacketRefusal } from '../../gateway/packet-guard.js';
import { createRateLimiter } from '../../gateway/rate-limit.js';
import { mqttVarint } from '../helpers/mqtt-varint.js';

const limits = { maxConnectBytes: 100, maxPacketBytes: 1000 };

const packet = (type: number, length: number): Buffer => Buffer.from([type << 4, ...mqttVarint(length), ...new Array<number>(length).fill(7)]);

/** Pushes `chunks` through a guarded stream; returns what came out and the refusal, if any. */
function feed(chunks: Buffer[]): { out: Buffer; refused?: PacketRefusal; declared?: number } {
  const stream = new Readable({ read() {} });
  const result: { out: Buffer; refused?: PacketRefusal; declared?: number } = { out: Buffer.alloc(0) };
  guardPackets(stream, limits, { onRefuse: (reason, declared) => Object.assign(result, { refused: reason, declared }) });
  stream.on('error', () => undefined);
  for (const c of chunks) stream.push(c);
  const parts: Buffer[] = [];
  for (let b = stream.read() as Buffer | null; b; b = stream.read() as Buffer | null) parts.push(b);
  result.out = Buffer.concat(parts);
  return result;
}

describe('packet guard', () => {
  it('passes packets within bounds untouched, however they are cut into chunks', () => {
    const bytes = Buffer.concat([packet(1, 100), packet(3, 1000), packet(12, 0), packet(3, 200), packet(14, 0)]);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 20 }), (cuts) => {
        const at = [0, ...cuts.sort((a, b) => a - b), bytes.length];
        const chunks = at.slice(1).map((end, i) => bytes.subarray(at[i], end));
        const { out, refused } = feed(chunks);
        expect(refused).toBeUndefined();
        expect(out.equals(bytes)).toBe(true);
      }),
    );
  });

  it('refuses a first packet over the CONNECT bound and a later one over the packet bound, from the header alone', () => {
    expect(feed([Buffer.from([0x10, ...mqttVarint(101)])])).toMatchObject({ refused: 'connect-too-large', declared: 101, out: Buffer.alloc(0) });
    expect(feed([packet(1, 10), Buffer.from([0x30, ...mqttVarint(1001)])])).toMatchObject({ refused: 'packet-too-large', out: packet(1, 10) });
    // Refused at the varint byte that crosses the bound, before the rest of the length arrives.
    expect(feed([Buffer.from([0x10, 0xff])]).refused).toBe('connect-too-large');
    expect(feed([Buffer.from([0x10, 0x80, 0x80])]).refused).toBeUndefined();
    expect(feed([Buffer.from([0x10, ...mqttVarint(200 * 2 ** 20)])]).refused).toBe('connect-too-large');
  });

  it('refuses a remaining length of more than four bytes', () => {
    const big = { maxConnectBytes: 2 ** 30, maxPacketBytes: 2 ** 30 };
    const stream = new Readable({ read() {} });
    let reason: PacketRefusal | undefined;
    guardPackets(stream, big, { onRefuse: (r) => (reason = r) });
    stream.on('error', () => undefined);
    stream.push(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80]));
    expect(reason).toBe('malformed-length');
    expect(stream.destroyed).toBe(true);
  });
});

describe('connection limiter', () => {
  it('limits each address by its own bucket and exempts listed ranges', () => {
    const limiter = createConnectionLimiter({ perSecond: 0.001, burst: 2, exempt: ['10.1.0.0/16', '::1'] });
    expect(['1.2.3.4', '1.2.3.4', '1.2.3.4'].map((a) => limiter.admit(a))).toEqual([true, true, false]);
    expect(limiter.admit('::ffff:1.2.3.4')).toBe(false);
    expect(limiter.admit('1.2.3.5')).toBe(true);
    expect(Array.from({ length: 5 }, () => limiter.admit('10.1.200.3')).every(Boolean)).toBe(true);
    expect(Array.from({ length: 5 }, () => limiter.admit('::1')).every(Boolean)).toBe(true);
    expect(limiter.admit(undefined)).toBe(false);
    expect(createConnectionLimiter({ perSecond: 0, burst: 1, exempt: [] }).admit('1.2.3.4')).toBe(true);
  });

  it('parses addresses and CIDR ranges, and names a bad one', () => {
    expect(exemptList(['127.0.0.0/8', '::1', 'fd00::/8', '192.168.1.1']).check('127.9.9.9')).toBe(true);
    for (const bad of ['localhost', '10.0.0.0/33', '10.0.0.0/', '::1/129', '1.2.3']) expect(() => exemptList([bad]), bad).toThrow(bad);
  });

  it('forgets idle addresses', () => {
    const buckets = createRateLimiter({ burst: 2, perSecond: 1 });
    buckets.take('a', 0);
    buckets.take('b', 1500);
    buckets.forgetIdle(2000);
    expect(buckets.size).toBe(1);
  });
});
