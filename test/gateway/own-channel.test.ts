/** The ACL's topic check: only a bear's own topics, whole, for the channels asked about. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ownChannel } from '../../gateway/authorize.js';
import { BEAR_PUBLISHES, BEAR_SUBSCRIBES, parseDeviceTopic } from '../../protocol/index.js';

describe('ownChannel', () => {
  it('names the channel of the bear\'s own topics and nothing else', () => {
    expect(ownChannel('bear-1', 'teddy/v1/bear-1/req', BEAR_PUBLISHES)).toBe('req');
    expect(ownChannel('bear-1', 'teddy/v1/bear-1/evt', BEAR_PUBLISHES)).toBe('evt');
    expect(ownChannel('bear-1', 'teddy/v1/bear-1/res', BEAR_SUBSCRIBES)).toBe('res');
    for (const topic of [
      'teddy/v1/bear-1/res', 'teddy/v1/bear-10/req', 'teddy/v1/bear-/req', 'teddy/v1/bear-1/req/x', 'teddy/v1/bear-1/reqx',
      'teddy/v1/bear-1/re', 'teddy/v2/bear-1/req', 'xteddy/v1/bear-1/req', 'teddy/v1/bear-1//req', 'teddy/v1/bear-1/+', 'teddy/v1/+/req',
      'teddy/v1/bear-1/#', 'teddy/v1/bear-1', 'teddy/v1/bear-1/constructor', '',
    ]) {
      expect(ownChannel('bear-1', topic, BEAR_PUBLISHES), topic).toBeUndefined();
    }
  });

  it('agrees with the protocol\'s topic parser on any topic (property)', () => {
    const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/);
    const topic = fc.oneof(
      fc.tuple(id, fc.constantFrom('req', 'evt', 'res', 'warm', 'x', 'req/1')).map(([d, c]) => `teddy/v1/${d}/${c}`),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(fc.property(id, topic, (deviceId, t) => {
      const parsed = parseDeviceTopic(t);
      const expected = parsed && parsed.deviceId === deviceId && BEAR_PUBLISHES.includes(parsed.channel) ? parsed.channel : undefined;
      expect(ownChannel(deviceId, t, BEAR_PUBLISHES)).toBe(expected);
    }), { numRuns: 2000 });
  });
});
