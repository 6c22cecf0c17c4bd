import { describe, expect, it } from 'vitest';
import { deviceTopic, isValidDeviceId, parseDeviceTopic } from '../../protocol/index.js';

describe('device topics', () => {
  it('builds and parses a device topic', () => {
    expect(deviceTopic('bear-1', 'req')).toBe('teddy/v1/bear-1/req');
    expect(parseDeviceTopic('teddy/v1/bear-1/warm')).toEqual({ deviceId: 'bear-1', channel: 'warm' });
  });
  it('refuses ids that could smuggle wildcards or levels', () => {
    for (const id of ['', '+', '#', 'a/b', 'x'.repeat(65), 'bär']) expect(isValidDeviceId(id)).toBe(false);
    expect(() => deviceTopic('a/b', 'req')).toThrow(RangeError);
  });
  it('rejects topics outside the v1 device tree', () => {
    // Object.prototype's names are not channels: the check is on own keys, not an `in` lookup.
    const inherited = ['constructor', 'toString', '__proto__', 'hasOwnProperty'].map((c) => `teddy/v1/bear-1/${c}`);
    for (const t of ['teddy/v1/bear/other', 'teddy/v2/bear/req', 'teddy/v1/+/req', 'teddy/v1/bear/req/x', ...inherited]) {
      expect(parseDeviceTopic(t)).toBeUndefined();
    }
  });
});
