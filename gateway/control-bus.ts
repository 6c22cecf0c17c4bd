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
  redis.subscriber.subscribe(keys.broadcast, own).catch((err: Error) => log.error({ err: err.message }, 'control channel not subscribed'));

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
    async close() {
      redis.subscriber.off('message', receive);
      // While Redis is away the unsubscribe would wait for it; the connection's close drops it anyway.
      if (redis.subscriber.status === 'ready') await redis.subscriber.unsubscribe(keys.broadcast, own).catch(() => undefined);
    },
  };
}
