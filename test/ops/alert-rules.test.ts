/**
 * docs/ops/alerts.yml as Prometheus's own tool checks it (`promtool check
 * rules`, and its unit tests, `promtool test rules docs/ops/alerts.test.yml`),
 * and kept in step with the gateway: every health rule has its alert there,
 * and every alert a section in docs/operations.md that its runbook link names.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALERT_NAMES } from '../../gateway/ops/health-rules.js';

const promtool = (...args: string[]) => spawnSync('promtool', args, { encoding: 'utf8' });
const rules = readFileSync('docs/ops/alerts.yml', 'utf8');
const alerts = [...rules.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]!);

describe('the alerting rules', () => {
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
