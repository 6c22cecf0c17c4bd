/**
 * The health monitor's rules (./health-rules.ts) as Prometheus alerting
 * rules, written from the same operations config the gateway runs with, so
 * Prometheus and the gateway alert at the same thresholds: each rule's
 * windows, limits, severity and `for`, and a disabled rule left out. The SLO
 * burn-rate rules read the objectives the gateways export
 * (teddy_slo_objective_ratio) and the memory rule the limit they export
 * (teddy_gateway_memory_limit_bytes), so those follow a config change by
 * themselves. `teddycache alert-rules [--slo-config FILE]` prints it;
 * docs/ops/alerts.yml is its output for the defaults (a test keeps it so).
 */
import { ALERT_NAMES } from './health-rules.js';
import type { OpsConfig, RuleName, Severity } from './ops-config.js';

/** A Prometheus duration for whole seconds: 1h, 1m, 30s. */
function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** "the last minute", "the last hour", "the last 5m": how a window reads in a comment or summary. */
const lastWindow = (seconds: number): string =>
  seconds === 60 ? 'the last minute' : seconds === 3600 ? 'the last hour' : `the last ${duration(seconds)}`;

interface Alert {
  readonly rule: RuleName | undefined;
  readonly comment?: readonly string[];
  readonly expr: string;
  readonly forSeconds: number;
  readonly severity: Severity;
  readonly summary: string;
}

/** Indents a multi-line PromQL expression under `expr: |`. */
function exprBlock(expr: string): string {
  if (!expr.includes('\n')) return `        expr: ${expr}\n`;
  return `        expr: |\n${expr.split('\n').map((l) => `          ${l}`).join('\n')}\n`;
}

function renderAlert(name: string, a: Alert): string {
  return [
    `      - alert: ${name}\n`,
    ...(a.comment ?? []).map((c) => `        # ${c}\n`),
    exprBlock(a.expr),
    a.forSeconds > 0 ? `        for: ${duration(a.forSeconds)}\n` : '',
    '        labels:\n',
    `          severity: ${a.severity}\n`,
    '        annotations:\n',
    `          summary: "${a.summary}"\n`,
    `          runbook_url: docs/operations.md#${name.toLowerCase()}\n`,
  ].join('');
}

const l1Ratio = (window: string): string =>
  `sum by (instance) (rate(teddy_cache_hits_total{layer="l1"}[${window}]))\n` +
  `/ sum by (instance) (rate(teddy_cache_hits_total{layer="l1"}[${window}]) + rate(teddy_cache_misses_total{layer="l1"}[${window}]))`;

/** The share of an SLO's bad events over `window` divided by the share its objective allows. */
const burn = (window: string): string =>
  '(\n' +
  `  1 - sum by (instance, slo) (rate(teddy_slo_good_events_total[${window}])) / sum by (instance, slo) (rate(teddy_slo_events_total[${window}]))\n` +
  ') / on (instance, slo) (1 - max by (instance, slo) (teddy_slo_objective_ratio))';

