/**
 * Cross-instance coherence: every L2 write, delete and invalidation is
 * announced, inside the same script that changes Redis (./l2-scripts.ts), on
 * the sharded pub/sub channel of the key's bucket (./key-layout.ts); every
 * other instance drops its L1 copy. Messages carry only hashed L2 keys, never
 * a caller's key. An instance ignores its own messages (it already updated
 * its L1).
 *
 * On a Redis Cluster the channels are sharded (one per hash-tag bucket, in
 * the bucket's slot): a message goes only to the shard that holds the key,
 * never to every node, and each instance listens on one connection per master.
 *
 * Message: the origin instance id, then each L2 key, newline-separated.
 *
 * Messages published while the subscriber is disconnected are lost. So when
 * it is connected again after a drop (on a cluster: after any master's
 * sharded subscriber dropped), `onGap` is called, and once more when its
 * subscriptions are confirmed: the L1 copies this instance held (or
 * filled before the channels were live again) may have missed an
 * invalidation and must not be trusted.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import type { L2, RedisClient } from './l2.js';

/** How long a cluster's re-subscription may take to be confirmed before the next try can start. */
const CONFIRM_WAIT_MS = 2000;

export interface InvalidationBus {
  /** The message announcing these keys, for the script that changes them. */
  encode(l2Keys: readonly string[]): string;
  close(): Promise<void>;
}

/**
 * Subscribes to `channels`; resolves once subscribed, or after `waitMs` when Redis is not
 * reachable yet (the subscriptions are then made as soon as it is).
 */
export async function startInvalidationBus(
  l2: L2,
  channels: readonly string[],
  waitMs: number,
  onKeys: (l2Keys: readonly string[]) => void,
  onGap?: () => void,
): Promise<InvalidationBus> {
  const self = randomUUID();
  const ours = new Set(channels);
  const sub: RedisClient = l2.subscriber();
  const onMessage = (channel: string, text: string) => {
    if (!ours.has(channel)) return;
    const lines = text.split('\n');
    if (lines.length < 2 || lines[0] === self) return;
    onKeys(lines.slice(1));
  };
  sub.on('smessage', onMessage);
  // One SSUBSCRIBE per channel: a cluster takes only channels of one slot per call, and routes
  // each to the master serving it. Resolves once Redis confirmed every one.
  const subscribeAll = (): Promise<unknown> => Promise.all(channels.map((c) => sub.ssubscribe(c)));
  // A gap: the connection closed after it had been up.
  let dropped = false;
  const onClose = () => (dropped = true);
  const onReady = () => {
    if (!dropped) return;
    dropped = false;
    onGap?.();
    // 'ready' comes before ioredis re-subscribes; these SSUBSCRIBEs' replies say the channels are live again.
    subscribeAll().then(
      () => onGap?.(),
      () => {
        dropped = true; // not confirmed: the next 'ready' is a gap too
        onGap?.();
      },
    );
  };
  sub.on('close', onClose);
  sub.on('ready', onReady);
  // On a cluster, also one master's sharded subscriber going away ('-subscriber') while the client as
  // a whole stays up. ioredis then makes a new one and says 'subscribersReady', but it says so too
  // while a dead master's subscriber cannot connect: so the gap ends only once every channel is
  // confirmed subscribed again. Until then L1 is kept: the keys of a master that is down cannot
  // change either (no one can write them), and the others' channels never stopped.
  const sharded = sub instanceof Cluster;
  let confirming = false;
  const onSubscribersReady = () => {
    if (!dropped || confirming) return;
    confirming = true;
    const confirmed = subscribeAll().then(() => {
      if (!dropped) return;
      dropped = false;
      onGap?.();
    });
    // A subscription a dead master cannot take may never settle: the next 'subscribersReady' asks again.
    void Promise.race([confirmed, sleep(CONFIRM_WAIT_MS)]).catch(() => undefined).finally(() => (confirming = false));
  };
  if (sharded) {
    sub.on('-subscriber', onClose);
    sub.on('subscribersReady', onSubscribersReady);
  }
  // Each channel on its own, so one refused does not end the wait for the others. ioredis
  // re-subscribes by itself after a reconnect or a failover (autoResubscribe; on a cluster, its
  // sharded subscribers follow the slot map).
  const subscribed = Promise.all(channels.map((c) => sub.ssubscribe(c).catch(() => undefined)));
  const waited = new AbortController();
  await Promise.race([subscribed, sleep(waitMs, undefined, { signal: waited.signal }).catch(() => undefined)]);
  waited.abort();
  return {
    encode: (l2Keys) => `${self}\n${l2Keys.join('\n')}`,
    // The subscriptions end with the connection (L2's close); unsubscribing first would wait
    // forever on a Redis that never came up.
    async close() {
      sub.off('smessage', onMessage);
      sub.off('close', onClose);
      sub.off('ready', onReady);
      if (sharded) {
        sub.off('-subscriber', onClose);
        sub.off('subscribersReady', onSubscribersReady);
      }
    },
  };
}
