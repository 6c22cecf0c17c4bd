/**
 * Alert changes to an HTTP endpoint: one JSON POST per change, in order.
 * Nothing here is on the request path, and a webhook that is down, slow or
 * refusing cannot make anything wait: `send` only appends to a bounded queue;
 * one sender delivers from it, each try bounded by a timeout, retrying with a
 * doubling pause; past the queue's bound the oldest waiting change is
 * dropped, and a change that used all its tries is dropped too — each drop
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
  /** Changes not yet delivered. */
  readonly pending: number;
  /** Stops: the change in flight is abandoned and the waiting ones dropped (counted). */
  close(): Promise<void>;
}

const MAX_BACKOFF_MS = 30_000;

export function createAlertWebhook(o: AlertWebhookOptions): AlertWebhook {
  const queue: AlertNotice[] = [];
  let sending: Promise<void> | undefined;
  let closed = false;
  const stop = new AbortController();

  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      stop.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });

  const post = async (notice: AlertNotice): Promise<void> => {
    const res = await fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(notice),
      signal: AbortSignal.any([stop.signal, AbortSignal.timeout(o.timeoutMs)]),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`answered ${res.status}`);
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0 && !closed) {
      const notice = queue[0]!;
      for (let attempt = 1; ; attempt++) {
        try {
          await post(notice);
          o.onSent();
          break;
        } catch (err) {
          if (closed) return;
          if (attempt >= o.maxAttempts) {
            o.onDropped('retries_exhausted');
            o.log.warn({ alert: notice.alert, state: notice.state, attempts: attempt, err: (err as Error).message }, 'alert webhook failed; notice dropped');
            break;
          }
          await pause(Math.min(o.backoffMs * 2 ** (attempt - 1), MAX_BACKOFF_MS));
          if (closed) return;
        }
      }
      // The head may have been dropped for room while it was being sent.
      if (queue[0] === notice) queue.shift();
    }
  };

  const kick = (): void => {
    if (sending || closed) return;
    sending = drain().finally(() => {
      sending = undefined;
      if (queue.length > 0) kick();
    });
  };

  return {
    send(notice) {
      if (closed) return;
      if (queue.length >= o.queueSize) {
        // Keep the one in flight (index 0); make room by the oldest waiting after it.
        const [dropped] = queue.splice(queue.length > 1 ? 1 : 0, 1);
        o.onDropped('queue_full');
        o.log.warn({ alert: dropped?.alert, state: dropped?.state, queueSize: o.queueSize }, 'alert webhook queue full; oldest waiting notice dropped');
      }
      queue.push(notice);
      kick();
    },
    get pending() {
      return queue.length;
    },
    async close() {
      closed = true;
      stop.abort();
      await sending;
      for (const _ of queue.splice(0)) o.onDropped('shutdown');
    },
  };
}
