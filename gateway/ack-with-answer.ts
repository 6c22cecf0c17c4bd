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
 *   - the handler returned without answering (a miss): the hold ends then, so a PUBACK never
 *     waits for an answer that is still being computed;
 *   - the handling never came (the connection broke between the ACL and the handler): a sweep
 *     ends the hold within `MAX_HOLD_MS` of its start.
 * Events (`evt`) have no answer and are not held. Each request's hold ends once. A corked socket
 * that closes drops what it held, as any close does.
 */
import type { Client } from 'aedes';

/** Longest a PUBACK may wait when its request's handling never comes (it is ended after half to all of it). */
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
  readonly client: Client;
  /** Requests of this connection held and not yet ended: the corks this hold put on it. */
  count: number;
  /** Held requests whose handling has not begun. */
  readonly unhandled: object[];
  /** When the hold began (ms, Date.now()). */
  readonly since: number;
}

export function createAckWithAnswer(): AckWithAnswer {
  const holds = new Map<Client, Hold>();
  /** The held request the handler is running for, while it runs. */
  let running: { readonly hold: Hold; answered: boolean } | undefined;
  /** One timer for all holds, while any exist: a timer per request cost more than the write it saves. */
  let sweep: NodeJS.Timeout | undefined;

  /** Ends one held request of `hold` (nothing if the hold is over: swept meanwhile). */
  const end = (hold: Hold): void => {
    if (holds.get(hold.client) !== hold) return;
    hold.count -= 1;
    if (hold.count === 0) holds.delete(hold.client);
    hold.client.conn.uncork();
  };
  const endOverdue = (): void => {
    const overdue = Date.now() - MAX_HOLD_MS / 2;
    for (const hold of holds.values()) {
      if (hold.since <= overdue) for (let n = hold.count; n > 0; n--) end(hold);
    }
    if (holds.size === 0) {
      clearInterval(sweep);
      sweep = undefined;
    }
  };
  const noop = (): void => {};

  return {
    hold(client, packet) {
      if (!client.conn.writable) return;
      client.conn.cork();
      let hold = holds.get(client);
      if (!hold) holds.set(client, (hold = { client, count: 0, unhandled: [], since: Date.now() }));
      hold.count += 1;
      hold.unhandled.push(packet);
      sweep ??= setInterval(endOverdue, MAX_HOLD_MS / 2).unref();
    },
    handle(client, packet, run) {
      const hold = holds.get(client);
      const at = hold ? hold.unhandled.indexOf(packet) : -1;
      if (at < 0) return run();
      hold!.unhandled.splice(at, 1);
      const outer = running;
      const current = (running = { hold: hold!, answered: false });
      try {
        run();
      } finally {
        running = outer;
        if (!current.answered) end(current.hold);
      }
    },
    sent(client) {
      if (running?.hold.client !== client || running.answered) return noop;
      running.answered = true;
      const { hold } = running;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        end(hold);
      };
    },
  };
}
