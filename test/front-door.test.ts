/**
 * `./teddy`, the README's front door, behaves like a CLI: `--help` prints the
 * commands and exits 0; no command or an unknown one is a usage error (stderr,
 * exit 2). These paths return before bootstrap, so nothing is installed or started.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const teddy = (...args: string[]) => run('./teddy', args, { cwd: process.cwd() });

describe('./teddy', () => {
  it('prints its commands for --help and refuses no command or an unknown one with exit 2', async () => {
    const help = await teddy('--help');
    expect(help.stdout).toMatch(/\.\/teddy start[\s\S]*\.\/teddy test[\s\S]*\.\/teddy bench/);
    await expect(teddy()).rejects.toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/\.\/teddy start/) });
    await expect(teddy('deploy')).rejects.toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/unknown command 'deploy'/) });
  });
});
