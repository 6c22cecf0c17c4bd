/**
 * HTTP `Range` for the clip origin (RFC 9110 §14): one range per request,
 * which is what a bear resuming a download and a CDN filling its cache send.
 * Multiple ranges are answered with the whole blob, which RFC 9110 allows.
 * Not `range-parser`: its 1.x line answers a suffix longer than the blob
 * (`bytes=-5000` of 1000 bytes) with 416 where RFC 9110 §14.1.2 serves the
 * whole blob, and its 2.x line needs Node 22.
 */
import type { ByteRange } from '../sdk/index.js';

/** The inclusive range to serve, 'unsatisfiable' (416), or undefined for the whole blob. */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // Suffix range: the last N bytes.
    const n = Number(last);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return 'unsatisfiable';
  return { start, end };
}
