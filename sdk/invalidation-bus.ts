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
 *
 * A subscriber can also go deaf with its connection open, and then nothing
 * says so (the gateway's control bus saw one hold no subscription under load
 * after SUBSCRIBE had succeeded). So the bus sends itself a probe on one
 * channel, the channels in turn, one each PROBE_MS once the last was heard
 * (on a cluster each master's connection is probed every few seconds); a
 * probe not heard within DEAF_AFTER_MS reconnects the subscriber, which is
 * a drop as above.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster } from 'ioredis';
import type { CacheLogger } from './config.js';
import { FAILED, type L2, type RedisClient } from './l2.js';

/** How long a cluster's re-subscription may take to be confirmed before the next try can start. */
const CONFIRM_WAIT_MS = 2000;
/** How often the bus checks that it hears itself. */
const PROBE_MS = 1000;
/**
 * How long a probe may go unheard before the subscriber counts as deaf: a few probe periods, so
 * an event loop held up for a moment (a long GC, a burst of connections) is not taken for it.
 */
const DEAF_AFTER_MS = 3000;

export interface InvalidationBus {
  /** The message announcing these keys, for the script that changes them. */
  encode(l2Keys: readonly string[]): string;
  close(): Promise<void>;
}

export interface BusOptions {
  readonly l2: L2;
  readonly channels: readonly string[];
  /** How long the start waits for the subscriptions (0: Redis is not reachable yet). */
  readonly waitMs: number;
  /** Another instance changed these L2 keys. */
  readonly onKeys: (l2Keys: readonly string[]) => void;
  /** Invalidations may have been missed (see above). */
  readonly onGap: () => void;
  readonly logger: CacheLogger;
}

/**
 * Subscribes to `channels`; resolves once subscribed, or after `waitMs` when Redis is not
 * reachable yet (the subscriptions are then made as soon as it is).
 */
export async function startInvalidationBus({ l2, channels, waitMs, onKeys, onGap, logger }: BusOptions): Promise<InvalidationBus> {
  const self = randomUUID();
  const ours = new Set(channels);
  const sub: RedisClient = l2.subscriber();
  let probed: string | undefined; // the channel of the probe out, until this instance hears it
  let probedAt = 0;
  const onMessage = (channel: string, text: string) => {
    if (!ours.has(channel)) return;
    if (text === self) return void (channel === probed && (probed = undefined)); // a probe: one line, others ignore it
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
    onGap();
    // 'ready' comes before ioredis re-subscribes; these SSUBSCRIBEs' replies say the channels are live again.
    subscribeAll().then(
      () => onGap(),
      () => {
        dropped = true; // not confirmed: the next 'ready' is a gap too
        onGap();
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
      onGap();
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

  let turn = 0;
  const probe = (): void => {
    // While it is reconnecting, the close and ready handlers above own the gap.
    if (sub.status !== 'ready') return void (probed = undefined);
    if (probed !== undefined) {
      if (Date.now() - probedAt < DEAF_AFTER_MS) return;
      logger.warn({ channel: probed }, 'invalidation bus did not hear its own probe: reconnecting its subscriber');
      probed = undefined;
      return sub.disconnect(true); // 'close', then 'ready': a gap, ended once every channel is confirmed
    }
    const channel = channels[turn++ % channels.length]!;
    probed = channel;
    probedAt = Date.now();
    // Not sent (Redis down, breaker open): nothing to hear.
    void l2.call((c) => c.spublish(channel, self)).then((sent) => sent === FAILED && probed === channel && (probed = undefined));
  };
  // Checked after the event loop's next poll for I/O: a probe already in the socket is heard first.
  const prober = setInterval(() => setImmediate(probe), PROBE_MS);
  prober.unref();
  return {
    encode: (l2Keys) => `${self}\n${l2Keys.join('\n')}`,
    // The subscriptions end with the connection (L2's close); unsubscribing first would wait
    // forever on a Redis that never came up.
    async close() {
      clearInterval(prober);
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
