/**
 * Frees what refused connections left behind, soon. Node reads a socket in
 * chunks of up to 64 KiB, allocated before any of our code sees them; a
 * connection the packet guard refuses leaves its first chunk as garbage,
 * and V8 frees such buffers only at its next young-generation collection,
 * which an attack of small, short connections does not bring about: 200
 * attackers at once could leave 12 MB waiting. After refusals, this asks
 * V8 for one young-generation collection (about a millisecond), at most once
 * per 10 ms, so memory stays flat under a flood. It uses V8's `gc` function,
 * exposed once at startup the documented way (`--expose-gc` set through
 * `v8.setFlagsFromString`, taken from a fresh context).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'minor' | 'major' }) => void;

/**
 * At most one collection per 10 ms: about a millisecond each, so at most ~10 % of a core, and only
 * while refusals go on. With 50 ms, 200 attackers at once still left 2.0–5.8 MB waiting in 8 of 13
 * runs of test/gateway/packet-limits.test.ts (its bound is 5 MB); with 10 ms, 0–1.3 MB in 6 of 6.
 */
const MIN_INTERVAL_MS = 10;

function exposeGc(): Gc | undefined {
  const existing = (globalThis as { gc?: Gc }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as Gc;
  } catch {
    return undefined;
  }
}

export interface GarbageNudge {
  /** A refused connection left garbage: collect the young generation soon. */
  refused(): void;
}

export function createGarbageNudge(): GarbageNudge {
  const gc = exposeGc();
  if (!gc) return { refused: () => undefined };
  let last = 0;
  let scheduled = false;
  return {
    refused() {
      if (scheduled) return;
      scheduled = true;
      const wait = Math.max(0, last + MIN_INTERVAL_MS - performance.now());
      setTimeout(() => {
        scheduled = false;
        last = performance.now();
        gc({ type: 'minor' });
      }, wait).unref();
    },
  };
}
