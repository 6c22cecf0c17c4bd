/**
 * `top` as an operator sees it: the CLI in a real terminal (tmux, on a
 * private socket), reading a running gateway; the screen refreshes every
 * second, shows the bears, requests per second and hit rates as traffic
 * arrives, and `q` quits.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, textUtterance, type TestGateway } from '../gateway/harness.js';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'teddy-tmux-'));
const socket = join(dir, 'tmux.sock');
const tmux = (...args: string[]) => exec('tmux', ['-S', socket, ...args], { encoding: 'utf8' });
const screen = async (): Promise<string> => (await tmux('capture-pane', '-p', '-t', 'top')).stdout;

async function until(check: (s: string) => boolean, ms: number, what: string): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = await screen().catch(() => '');
    if (check(s)) return s;
    if (Date.now() > deadline) throw new Error(`${what} not on screen within ${ms} ms:\n${s}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ opsIntervalMs: 500 });
});
afterAll(async () => {
  await tmux('kill-server').catch(() => undefined);
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('top', () => {
  it('shows the gateway live in a terminal, refreshing every second, and quits on q', { timeout: 60_000 }, async () => {
    const bear = await t.connectFleetBear('top-bear');
    await bear.request({ type: 'hello', id: 1, fw: '1.0.0', flashBudget: 1 << 20, clips: [], warmSeq: 0 });
    await tmux('new-session', '-d', '-s', 'top', '-x', '160', '-y', '40', '-c', process.cwd(),
      `${process.execPath} --import tsx gateway/cli.ts top --data-dir ${t.dataDir}`);

    const first = await until((s) => /teddycache top/.test(s) && /^bears\s+1\s*$/m.test(s), 20_000, 'the first frame');
    expect(first).toContain(t.gateway.httpUrl);
    expect(first).toMatch(/^hit rate\s+L1 .*L2 .*L3 /m);
    expect(first).toMatch(/^memory\s+RSS \d+ MB of 256 MB/m);
    expect(first).toMatch(/^alerts\s+none firing/m);
    const clock = (s: string) => /(\d\d:\d\d:\d\d) UTC/.exec(s)?.[1];
    await until((s) => clock(s) !== undefined && clock(s) !== clock(first), 5000, 'a newer frame');

    // Traffic shows up as requests per second and an L1 hit rate.
    for (let i = 0; i < 8; i++) await bear.request(textUtterance(10 + i, 'what do bears eat'));
    const busy = await until((s) => /^requests\s+[1-9][\d.]*\/s/m.test(s) && /L1\s+\d+\.\d%/.test(s), 10_000, 'requests per second and an L1 hit rate');
    expect(busy).toMatch(/answer p50 [\d.]+ ms/);

    await tmux('send-keys', '-t', 'top', 'q');
    const deadline = Date.now() + 10_000;
    while (await tmux('has-session', '-t', 'top').then(() => true, () => false)) {
      if (Date.now() > deadline) throw new Error('top did not quit on q');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