function healthAlerts(c: OpsConfig['rules']): [string, Alert][] {
  const drop = c.hitRateDrop;
  const window = duration(drop.windowSeconds);
  const l2e = c.l2Errors;
  const pe = c.providerErrors;
  const peWindow = duration(pe.windowSeconds);
  const lag = c.eventLoopLag;
  const indent = (text: string) => text.split('\n').map((l) => `  ${l}`).join('\n');
  return [
    ['TeddyGatewayDown', {
      rule: undefined,
      comment: ['Not in the gateway\'s own monitor: a dead process cannot say it is dead.'],
      expr: 'up{job="teddycache"} == 0',
      forSeconds: 60,
      severity: 'critical',
      summary: 'gateway {{ $labels.instance }} is not answering scrapes',
    }],
    [ALERT_NAMES.l2Down, {
      rule: 'l2Down',
      expr: '(\n' +
        '  max by (instance) (teddy_cache_l2_breaker_state{state!="closed"}) == 1\n' +
        '  or max by (instance) (teddy_gateway_redis_connected) == 0\n' +
        ')\n' +
        'and on (instance) max by (instance) (teddy_gateway_redis_connected)',
      forSeconds: c.l2Down.forSeconds,
      severity: c.l2Down.severity,
      summary: 'L2 (Redis) unavailable on {{ $labels.instance }}: breaker open or connection lost',
    }],
    [ALERT_NAMES.l2Errors, {
      rule: 'l2Errors',
      expr: `sum by (instance) (increase(teddy_cache_errors_total{layer="l2"}[${duration(l2e.windowSeconds)}])) > ${l2e.maxErrors}`,
      forSeconds: l2e.forSeconds,
      severity: l2e.severity,
      summary: `{{ $value | humanize }} failed L2 (Redis) calls in ${lastWindow(l2e.windowSeconds)} on {{ $labels.instance }}`,
    }],
    [ALERT_NAMES.hitRateDrop, {
      rule: 'hitRateDrop',
      comment: [
        `${lastWindow(drop.windowSeconds).replace(/^the/, 'The')}'s L1 hit rate below max(${drop.floor}, ${lastWindow(drop.baselineSeconds)}'s − ${drop.maxDrop}), over at least ${drop.minLookups} lookups.`,
      ],
      expr: '(\n' +
        `${indent(l1Ratio(window))}\n` +
        ')\n' +
        '< on (instance)\n' +
        'clamp_min(\n' +
        `${indent(l1Ratio(duration(drop.baselineSeconds)))}\n` +
        `  - ${drop.maxDrop},\n` +
        `  ${drop.floor}\n` +
        ')\n' +
        'and on (instance)\n' +
        `sum by (instance) (increase(teddy_cache_hits_total{layer="l1"}[${window}]) + increase(teddy_cache_misses_total{layer="l1"}[${window}])) >= ${drop.minLookups}`,
      forSeconds: drop.forSeconds,
      severity: drop.severity,
      summary: 'L1 hit rate dropped to {{ $value | humanizePercentage }} on {{ $labels.instance }}',
    }],
    [ALERT_NAMES.memoryNearLimit, {
      rule: 'memoryNearLimit',
      expr: `teddy_gateway_process_resident_memory_bytes / teddy_gateway_memory_limit_bytes >= ${c.memoryNearLimit.fraction}`,
      forSeconds: c.memoryNearLimit.forSeconds,
      severity: c.memoryNearLimit.severity,
      summary: '{{ $labels.instance }} uses {{ $value | humanizePercentage }} of its memory limit',
    }],
    [ALERT_NAMES.providerErrors, {
      rule: 'providerErrors',
      expr: `sum by (instance) (increase(teddy_gateway_provider_errors_total[${peWindow}]))\n` +
        `/ sum by (instance) (increase(teddy_gateway_provider_calls_total[${peWindow}])) > ${pe.maxErrorRatio}\n` +
        `and on (instance) sum by (instance) (increase(teddy_gateway_provider_calls_total[${peWindow}])) >= ${pe.minCalls}`,
      forSeconds: pe.forSeconds,
      severity: pe.severity,
      summary: `{{ $value | humanizePercentage }} of provider calls failed in ${lastWindow(pe.windowSeconds)} on {{ $labels.instance }}`,
    }],
    [ALERT_NAMES.eventLoopLag, {
      rule: 'eventLoopLag',
      expr: `max by (instance) (max_over_time(teddy_gateway_nodejs_eventloop_lag_p99_seconds[${duration(lag.windowSeconds)}])) > ${lag.maxLagMs / 1000}`,
      forSeconds: lag.forSeconds,
      severity: lag.severity,
      summary: 'event-loop delay p99 {{ $value | humanizeDuration }} on {{ $labels.instance }}',
    }],
  ];
}

function sloAlerts(c: OpsConfig['rules']): [string, Alert][] {
  const rule = (which: 'sloBurnFast' | 'sloBurnSlow', short: string, long: string, what: string): [string, Alert] => {
    const r = c[which];
    return [ALERT_NAMES[which], {
      rule: which,
      expr: `${burn(short)} > ${r.burnRate}\nand on (instance, slo)\n${burn(long)} > ${r.burnRate}\n` +
        `and on (instance, slo) sum by (instance, slo) (increase(teddy_slo_events_total[${short}])) >= ${r.minEvents}`,
      forSeconds: r.forSeconds,
      severity: r.severity,
      summary: `SLO {{ $labels.slo }} on {{ $labels.instance }} burns its error budget {{ $value | humanize }}× ${what}`,
    }];
  };
  return [rule('sloBurnFast', '5m', '1h', 'too fast (5 min and 1 h)'), rule('sloBurnSlow', '1h', '24h', '(1 h and 24 h)')];
}

const HEADER = `# teddycache alerting rules for Prometheus: the gateway's health monitor
# (gateway/ops/health-rules.ts) stated in PromQL, written by
# \`teddycache alert-rules [--slo-config FILE]\` (gateway/ops/alert-rules.ts)
# from the operations config; this file is its output for the defaults
# (docs/ops/slo-config.example.json). Run it with the config your gateways
# use, so both alert at the same thresholds. The SLO burn-rate rules read the
# objectives the gateway exports (teddy_slo_objective_ratio) and the memory
# rule its limit (teddy_gateway_memory_limit_bytes).
#
# Checked by \`promtool check rules docs/ops/alerts.yml\` and unit-tested by
# \`promtool test rules docs/ops/alerts.test.yml\` (test/ops/alert-rules.test.ts
# runs both); test/ops/prometheus.test.ts loads them into a real Prometheus
# scraping a real gateway. What to do for each: docs/operations.md.
`;

/** The alerting rules for this config, as a Prometheus rule file (YAML). */
export function renderAlertRules(config: OpsConfig): string {
  const on = ([, a]: [string, Alert]) => a.rule === undefined || config.rules[a.rule].enabled;
  const group = (name: string, alerts: [string, Alert][], preface: readonly string[] = []) => {
    const kept = alerts.filter(on);
    if (kept.length === 0) return '';
    return `  - name: ${name}\n    rules:\n${preface.map((p) => `      # ${p}\n`).join('')}${kept.map(([n, a]) => renderAlert(n, a)).join('\n')}`;
  };
  const groups = [
    group('teddycache-health', healthAlerts(config.rules)),
    group('teddycache-slo', sloAlerts(config.rules), [
      'Burn rate = share of bad events / share the objective allows. Both windows must burn:',
      'the short one says it is still happening, the long one that it matters.',
    ]),
  ].filter(Boolean);
  return `${HEADER}groups:\n${groups.join('\n')}`;
}
