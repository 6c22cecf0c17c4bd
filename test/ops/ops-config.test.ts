/**
 * The SLO and rule configuration: the seed's targets by default, any subset
 * overridable, and a bad field refused with its path — by the parser, and by
 * `start --slo-config` as a user runs it (exit 1 before anything listens).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../gateway/errors.js';
import { DEFAULT_OPS_CONFIG, loadOpsConfig, resolveOpsConfig } from '../../gateway/ops/ops-config.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'teddy-slo-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, body: string): string => {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
};

describe('SLO configuration', () => {
  it('defaults to the seed\'s targets', () => {
    const { slos } = DEFAULT_OPS_CONFIG;
    expect(slos.l1HitRate.objective).toBe(0.7);
    expect(slos.l2Latency).toEqual({ thresholdMs: 50, objective: 0.99 });
    expect(slos.memory.maxMb).toBe(256);
    expect(slos.missRecovery.thresholdMs).toBe(100);
    expect(slos.availability.objective).toBe(0.999);
  });

  it('documents every default in docs/ops/slo-config.example.json', () => {
    const example: unknown = JSON.parse(readFileSync('docs/ops/slo-config.example.json', 'utf8'));
    expect(resolveOpsConfig(example)).toEqual(DEFAULT_OPS_CONFIG);
    expect(example).toEqual(DEFAULT_OPS_CONFIG);
  });

  it('overrides a subset and keeps the rest', () => {
    const c = resolveOpsConfig({ slos: { l2Latency: { thresholdMs: 20 } }, rules: { eventLoopLag: { enabled: false } }, cost: { pricePerCall: 0.01 } });
    expect(c.slos.l2Latency).toEqual({ thresholdMs: 20, objective: 0.99 });
    expect(c.rules.eventLoopLag.enabled).toBe(false);
    expect(c.rules.eventLoopLag.maxLagMs).toBe(200);
    expect(c.cost).toEqual({ pricePerCall: 0.01, currency: 'USD' });
  });

  it('names the field of every kind of mistake', () => {
    const refused = (given: unknown) => {
      try {
        resolveOpsConfig(given);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(given)}`);
    };
    expect(refused({ slos: { l2Latency: { thresholdMs: 'fast' } } })).toMatch(/^slos\.l2Latency\.thresholdMs: must be a number > 0, got "fast"/);
    expect(refused({ slos: { availability: { objective: 99.9 } } })).toMatch(/^slos\.availability\.objective: must be a fraction between 0 and 1/);
    expect(refused({ slos: { l1HitRatio: {} } })).toMatch(/^slos\.l1HitRatio: unknown field/);
    expect(refused({ rules: { l2Down: { severity: 'page' } } })).toMatch(/^rules\.l2Down\.severity: must be "warning" or "critical"/);
    expect(refused({ rules: { sloBurnFast: { minEvents: 1.5 } } })).toMatch(/^rules\.sloBurnFast\.minEvents: must be an integer/);
    expect(refused({ slos: [] })).toMatch(/^slos: must be an object/);
    expect(refused(7)).toMatch(/must be an object/);
  });

  it('reads a file and says which file and field is wrong', async () => {
    expect((await loadOpsConfig(file('ok.json', '{"slos":{"memory":{"maxMb":512}}}'))).slos.memory.maxMb).toBe(512);
    await expect(loadOpsConfig(file('bad.json', '{"slos":{"memory":{"maxMb":-1}}}'))).rejects.toThrow(OptionError);
    await expect(loadOpsConfig(join(dir, 'bad.json'))).rejects.toThrow(/--slo-config: .*bad\.json: slos\.memory\.maxMb: must be a number > 0, got -1/);
    await expect(loadOpsConfig(file('broken.json', '{"slos":'))).rejects.toThrow(/broken\.json is not JSON/);
    await expect(loadOpsConfig(join(dir, 'missing.json'))).rejects.toThrow(/cannot read .*missing\.json: ENOENT/);
  });

  it('stops `start` with exit 1 naming the field, from the flag and from TEDDY_SLO_CONFIG', async () => {
    const bad = file('start.json', '{"rules":{"memoryNearLimit":{"fraction":"high"}}}');
    const start = ['--import', 'tsx', 'gateway/cli.ts', 'start', '--mqtt-port', '0', '--http-port', '0', '--data-dir', join(dir, 'data')];
    await expect(run(process.execPath, [...start, '--slo-config', bad])).rejects.toMatchObject({
      code: 1, stderr: expect.stringMatching(/--slo-config: .*rules\.memoryNearLimit\.fraction: must be a number > 0, got "high"/),
    });
    await expect(run(process.execPath, start, { env: { ...process.env, TEDDY_SLO_CONFIG: bad } })).rejects.toMatchObject({
      code: 1, stderr: expect.stringMatching(/TEDDY_SLO_CONFIG: .*rules\.memoryNearLimit\.fraction/),
    });
  });
});
