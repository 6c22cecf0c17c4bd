/**
 * Alert changes to an HTTP endpoint: one JSON POST per change, in order.
 * Nothing here is on the request path, and a webhook that is down, slow or
 * refusing cannot make anything wait: `send` only appends to a bounded queue;
 * one sender delivers from it, each try bounded by a timeout, retrying with a
 * doubling pause; past the queue's bound (changes waiting behind the one
 * being sent) the oldest waiting change is dropped, and a change that used all its tries is dropped too — each drop
 * counted (`teddy_gateway_alert_webhook_dropped_total`) and logged.
 */
import type { Logger } from 'pino';

/** What the webhook receives for every alert that fires or resolves. */
export interface AlertNotice {
  readonly alert: string;
  readonly severity: 'warning' | 'critical';
  readonly state: 'firing' | 'resolved';
  /** When its condition started holding (ISO 8601). */
  readonly startsAt: string;
  /** When it resolved; absent while firing. */
  readonly endsAt?: string;
  readonly value: number;
  readonly threshold: number;
  readonly summary: string;
  /** The gateway process it is about, and the SLO for burn-rate alerts. */
  readonly labels: Readonly<Record<string, string>>;
  readonly instance: string;
  /** Where docs/operations.md says what to do. */
  readonly runbook: string;
}

export type DropReason = 'queue_full' | 'retries_exhausted' | 'shutdown';

export interface AlertWebhookOptions {
  readonly url: string;
  readonly queueSize: number;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly timeoutMs: number;
  readonly log: Logger;
  onSent(): void;
  onDropped(reason: DropReason): void;
}

export interface AlertWebhook {
  /** Queues a notice; never waits. */
  send(notice: AlertNotice): void;
  /** Changes not yet delivered (waiting, and the one being sent). */
  readonly pending: number;
  /** Stops: the change in flight is abandoned and the waiting ones dropped (counted). */
  close(): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

/** The pause after the `attempt`-th failed try: `backoffMs` doubling, at most 30 s. */
export function backoffDelay(attempt: number, backoffMs: number): number {
  return Math.min(backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS);
}

export function createAlertWebhook(o: AlertWebhookOptions): AlertWebhook {
  /** Waiting to be sent, oldest first (the one being sent is not in here). */
  const waiting: AlertNotice[] = [];
  let sending: Promise<void> | undefined;
  let inFlight = 0;
  let closed = false;
  const stop = new AbortController();

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const onStop = () => {
        clearTimeout(timer);
        resolve();
      };
      // The listener goes with the pause: one left on `stop` per retry would pile up for the process's life.
      const timer = setTimeout(() => {
        stop.signal.removeEventListener('abort', onStop);
        resolve();
      }, ms);
      timer.unref();
      stop.signal.addEventListener('abort', onStop, { once: true });
    });

  /**
   * One try, given up after `timeoutMs` or at close, by a timer of its own that settles the try
   * whatever fetch does (and aborts it). Why not AbortSignal.any([stop, AbortSignal.timeout()]):
   * in Node 20 that combined signal stops passing its sources' aborts on once it is garbage
   * collected, and a try against a webhook that never answers then never ended (measured: 0 of
   * 20 such fetches aborted after a gc(); test/ops/alert-webhook.test.ts keeps it so).
   */
  const post = async (notice: AlertNotice): Promise<void> => {
    const attempt = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let onStop: (() => void) | undefined;
    const givenUp = new Promise<never>((_, reject) => {
      const giveUp = (why: string) => {
        attempt.abort();
        reject(new Error(why));
      };
      timer = setTimeout(() => giveUp(`no answer within ${o.timeoutMs} ms`), o.timeoutMs);
      onStop = () => giveUp('closed');
      stop.signal.addEventListener('abort', onStop, { once: true });
    });
    const sent = (async () => {
      const res = await fetch(o.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(notice), signal: attempt.signal });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`answered ${res.status}`);
    })();
    sent.catch(() => undefined); // settled by the race below; a late failure after giving up is moot
    try {
      await Promise.race([sent, givenUp]);
    } finally {
      clearTimeout(timer);
      stop.signal.removeEventListener('abort', onStop!);
    }
  };

  /** Sends one notice, retrying; resolves once it is delivered or dropped. */
  const deliver = async (notice: AlertNotice): Promise<void> => {
    for (let attempt = 1; !closed; attempt++) {
      try {
        await post(notice);
        o.onSent();
        return;
      } catch (err) {
        if (closed) break;
        if (attempt >= o.maxAttempts) {
          o.onDropped('retries_exhausted');
          o.log.warn({ alert: notice.alert, state: notice.state, attempts: attempt, err: (err as Error).message }, 'alert webhook failed; notice dropped');
          return;
        }
        await pause(backoffDelay(attempt, o.backoffMs));
      }
    }
    o.onDropped('shutdown');
  };

  const kick = (): void => {
    if (sending || closed) return;
    sending = (async () => {
      for (let next = waiting.shift(); next; next = closed ? undefined : waiting.shift()) {
        inFlight = 1;
        await deliver(next);
        inFlight = 0;
      }
    })().finally(() => {
      sending = undefined;
      if (waiting.length > 0) kick();
    });
  };

  return {
    send(notice) {
      if (closed) return;
      if (waiting.length >= o.queueSize) {
        const dropped = waiting.shift()!;
        o.onDropped('queue_full');
        o.log.warn({ alert: dropped.alert, state: dropped.state, queueSize: o.queueSize }, 'alert webhook queue full; oldest waiting notice dropped');
      }
      waiting.push(notice);
      kick();
    },
    get pending() {
      return waiting.length + inFlight;
    },
    async close() {
      closed = true;
      stop.abort();
      await sending;
      for (const _ of waiting.splice(0)) o.onDropped('shutdown');
    },
  };
}
