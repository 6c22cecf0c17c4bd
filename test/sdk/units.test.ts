import fc from 'fast-check';
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../../sdk/circuit-breaker.js';
import { ContentType, POLICIES, policyFor, UnknownContentTypeError } from '../../sdk/index.js';
import { createKeyring } from '../../sdk/crypto.js';
import { aiResponseKey, clipIdFor, voiceSynthesisDigest } from '../../sdk/keys.js';
import { isRefusal } from '../../sdk/l2.js';
import { decodeValue, encodeValue, packRecord, recordExpiry, unpackRecord } from '../../sdk/value-codec.js';

const ring = createKeyring({ a: Buffer.alloc(32, 3).toString('base64') });

describe('value codec', () => {
  it('round-trips any CBOR value through every flag combination (property)', () => {
    fc.assert(
      // A "__proto__" key is out: CBOR decoders assign it as the prototype (cbor-x does), not as a field.
      fc.property(fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"')), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 2 ** 48 - 1 }), (value, compress, encrypt, expiresAt) => {
        const record = packRecord(encodeValue(value), expiresAt, { compressAbove: compress ? 0 : undefined, keyring: encrypt ? ring : undefined, aad: 'k' });
        expect(record[0]! >> 4).toBe(2);
        expect(recordExpiry(record)).toBe(expiresAt);
        const { body, expiresAt: read } = unpackRecord(record, ring, 'k');
        expect({ value: decodeValue(body), expiresAt: read }).toEqual({ value: JSON.parse(JSON.stringify(value)), expiresAt });
      }),
      { numRuns: 200 },
    );
  });

  it('keeps byte arrays as bytes', () => {
    const bytes = new Uint8Array([0, 1, 254, 255]);
    const out = decodeValue(unpackRecord(packRecord(encodeValue(bytes), 1, { compressAbove: undefined, keyring: undefined, aad: '' }), undefined, '').body);
    expect(out).toBeInstanceOf(Uint8Array);
    expect([...(out as Uint8Array)]).toEqual([0, 1, 254, 255]);
  });

  it('refuses a record moved to another key, a tampered one, one with its expiry altered, and an unknown version', () => {
    const record = packRecord(encodeValue('secret'), 1, { compressAbove: undefined, keyring: ring, aad: 'key-a' });
    expect(() => unpackRecord(record, ring, 'key-b')).toThrow();
    const tampered = Buffer.from(record);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => unpackRecord(tampered, ring, 'key-a')).toThrow();
    const later = Buffer.from(record);
    later[6]! ^= 1; // the expiry's low byte: the header is authenticated with the ciphertext
    expect(() => unpackRecord(later, ring, 'key-a')).toThrow();
    expect(() => unpackRecord(Buffer.from([0x10, 1, 2, 3, 4, 5, 6, 7]), ring, 'k')).toThrow(/version/);
    expect(() => unpackRecord(Buffer.alloc(0), ring, 'k')).toThrow();
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold, probes once after the reset time, closes on success', () => {
    let now = 0;
    const states: string[] = [];
    const b = createCircuitBreaker({ failureThreshold: 3, resetMs: 100, now: () => now, onChange: (s) => states.push(s) });
    for (let i = 0; i < 3; i++) {
      expect(b.allow()).toBe(true);
      b.failure();
    }
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    now = 100;
    expect(b.allow()).toBe(true); // the probe
    expect(b.allow()).toBe(false); // only one
    b.failure();
    expect(b.state).toBe('open');
    now = 200;
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(states).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('lets its probe through at once when the connection is back', () => {
    let now = 0;
    const b = createCircuitBreaker({ failureThreshold: 1, resetMs: 100, now: () => now });
    b.failure();
    now = 10;
    expect(b.allow()).toBe(false);
    b.reconnected();
    expect(b.allow()).toBe(true); // the probe, 90 ms early
    expect(b.allow()).toBe(false);
    b.success();
    expect(b.state).toBe('closed');
    b.reconnected(); // a closed breaker stays closed
    expect(b.state).toBe('closed');
  });
});

