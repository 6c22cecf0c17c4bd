import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseDuration, parsePercentList, parseStorm } from '../../simulator/cli-args.js';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'simulator/cli.ts', ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, TEDDY_FLEET_KEY: '' } });

describe('simulator CLI', () => {
  it('parses durations, storms and percentages', () => {
    expect(parseDuration('60s')).toBe(60_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5')).toBe(5000);
    expect(() => parseDuration('soon')).toThrow(/60s/);
    expect(parseStorm('drop:20%@50%')).toEqual([{ kind: 'drop', at: 0.5, fraction: 0.2 }]);
    expect(parseStorm('restart@70%', parseStorm('drop@10%'))).toEqual([{ kind: 'drop', at: 0.1, fraction: 1 }, { kind: 'restart', at: 0.7, fraction: 1 }]);
    expect(() => parseStorm('drop@150%')).toThrow(/100%/);
    expect(() => parseStorm('flood@5%')).toThrow();
    expect(parseStorm('kill-redis-master@60%', parseStorm('kill-gateway@30%'))).toEqual([
      { kind: 'kill-gateway', at: 0.3, fraction: 1 }, { kind: 'kill-redis-master', at: 0.6, fraction: 1 },
    ]);
    // A share of bears only means something for drops.
    expect(() => parseStorm('kill-gateway:50%@30%')).toThrow(/kill-gateway@30%/);
    expect(parsePercentList('40%')).toEqual([0.4]);
  });

  it('--help exits 0 and documents the options', () => {
    const run = cli('--help');
    expect(run.status).toBe(0);
    for (const option of ['--bears', '--duration', '--skew', '--seed', '--gateway-url', '--out', '--storm', '--gateways', '--workers', '--redis-cluster', 'kill-gateway@T%', 'kill-redis-master@T%']) {
      expect(run.stdout).toContain(option);
    }
  });

  it('bad arguments exit 2 with the reason on stderr', () => {
    const bad = cli('--bears', 'many');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--bears');
    const noKey = cli('--gateway-url', 'mqtt://127.0.0.1:1');
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toContain('--fleet-key');
  });
});
