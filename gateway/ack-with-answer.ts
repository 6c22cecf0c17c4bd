/**
 * A request's PUBACK and its answer leave in one write to the bear.
 *
 * Aedes acknowledges a QoS 1 PUBLISH at once, hands the message on a `setImmediate` later, and
 * writes what we publish back another `setImmediate` after that: two writes, two system calls and
 * two TCP segments for one request. On this VM a system call is the largest single cost of a
 * cached answer. So once a bear's request has passed the ACL, its connection is corked (`hold`)
 * and the PUBACK waits in the socket's buffer until one of these:
 *   - the handler answered while it ran (a cached answer): the hold ends once Aedes has written
 *     the answer, and both leave together;
 *   - the handler returned without answering (a miss, an error, an event): the hold ends then,
 *     so a PUBACK never waits for an answer that is still being computed;
 *   - the handling never came (the connection broke between the ACL and the handler): a timer
 *     ends the hold at most `MAX_HOLD_MS` after it began.
 * Each request's hold ends once. A corked socket that closes drops what it held, as any close does.
 */
import type { Client } from 'aedes';

/** Longest a PUBACK may wait when its request's handling never comes. */
const MAX_HOLD_MS = 100;

export interface AckWithAnswer {
  /** A request passed the ACL and is about to be acknowledged: hold the connection's writes. */
  hold(client: Client, packet: object): void;
  /** Runs the handler for a request; a `send` to the same client inside it is the answer. */
  handle(client: Client, packet: object, run: () => void): void;
  /** The write callback for a send to `client`: it ends the hold if this send is a held request's answer. */
  sent(client: Client): () => void;
}

interface Hold {
  /** Requests of this connection held and not yet ended. */
  count: number;
  readonly timer: NodeJS.Timeout;
}

export function createAckWithAnswer(): AckWithAnswer {
  const holds = new Map<Client, Hold>();
  const held = new WeakSet<object>();
  /** The held request the handler is running for, while it runs. */
  let running: { readonly client: Client; answered: boolean } | undefined;

  const end = (client: Client): void => {
    const hold = holds.get(client);
    if (!hold) return;
    hold.count -= 1;
    if (hold.count === 0) {
      clearTimeout(hold.timer);
      holds.delete(client);
    }
    client.conn.uncork();
  };
  const endAll = (client: Client): void => {
    for (let n = holds.get(client)?.count ?? 0; n > 0; n--) end(client);
  };
  const noop = (): void => {};

  return {
    hold(client, packet) {
      if (!client.conn.writable) return;
      client.conn.cork();
      held.add(packet);
      const hold = holds.get(client);
      if (hold) hold.count += 1;
      else holds.set(client, { count: 1, timer: setTimeout(endAll, MAX_HOLD_MS, client).unref() });
    },
    handle(client, packet, run) {
      if (!held.delete(packet)) return run();
      const outer = running;
      const current = (running = { client, answered: false });
      try {
        run();
      } finally {
        running = outer;
        if (!current.answered) end(client);
      }
    },
    sent(client) {
      if (running?.client !== client || running.answered) return noop;
      running.answered = true;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        end(client);
      };
    },
  };
}
