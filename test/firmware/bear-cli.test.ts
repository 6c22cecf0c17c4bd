/**
 * teddy-bear's command line behaves like a CLI: --help to stdout with exit 0; an unknown option or
 * a missing value named on stderr with exit 2 (as the gateway's and the simulator's CLIs do).
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { binary, ensureBinary } from '../helpers/teddy-bear.js';

const run = (...args: string[]) => spawnSync(binary, args, { encoding: 'utf8', timeout: 10_000 });

describe('teddy-bear command line', () => {
  beforeAll(() => ensureBinary(), 120_000);

  it('prints its usage for --help and exits 0', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^usage: teddy-bear --gateway URL/);
  });

  it('names an unknown option as unknown, even when nothing follows it', () => {
    for (const args of [['--quiet'], ['--quiet', 'x'], ['--device', 'b1', '--verbose']]) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^teddy-bear: unknown option --(quiet|verbose)\n/);
    }
  });

  it('names a known option given without its value', () => {
    const r = run('--device');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^teddy-bear: missing value for --device\n/);
  });
});
