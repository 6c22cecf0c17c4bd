/**
 * Cross-instance coherence: every L2 write, delete and invalidation is
 * announced, inside the same script that changes Redis (./l2-scripts.ts), on
 * the sharded pub/sub channel of the key's bucket (./key-layout.ts); every
 * other instance drops its L1 copy. Messages carry only hashed L2 keys, never
 * a caller's key. An instance ignores its own messages (it already updated
 * its L1).
 *
 * Message: the origin instance id, then each L2 key, newline-separated.
 *
 * Messages published while the subscriber is disconnected are lost. So once
 * it is subscribed again after a drop, `onGap` is called: the L1 copies this
 * instance held may have missed an invalidation and must not be trusted.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { L2 } from './l2.js';

export interface InvalidationBus {
  /** The message announcing these keys, for the script that changes them. */
  encode(l2Keys: readonly string[]): string;
  close(): Promise<void>;
}

export async function startInvalidationBus(
  l2: L2,
  channels: readonly string[],
  onKeys: (l2Keys: readonly string[]) => void,
  onGap?: () => void,
): Promise<InvalidationBus> {
  const self = randomUUID();
  const ours = new Set(channels);
  const sub: Redis = l2.subscriber();
  let dropped = false;
  sub.on('close', () => (dropped = true));
  sub.on('ready', () => {
    if (!dropped) return;
    dropped = false;
    // 'ready' comes before ioredis re-subscribes; this SSUBSCRIBE's reply says the channels are live again.
    sub.ssubscribe(...channels).then(
      () => onGap?.(),
      () => {
        dropped = true; // not confirmed: treat the next 'ready' as a gap too
        onGap?.();
      },
    );
  });
  sub.on('smessage', (channel: string, text: string) => {
    if (!ours.has(channel)) return;
    const lines = text.split('\n');
    if (lines.length < 2 || lines[0] === self) return;
    onKeys(lines.slice(1));
  });
  // ioredis re-subscribes by itself after a reconnect (autoResubscribe).
  await sub.ssubscribe(...channels).catch(() => undefined);
  return {
    encode: (l2Keys) => `${self}\n${l2Keys.join('\n')}`,
    async close() {
      await sub.sunsubscribe(...channels).catch(() => undefined);
    },
  };
}
