/**
 * `start --workers 2` as a user runs it (real processes, embedded Redis):
 * one ready line naming both workers, bears served on the shared MQTT port
 * by both workers, a client id reconnecting through the shared port closing
 * its older connection whichever worker holds it, the CLI's `health` and
 * `report` seeing both workers as one fleet, a SIGKILLed worker replaced,
 * and SIGTERM stopping every process it started.
 */
import { execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { runningServerIn } from '../../infra/redis-server.js';
import { ADMIN_TOKEN_FILE } from '../../gateway/index.js';
import type { GatewayBeat } from '../../gateway/fleet-presence.js';
import type { HealthView } from '../../gateway/ops/operations.js';
import type { OpsReport } from '../../gateway/ops/ops-report.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { connectBear, TEST_FLEET_KEY, type TestBear } from './harness.js';
import { deriveDeviceSecret } from '../../gateway/device-secret.js';

const dataDir = mkdtempSync(join(tmpdir(), 'teddy-workers-'));
let child: ChildProcessWithoutNullStreams | undefined;
const bears: TestBear[] = [];
const workerPids: number[] = [];
afterAll(async () => {
  await Promise.all(bears.map((b) => b.close()));
  // After a failed assertion the gateway is still up: stop it the way a user would, then make sure
  // nothing it started (workers, embedded Redis) outlives the test.
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  const redisPid = await runningServerIn(join(dataDir, 'redis'));
  for (const pid of [...workerPids, ...(redisPid ? [redisPid] : [])]) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

async function until<T>(get: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('start --workers 2', () => {
  it('serves one fleet from two processes on shared ports, replaces a dead worker, stops everything on SIGTERM', async () => {
    const started = startGatewayProcess(
      ['--workers', '2', '--data-dir', dataDir, '--fleet-key', TEST_FLEET_KEY, '--provider-latency-ms', '0', '--log-level', 'warn'],
      { ...process.env, REDIS_URL: '' },
    );
    child = started.child;
    const announced = await started.ready;
    expect(announced).toMatchObject({ event: 'ready', pid: child.pid });
    const ready = { ...announced, workers: announced.workers ?? [] };
    expect(ready.workers).toHaveLength(2);
    workerPids.push(...ready.workers);
    expect(ready.workers.every(alive)).toBe(true);

    // Bears on the one MQTT port land on both workers and are served.
    for (let i = 0; i < 8; i++) {
      const id = `worker-bear-${i}`;
      const bear = await connectBear(ready.mqttUrl, id, deriveDeviceSecret(TEST_FLEET_KEY, id));
      bears.push(bear);
      expect(await bear.request({ type: 'hello', id: 1, fw: '1.0.0', flashBudget: 65536, clips: [], warmSeq: 0 })).toMatchObject({ type: 'welcome' });
    }
    const token = readFileSync(join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim();
    const gateways = async (): Promise<GatewayBeat[]> =>
      // Bounded: a kept-alive connection to the worker killed below can go unanswered; `until` asks again.
      ((await (await fetch(`${ready.httpUrl}/admin/stats`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2000) })).json()) as { gateways: GatewayBeat[] }).gateways;
    const spread = await until(async () => {
      const g = await gateways();
      return g.length === 2 && g.every((w) => w.bears > 0) && g.reduce((n, w) => n + w.bears, 0) === 8 ? g : undefined;
    }, 'bears on both workers');
    expect(spread.map((g) => g.pid).sort()).toEqual([...ready.workers].sort());
    // /metrics, whichever worker answers it, is the whole gateway's.
    for (let i = 0; i < 4; i++) {
      const text = await (await fetch(`${ready.httpUrl}/metrics`)).text();
      expect(Number(/^teddy_gateway_connected_bears (\d+)/m.exec(text)?.[1])).toBe(8);
    }
    // A warm push at whichever worker answers HTTP reaches every bear.
    const pushed = (await (await fetch(`${ready.httpUrl}/admin/warm`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).json()) as { pushed: number };
    expect(pushed.pushed).toBe(8);

    // The operations views through the CLI, whichever worker answers: one fleet of both.
    // Not execFileSync: the bears in this process must keep being served meanwhile. (`health` exits 1 when unhealthy.)
    const cli = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', ...args, '--data-dir', dataDir], { cwd: process.cwd(), timeout: 10_000, env: { ...process.env, REDIS_URL: '' } },
          (err, stdout) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout }));
      });
    const health = await until(async () => {
      const h = JSON.parse((await cli('health', '--json')).stdout) as HealthView;
      return h.fleet.live === 2 && h.fleet.bears === 8 ? h : undefined;
    }, 'health seeing both workers and all bears');
    expect(health.fleet.live).toBe(2);
    const out = mkdtempSync(join(tmpdir(), 'teddy-workers-report-'));
    try {
      expect((await cli('report', '--out', out)).code).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as OpsReport;
      expect(new Set(report.fleet.processes.map((p) => p.pid))).toEqual(new Set(ready.workers));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }

    // The same client id again, through the shared port: its older connection closes, wherever it was.
    const first = bears[0]!;
    const closed = new Promise<void>((resolve) => first.client.once('close', () => resolve()));
    bears.push(await connectBear(ready.mqttUrl, first.id, deriveDeviceSecret(TEST_FLEET_KEY, first.id)));
    await closed;

    // A worker killed outright is replaced; the fleet keeps serving.
    const [victim] = ready.workers;
    process.kill(victim!, 'SIGKILL');
    const replaced = await until(async () => {
      const pids = (await gateways()).map((g) => g.pid);
      return pids.length === 2 && !pids.includes(victim!) ? pids : undefined;
    }, 'a replacement worker');
    workerPids.push(...replaced);
    const late = await connectBear(ready.mqttUrl, 'late-bear', deriveDeviceSecret(TEST_FLEET_KEY, 'late-bear'));
    bears.push(late);
    expect(await late.request({ type: 'hello', id: 1, fw: '1.0.0', flashBudget: 65536, clips: [], warmSeq: 0 })).toMatchObject({ type: 'welcome' });

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(started.lines).toHaveLength(1);
    expect([...replaced, ...ready.workers].some(alive)).toBe(false);
    expect(await runningServerIn(join(dataDir, 'redis'))).toBeUndefined();
    expect(existsSync(join(dataDir, 'gateway.json'))).toBe(false);
  }, 90_000);
});
