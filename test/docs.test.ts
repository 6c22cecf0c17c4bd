/**
 * The docs name what the code has. A flag, variable or option a user reads
 * about and cannot use (or uses and cannot read about) is a bug a user finds
 * in a minute, so these tables are checked against their sources: the
 * gateway's options table, the SDK's config defaults and the simulator's
 * `--help`. Pure reads of files and one `--help`; nothing is started.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { OPTION_SPECS } from '../gateway/options.js';
import { defaultConfig } from '../sdk/index.js';

const run = promisify(execFile);
const doc = (name: string): string => readFileSync(`docs/${name}`, 'utf8');
/** Long flags in commander's help text, e.g. `--mqtt-port` (not `--help`). */
const flagsInHelp = (help: string): string[] => [...new Set([...help.matchAll(/^\s+(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]!))].filter((f) => f !== '--help');

describe('docs', () => {
  it('docs/gateway.md names every start flag and environment variable of gateway/options.ts', () => {
    const gateway = doc('gateway.md');
    for (const spec of OPTION_SPECS) {
      if (spec.flag) expect(gateway, `${spec.flag} in docs/gateway.md`).toContain(`\`${spec.flag.split(' ')[0]}\``);
      if (spec.env) expect(gateway, `${spec.env} in docs/gateway.md`).toContain(`\`${spec.env}\``);
    }
  });

  it('docs/sdk.md lists every CacheConfig field, with the default the code has where it writes one as a literal', () => {
    const rows = new Map([...doc('sdk.md').matchAll(/^\| `(\w+)` \| ([^|]*) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]));
    for (const [field, value] of Object.entries(defaultConfig({}))) {
      expect(rows.has(field), `${field} in docs/sdk.md's configuration table`).toBe(true);
      const literal = /^`([^`]*)`$/.exec(rows.get(field) ?? '');
      if (literal && (typeof value !== 'object' || value === null)) expect(literal[1], `default of ${field}`).toBe(String(value));
      if (literal && typeof value === 'object' && value !== null) expect(literal[1], `default of ${field}`).toBe(JSON.stringify(value));
    }
  });

  it('docs/simulator.md names every flag of the simulator', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'simulator/cli.ts', '--help']);
    const flags = flagsInHelp(stdout);
    expect(flags).toContain('--bears');
    const simulator = doc('simulator.md');
    for (const flag of flags) expect(simulator, `${flag} in docs/simulator.md`).toMatch(new RegExp(`\`${flag}[ \`]`));
  });
});
