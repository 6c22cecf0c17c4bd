/**
 * The health monitor: gives the rules' conditions a lifecycle. A condition
 * that starts holding is pending; once it has held for its rule's
 * `forSeconds` the alert fires — once per episode, however many evaluations
 * or requests it stays true for — and when it stops holding the alert
 * resolves. Each change goes to the log and to every notifier (the webhook,
 * the fleet status in Redis). Evaluation runs on the ops timer, never on the
 * request path.
 */
import type { Logger } from 'pino';
import type { AlertNotice } from './alert-webhook.js';
import type { Condition } from './health-rules.js';

export interface ActiveAlert {
  readonly alert: string;
  readonly severity: 'warning' | 'critical';
  readonly state: 'pending' | 'firing';
  readonly labels: Readonly<Record<string, string>>;
  readonly instance: string;
  /** When the condition started holding, ms since the epoch. */
  readonly since: number;
  readonly value: number;
  readonly threshold: number;
  readonly summary: string;
}

export interface HealthMonitor {
  /** Applies one evaluation's conditions; returns the notices it sent (alerts that fired or resolved). */
  evaluate(conditions: readonly Condition[], now: number): AlertNotice[];
  /** Alerts firing now (pending ones are not yet alerts). */
  firing(): ActiveAlert[];
  /** The last changes, newest first. */
  recent(): readonly AlertNotice[];
}

export interface HealthMonitorOptions {
  /** This process, as alerts name it. */
  readonly instance: string;
  readonly log: Logger;
  readonly notify: (notice: AlertNotice) => void;
}

const RECENT = 50;

export const runbookFor = (alert: string): string => `docs/operations.md#${alert.toLowerCase()}`;

const keyOf = (c: Pick<Condition, 'alert' | 'labels'>): string =>
  `${c.alert}${Object.entries(c.labels).sort().map(([k, v]) => `,${k}=${v}`).join('')}`;

export function createHealthMonitor(o: HealthMonitorOptions): HealthMonitor {
  const active = new Map<string, ActiveAlert>();
  const recent: AlertNotice[] = [];

  const notice = (a: ActiveAlert, state: AlertNotice['state'], now: number): AlertNotice => ({
    alert: a.alert, severity: a.severity, state,
    startsAt: new Date(a.since).toISOString(),
    ...(state === 'resolved' ? { endsAt: new Date(now).toISOString() } : {}),
    value: a.value, threshold: a.threshold, summary: a.summary,
    labels: { ...a.labels, instance: o.instance }, instance: o.instance, runbook: runbookFor(a.alert),
  });

  const emit = (n: AlertNotice): void => {
    recent.unshift(n);
    if (recent.length > RECENT) recent.pop();
    const fields = { alert: n.alert, severity: n.severity, state: n.state, value: n.value, threshold: n.threshold, labels: n.labels, runbook: n.runbook };
    if (n.state === 'resolved') o.log.info(fields, `alert resolved: ${n.summary}`);
    else if (n.severity === 'critical') o.log.error(fields, `alert firing: ${n.summary}`);
    else o.log.warn(fields, `alert firing: ${n.summary}`);
    o.notify(n);
  };

  return {
    evaluate(conditions, now) {
      const sent: AlertNotice[] = [];
      const seen = new Set<string>();
      for (const c of conditions) {
        const key = keyOf(c);
        seen.add(key);
        const was = active.get(key);
        if (!c.holds) {
          if (was?.state === 'firing') sent.push(notice({ ...was, value: c.value, summary: c.summary }, 'resolved', now));
          active.delete(key);
          continue;
        }
        const since = was?.since ?? now;
        const state = was?.state === 'firing' || now - since >= c.forSeconds * 1000 ? 'firing' : 'pending';
        const next: ActiveAlert = {
          alert: c.alert, severity: c.severity, state, labels: c.labels, instance: o.instance, since, value: c.value, threshold: c.threshold, summary: c.summary,
        };
        active.set(key, next);
        if (state === 'firing' && was?.state !== 'firing') sent.push(notice(next, 'firing', now));
      }
      // A rule switched off (or an SLO gone from the config) resolves what it had firing.
      for (const [key, was] of active) {
        if (seen.has(key)) continue;
        if (was.state === 'firing') sent.push(notice(was, 'resolved', now));
        active.delete(key);
      }
      for (const n of sent) emit(n);
      return sent;
    },
    firing: () => [...active.values()].filter((a) => a.state === 'firing'),
    recent: () => recent,
  };
}
