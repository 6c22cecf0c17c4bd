/**
 * docs/ops/alerts.yml as Prometheus's own tool checks it (`promtool check
 * rules`, and its unit tests, `promtool test rules docs/ops/alerts.test.yml`),
 * and kept in step with the gateway: it is what `teddycache alert-rules`
 * writes for the default config, every health rule has its alert there, and
 * every alert a section in docs/operations.md that its runbook link names.
 * With another config, the rules follow its thresholds, windows, severities
 * and disabled rules, and still pass promtool.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderAlertRules } from '../../gateway/ops/alert-rules.js';
import { ALERT_NAMES } from '../../gateway/ops/health-rules.js';
import { DEFAULT_OPS_CONFIG } from '../../gateway/ops/ops-config.js';

const promtool = (...args: string[]) => spawnSync('promtool', args, { encoding: 'utf8' });
const rules = readFileSync('docs/ops/alerts.yml', 'utf8');
const alerts = [...rules.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]!);

/** The rule block of one alert in a rule file. */
const block = (yaml: string, alert: string): string => yaml.split(/\n(?=\s*- alert: )/).find((b) => b.includes(`- alert: ${alert}\n`)) ?? '';

describe('the alerting rules', () => {
  it('are what `alert-rules` writes for the default config', () => {
    expect(renderAlertRules(DEFAULT_OPS_CONFIG)).toBe(rules);
  });

  it('follow another config: its thresholds, windows, severities and `for`, without its disabled rules, and pass promtool', () => {
    const dir = mkdtempSync(join(tmpdir(), 'teddy-alert-rules-'));
    try {
      const config = join(dir, 'slo.json');
      writeFileSync(config, JSON.stringify({
        rules: {
          eventLoopLag: { maxLagMs: 500, windowSeconds: 120, forSeconds: 30 },
          l2Errors: { severity: 'critical', maxErrors: 3 },
          providerErrors: { enabled: false },
          sloBurnFast: { burnRate: 10 },
        },
      }));
      const out = join(dir, 'alerts.yml');
      execFileSync(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', 'alert-rules', '--slo-config', config, '--out', out], { cwd: process.cwd() });
      const written = readFileSync(out, 'utf8');
      expect(block(written, 'TeddyEventLoopLag')).toMatch(/\[2m\]\)\) > 0\.5\n\s+for: 30s\n/);
      expect(block(written, 'TeddyL2Errors')).toMatch(/\[1m\]\)\) > 3\n[\s\S]*severity: critical/);
      expect(written).not.toContain('TeddyProviderErrors');
      expect(block(written, 'TeddySloBurnRateFast').match(/> 10\n/g)).toHaveLength(2);
      const check = promtool('check', 'rules', out);
      expect(check.status, check.stderr).toBe(0);
      expect(check.stdout).toMatch(new RegExp(`SUCCESS: ${alerts.length - 1} rules found`));
      // A config that does not load is refused by name, as at start.
      writeFileSync(config, JSON.stringify({ rules: { eventLoopLag: { maxLagMs: -1 } } }));
      expect(spawnSync(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', 'alert-rules', '--slo-config', config], { encoding: 'utf8' }).stderr)
        .toMatch(/rules\.eventLoopLag\.maxLagMs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pass promtool check rules', () => {
    const check = promtool('check', 'rules', 'docs/ops/alerts.yml');
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });

  it('pass their unit tests (promtool test rules)', () => {
    const test = promtool('test', 'rules', 'docs/ops/alerts.test.yml');
    expect(test.status, `${test.stdout}${test.stderr}`).toBe(0);
    expect(test.stdout).toMatch(/SUCCESS/);
    // Every alert is exercised by at least one test case.
    const tested = new Set([...readFileSync('docs/ops/alerts.test.yml', 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]!));
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
  });

  it('mirror every rule of the health monitor', () => {
    expect(alerts).toEqual(expect.arrayContaining(Object.values(ALERT_NAMES)));
    expect(alerts.filter((a) => !(Object.values(ALERT_NAMES) as string[]).includes(a))).toEqual(['TeddyGatewayDown']);
  });

  it('each have a runbook section in docs/operations.md', () => {
    const runbook = readFileSync('docs/operations.md', 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{2,4} (\w+)\s*$/gm)].map((m) => m[1]!.toLowerCase()));
    for (const alert of alerts) {
      expect(anchors.has(alert.toLowerCase()), `docs/operations.md section for ${alert}`).toBe(true);
      expect(rules).toContain(`runbook_url: docs/operations.md#${alert.toLowerCase()}`);
    }
  });
});
