/**
 * Control traffic between gateway processes, over Redis pub/sub: a channel
 * every gateway listens on and one per gateway instance. It carries what an
 * operator or a bear's move starts on one gateway and another must act on —
 * a warm push for a bear connected elsewhere, a removed or erased device, a
 * client id that connected to a newer gateway (takeover) — never request
 * traffic: a bear's requests are handled by the process it is connected to.
 *
 * A message is JSON {kind, from, body, rid?}; a request carries a reply id
 * and its handlers' results come back on the asker's instance channel. A
 * gateway ignores its own broadcasts (it acts locally first). Handlers are
 * registered by kind, so other parts of the gateway (erase) add theirs.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { FleetKeys } from './fleet-keys.js';
import type { FleetRedis } from './fleet-redis.js';

export type ControlHandler = (body: unknown, from: string) => unknown;

export interface ControlReply {
  readonly from: string;
  readonly body: unknown;
}

export interface ControlBus {
  /** This process's id in the fleet (also its presence key). */
  readonly instanceId: string;
  /** Sets the handler of one kind of message; what it returns (or resolves to) answers a request. */
  on(kind: string, handler: ControlHandler): void;
  /** Tells every other gateway; resolves once Redis took the message (rejects if Redis is away). */
  broadcast(kind: string, body: unknown): Promise<void>;
  /** Tells one gateway. */
  send(instanceId: string, kind: string, body: unknown): Promise<void>;
  /**
   * Asks one gateway (its channel) or every other one (the broadcast channel) and collects the
   * replies until every instance in `expect` has answered or `timeoutMs` passed. Redis pub/sub
   * delivers at most once, so halfway through the request is sent again to each instance that has
   * not answered (on its own channel, same reply id; one reply per instance counts): request
   * handlers must be idempotent.
   */
  request(target: { instance: string } | 'all', kind: string, body: unknown, expect: readonly string[], timeoutMs: number): Promise<ControlReply[]>;
  /** Resolves once this gateway has heard itself on its own channel (or it closed). */
  subscribed(): Promise<void>;
  close(): Promise<void>;
}

export interface Envelope {
  kind: string;
  from: string;
  body?: unknown;
  /** Request id: the receiver replies on `from`'s channel. */
  rid?: string;
}

const REPLY = 'reply';
/** A message a bus sends itself to check it hears its own channel. */
const PROBE = 'probe';
const PROBE_MS = 2000;
const FIRST_PROBE_MS = 250;

/** Publishes one control message on a channel; for senders that are not gateways (the CLI), too. */
export async function publishControl(client: FleetRedis['client'], channel: string, envelope: Envelope): Promise<void> {
  await client.publish(channel, JSON.stringify(envelope));
}

