/**
 * Property-based abuse of the request and event topics: garbage, truncated,
 * oversized, wrong-type and unknown-type payloads. Requests get an error
 * response with the right code (and the correlation id when readable);
 * events are dropped with a log line; and another bear keeps being answered
 * throughout.
 */
import { encode as independentEncode } from 'cbor2';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceTopic, encodeMessage, ErrorCode, type Message } from '../../protocol/index.js';
import { startTestGateway, textUtterance, type TestBear, type TestGateway } from './harness.js';

const MAX_REQUEST = 4096;
let t: TestGateway;
let attacker: TestBear;
let bystander: TestBear;
let bystanderRequests = 0;

beforeAll(async () => {
  t = await startTestGateway({ maxRequestBytes: MAX_REQUEST, rateLimitBurst: 1e6, rateLimitPerSecond: 1e6 });
  attacker = await t.connectFleetBear('fuzz-attacker');
  bystander = await t.connectFleetBear('fuzz-bystander');
});
afterAll(() => t?.stop());

const valid: Message[] = [
  textUtterance(11, 'tell me a story'),
  { type: 'hello', id: 12, fw: '1.0.0', flashBudget: 65536, clips: [new Uint8Array(8)], warmSeq: 0 },
  { type: 'clipGet', id: 13, clipId: new Uint8Array(8).fill(1), maxInline: 100 },
];

// A map with the protocol's integer keys and values of any CBOR type (mostly wrong for the schema).
const cborValue = fc.oneof(
  fc.integer({ min: -1000, max: 2 ** 40 }),
  fc.string({ maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 4 }),
);
const wrongTypeMap = fc
  .record({ type: fc.integer({ min: 0, max: 20 }), id: fc.integer({ min: 1, max: 2 ** 32 - 1 }), fields: fc.array(fc.tuple(fc.integer({ min: 2, max: 9 }), cborValue), { maxLength: 6 }) })
  .map(({ type, id, fields }) => ({ id, bytes: independentEncode(new Map<number, unknown>([[0, type], [1, id], ...fields])) }));

const truncated = fc
  .tuple(fc.constantFrom(...valid), fc.nat())
  .map(([m, n]) => {
    const bytes = encodeMessage(m);
    return bytes.subarray(0, n % bytes.length);
  })
  .filter((b) => b.length > 0);

const REQUEST_ERRORS = [ErrorCode.malformed, ErrorCode.invalid, ErrorCode.unknownType, ErrorCode.tooLarge, ErrorCode.notFound];

async function bystanderStillServed(): Promise<void> {
  const id = 10_000 + ++bystanderRequests;
  expect(await bystander.request(textUtterance(id, 'good night teddy'), 5000)).toMatchObject({ type: 'answer', id });
}

describe('fuzzed requests', () => {
  it('garbage and truncated payloads get malformed/invalid/unknownType errors with id 0 or the readable id', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 300 }), truncated), async (payload) => {
        const response = await attacker.requestRaw(payload, 5000);
        expect(response.type).toBe('error');
        if (response.type === 'error') expect(REQUEST_ERRORS).toContain(response.code);
      }),
      { numRuns: 150 },
    );
    await bystanderStillServed();
  });

  it('wrong-type and unknown-type maps get invalid/unknownType/notFound errors carrying the correlation id', async () => {
    await fc.assert(
      fc.asyncProperty(wrongTypeMap, async ({ id, bytes }) => {
        const response = await attacker.requestRaw(bytes, 5000);
        // A random map may, rarely, be a well-formed request: then it is simply answered.
        if (response.type !== 'error') return;
        expect(REQUEST_ERRORS).toContain(response.code);
        expect(response.id).toBe(id);
      }),
      { numRuns: 150 },
    );
    await bystanderStillServed();
  });

  it('oversized payloads get tooLarge', async () => {
    // Up to the packet guard's slack (the longest topic a bear may use); a larger packet closes the
    // connection from its fixed header (test/gateway/packet-limits.test.ts).
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: MAX_REQUEST + 1, max: MAX_REQUEST + 40 }), async (size) => {
        const response = await attacker.requestRaw(new Uint8Array(size).fill(0x41), 5000);
        expect(response).toMatchObject({ type: 'error', id: 0, code: ErrorCode.tooLarge });
      }),
      { numRuns: 20 },
    );
    const big = encodeMessage({ type: 'utterance', id: 99, audio: new Uint8Array(MAX_REQUEST), format: 1 });
    expect(await attacker.requestRaw(big)).toMatchObject({ type: 'error', code: ErrorCode.tooLarge });
    await bystanderStillServed();
  });

  it('responses and events in the request topic are unknownType', async () => {
    const welcome = encodeMessage({ type: 'welcome', id: 5, time: 1, warmSeq: 0, maxRequestBytes: 1 });
    expect(await attacker.requestRaw(welcome)).toMatchObject({ type: 'error', id: 5, code: ErrorCode.unknownType });
    const ack = encodeMessage({ type: 'warmAck', seq: 1, stored: [], failed: [], bytesUsed: 0 });
    expect(await attacker.requestRaw(ack)).toMatchObject({ type: 'error', id: 0, code: ErrorCode.unknownType });
  });
});

describe('fuzzed events', () => {
  it('bad events are dropped and logged, never answered', async () => {
    const answered: unknown[] = [];
    const onMessage = (topic: string): void => {
      if (topic.endsWith('/res')) answered.push(topic);
    };
    attacker.client.on('message', onMessage);
    const before = t.logs.filter((l) => l.includes('event dropped')).length;
    const payloads = fc.sample(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 200 }), truncated, wrongTypeMap.map((w) => w.bytes)), 100);
    for (const p of payloads) await attacker.client.publishAsync(deviceTopic('fuzz-attacker', 'evt'), Buffer.from(p), { qos: 1 });
    await bystanderStillServed();
    attacker.client.off('message', onMessage);
    expect(answered).toEqual([]);
    expect(t.logs.filter((l) => l.includes('event dropped')).length - before).toBeGreaterThanOrEqual(95);
  });
});
