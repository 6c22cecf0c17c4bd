/**
 * Cross-instance coherence: when one instance sets, deletes or invalidates,
 * it publishes the hashed L2 keys on a Redis channel, and every other
 * instance drops its L1 copy. Messages carry only hashes, never a caller's
 * key. An instance ignores its own messages (it already updated its L1).
 * A message lost while Redis is down is bounded by l1TtlSeconds.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { L2 } from './l2.js';

export interface InvalidationBus {
  readonly channel: string;
  /** The message naming these keys, for publishing in the same MULTI as the write it announces. */
  encode(l2Keys: readonly string[]): string;
  close(): Promise<void>;
}

interface BusMessage {
  /** Origin instance id. */
  readonly o: string;
  /** Hashed L2 keys to drop. */
  readonly k: readonly string[];
}

export async function startInvalidationBus(l2: L2, channel: string, onKeys: (l2Keys: readonly string[]) => void): Promise<InvalidationBus> {
  const self = randomUUID();
  const sub: Redis = l2.subscriber();
  sub.on('message', (ch: string, text: string) => {
    if (ch !== channel) return;
    let message: BusMessage;
    try {
      message = JSON.parse(text) as BusMessage;
    } catch {
      return; // not ours: someone else publishing on our channel
    }
    if (message.o !== self && Array.isArray(message.k)) onKeys(message.k);
  });
  // ioredis re-subscribes by itself after a reconnect (autoResubscribe).
  await sub.subscribe(channel).catch(() => undefined);
  return {
    channel,
    encode(l2Keys) {
      const message: BusMessage = { o: self, k: l2Keys };
      return JSON.stringify(message);
    },
    async close() {
      await sub.unsubscribe(channel).catch(() => undefined);
    },
  };
}