export function startControlBus(redis: FleetRedis, keys: FleetKeys, log: Logger, instanceId = randomUUID()): ControlBus {
  const own = keys.instance(instanceId);
  const handlers = new Map<string, ControlHandler>();
  const waiting = new Map<string, (reply: ControlReply) => void>();

  const publish = (channel: string, envelope: Envelope): Promise<void> => publishControl(redis.client, channel, envelope);

  const receive = (channel: string, text: string): void => {
    if (channel !== own && channel !== keys.broadcast) return;
    let m: Envelope;
    try {
      m = JSON.parse(text) as Envelope;
      if (typeof m.kind !== 'string' || typeof m.from !== 'string') throw new Error('no kind or sender');
    } catch (err) {
      return void log.warn({ channel, err: (err as Error).message, bytes: text.length }, 'control message dropped: not a control envelope');
    }
    if (m.kind === PROBE && m.from === instanceId) return void heard();
    if (m.from === instanceId) return;
    if (m.kind === REPLY) return void (m.rid && waiting.get(m.rid)?.({ from: m.from, body: m.body }));
    const handler = handlers.get(m.kind);
    if (!handler) return void log.debug({ kind: m.kind, from: m.from }, 'control message of no interest here');
    Promise.resolve()
      .then(() => handler(m.body, m.from))
      .then(
        (result) => (m.rid ? publish(keys.instance(m.from), { kind: REPLY, from: instanceId, rid: m.rid, body: result ?? null }) : undefined),
        (err: unknown) => log.error({ kind: m.kind, from: m.from, err }, 'control message handler failed'),
      )
      .catch((err: unknown) => log.warn({ kind: m.kind, err: (err as Error).message }, 'control reply not sent'));
  };

  redis.subscriber.on('message', receive);
  // Queued until Redis is reachable (a gateway starts, and serves, without it); re-sent after reconnects.
  // ioredis re-subscribes after a reconnect only what was subscribed; a SUBSCRIBE that failed is
  // tried again by the probe below.
  let closed = false;
  const subscribe = (): Promise<void> =>
    redis.subscriber.subscribe(keys.broadcast, own).then(
      () => undefined,
      (err: Error) => log.warn({ err: err.message }, 'control channels not subscribed; the next probe tries again'),
    );

  // The bus checks that it hears its own channel: a probe to itself every PROBE_MS. A subscriber
  // seen holding no subscription under load (PUBSUB NUMSUB 0 after SUBSCRIBE had succeeded), or
  // whose SUBSCRIBE failed, would otherwise be deaf to every control message for good; a probe not
  // heard by the next one subscribes again (SUBSCRIBE is idempotent).
  let hearsOwn!: () => void;
  const subscribed = new Promise<void>((resolve) => (hearsOwn = resolve));
  let probeOut = false;
  let heardOnce = false;
  const heard = (): void => {
    probeOut = false;
    heardOnce = true;
    clearInterval(early);
    hearsOwn();
  };
  const probe = (): void => {
    if (closed || redis.subscriber.status !== 'ready') return;
    if (probeOut) {
      // Before it first hears itself a probe may simply be slow (a busy start, 250 ms apart); the
      // start says so itself if it never does (./index.ts). After that, not hearing is news.
      if (heardOnce) log.warn({ channel: own }, 'control channel probe not heard; subscribing again');
      void subscribe();
    }
    probeOut = true;
    publish(own, { kind: PROBE, from: instanceId }).catch(() => (probeOut = false));
  };
  void subscribe().then(probe);
  const prober = setInterval(probe, PROBE_MS);
  prober.unref();
  // Until it first hears itself (a gateway waits for that before it says it is ready), faster.
  const early = setInterval(probe, FIRST_PROBE_MS);
  early.unref();

  return {
    instanceId,
    on: (kind, handler) => void handlers.set(kind, handler),
    broadcast: (kind, body) => publish(keys.broadcast, { kind, from: instanceId, body }),
    send: (instance, kind, body) => publish(keys.instance(instance), { kind, from: instanceId, body }),
    async request(target, kind, body, expect, timeoutMs) {
      const rid = randomUUID();
      const replies: ControlReply[] = [];
      const pending = new Set(expect.filter((i) => i !== instanceId));
      const envelope: Envelope = { kind, from: instanceId, body, rid };
      let again: NodeJS.Timeout | undefined;
      const done = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        waiting.set(rid, (reply) => {
          if (!pending.delete(reply.from)) return; // not asked, or a second reply to the resend
          replies.push(reply);
          if (pending.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      try {
        if (pending.size === 0 && target === 'all') return replies;
        await publish(target === 'all' ? keys.broadcast : keys.instance(target.instance), envelope);
        again = setTimeout(() => {
          for (const instance of pending) {
            publish(keys.instance(instance), envelope).catch((err: Error) => log.debug({ kind, instance, err: err.message }, 'control request not resent'));
          }
        }, timeoutMs / 2);
        await done;
        return replies;
      } finally {
        clearTimeout(again);
        waiting.delete(rid);
      }
    },
    subscribed: () => subscribed,
    async close() {
      closed = true;
      clearInterval(prober);
      clearInterval(early);
      hearsOwn();
      redis.subscriber.off('message', receive);
      // While Redis is away the unsubscribe would wait for it; the connection's close drops it anyway.
      if (redis.subscriber.status === 'ready') await redis.subscriber.unsubscribe(keys.broadcast, own).catch(() => undefined);
    },
  };
}
