import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMulaw, decodeMulawSample, encodeMulaw, encodeMulawSample } from '../../gateway/providers/g711.js';
import { resample } from '../../gateway/providers/resample.js';

describe('G.711 mu-law', () => {
  it('matches the reference values', () => {
    // ITU-T G.711 / Sun g711.c: silence, full scale and sign.
    expect(encodeMulawSample(0)).toBe(0xff);
    expect(encodeMulawSample(-1)).toBe(0x7f);
    expect(encodeMulawSample(32767)).toBe(0x80);
    expect(encodeMulawSample(-32768)).toBe(0x00);
    expect(decodeMulawSample(0x80)).toBe(32124);
    expect(decodeMulawSample(0x00)).toBe(-32124);
    expect(decodeMulawSample(0xff)).toBe(0);
  });

  it('decode then encode is the identity on every code', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const roundTrip = encodeMulaw(decodeMulaw(all));
    // 0x7f and 0xff both decode to 0; encoding 0 gives 0xff.
    expect([...roundTrip].filter((b, i) => b !== i)).toEqual([0xff]);
  });

  it('quantisation error stays within the segment step', () => {
    fc.assert(
      fc.property(fc.integer({ min: -32635, max: 32635 }), (pcm) => {
        const back = decodeMulawSample(encodeMulawSample(pcm));
        expect(Math.abs(back - pcm)).toBeLessThanOrEqual(Math.max(8, Math.abs(pcm) / 16));
      }),
    );
  });

  it('resamples 22050 Hz to 8000 Hz preserving a DC level and the duration', () => {
    const input = new Int16Array(22050).fill(1000);
    const out = resample(input, 22050, 8000);
    expect(out.length).toBe(8000);
    expect(out.every((s) => s === 1000)).toBe(true);
  });
});