describe('policies and keys', () => {
  it('follow the seed table', () => {
    const layers = (t: ContentType) => [POLICIES[t].l1, POLICIES[t].l2, POLICIES[t].l3];
    expect(layers(ContentType.AUDIO_TRANSCRIPTION)).toEqual([true, true, false]);
    expect(POLICIES[ContentType.AUDIO_TRANSCRIPTION].ttlSeconds).toBe(3600);
    expect(POLICIES[ContentType.AI_RESPONSE]).toMatchObject({ ttlSeconds: 1800, warm: true });
    expect(layers(ContentType.VOICE_SYNTHESIS)).toEqual([true, true, true]);
    expect(POLICIES[ContentType.VOICE_SYNTHESIS].ttlSeconds).toBe(86400);
    expect(POLICIES[ContentType.STATIC_ASSET].ttlSeconds).toBe(30 * 86400);
    expect(POLICIES[ContentType.USER_SESSION].ttlSeconds).toBe(1800);
    expect(layers(ContentType.MODEL_WEIGHTS)).toEqual([false, true, true]);
    for (const t of [ContentType.AUDIO_TRANSCRIPTION, ContentType.AI_RESPONSE, ContentType.USER_SESSION]) expect(POLICIES[t].encrypt).toBe(true);
    expect(policyFor(ContentType.AI_RESPONSE, { ttlSeconds: 5 }).ttlSeconds).toBe(5);
    expect(() => policyFor('bogus' as ContentType)).toThrow(UnknownContentTypeError);
  });

  it('hash contexts canonically and derive the clip id from the voice digest', () => {
    expect(aiResponseKey({ a: 1, b: [1, { y: 2, x: 1 }] })).toBe(aiResponseKey({ b: [1, { x: 1, y: 2 }], a: 1 }));
    expect(aiResponseKey('hi')).not.toBe(aiResponseKey('hi '));
    expect(aiResponseKey('hi')).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(clipIdFor('Good night', 'bear')).toString('hex')).toBe(Buffer.from(voiceSynthesisDigest('Good night', 'bear')).toString('hex').slice(0, 16));
  });
});

describe('L2 refusals (what auto-recovery drops instead of replaying)', () => {
  // The replies Redis 7 sends: the first word is the error code (scripts keep it: "OOM … script: …").
  const reply = (message: string): Error => new ReplyError(message) as Error;

  it('are the error replies that refuse the command itself', () => {
    for (const m of ["NOPERM this user has no permissions to run the 'smembers' command", 'WRONGTYPE Operation against a key holding the wrong kind of value', 'ERR Error running script (call to f_0123): @user_script:1: bad argument', 'CROSSSLOT Keys in request don\'t hash to the same slot']) {
      expect(isRefusal(reply(m)), m).toBe(true);
    }
  });

  it('are not the replies that mean "not now", nor errors Redis did not send', () => {
    for (const m of ['LOADING Redis is loading the dataset in memory', 'BUSY Redis is busy running a script.', 'CLUSTERDOWN The cluster is down', 'TRYAGAIN Multiple keys request during rehashing of slot', 'MASTERDOWN Link with MASTER is down', "READONLY You can't write against a read only replica.", 'NOREPLICAS Not enough good replicas to write.', "OOM command not allowed when used memory > 'maxmemory'. script: 9405b057, on @user_script:1.", 'MISCONF Redis is configured to save RDB snapshots, but it is currently not able to persist on disk.', 'NOAUTH Authentication required.', 'WRONGPASS invalid username-password pair or user is disabled.']) {
      expect(isRefusal(reply(m)), m).toBe(false);
    }
    expect(isRefusal(new Error('Command timed out'))).toBe(false);
    expect(isRefusal(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(false);
  });
});

