/**
 * The registry commands on the embedded default, as a user runs them: with
 * no gateway running (the CLI starts the data dir's Redis briefly), against a
 * running gateway (the CLI uses its Redis; a removal disconnects the bear),
 * across a gateway restart, and a devices.json from before the move to Redis
 * migrated on the first start. Real processes: the CLI and `start`.
 */
import { randomBytes, scryptSync } from 'node:crypto';
import { execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runningServerIn } from '../../infra/redis-server.js';
import { startGatewayProcess, type ReadyLine } from '../helpers/gateway-process.js';
import { connectBear } from './harness.js';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', 'gateway/cli.ts'];
const cli = (...args: string[]) => run(process.execPath, [...CLI, ...args], { cwd: process.cwd(), env: { ...process.env, REDIS_URL: '' } });

const dirs: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Started {
  child: ChildProcessWithoutNullStreams;
  ready: ReadyLine;
  stop(): Promise<number | null>;
}

async function start(dataDir: string, ...extra: string[]): Promise<Started> {
  const { child, ready: announced } = startGatewayProcess(['--data-dir', dataDir, '--provider-latency-ms', '0', ...extra], { ...process.env, REDIS_URL: '' });
  children.push(child);
  const ready = await announced;
  return {
    child,
    ready,
    stop() {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const closed = (client: { once(e: 'close', l: () => void): unknown }): Promise<void> => new Promise((resolve) => client.once('close', () => resolve()));

/** The first test's data dir and a bear it enrolled, for the restart test. */
let shared: { dataDir: string; online: string } | undefined;

describe('device commands on the embedded Redis', () => {
  it('work with no gateway and against a running one', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'teddy-registry-cli-'));
    dirs.push(dataDir);
    const added = JSON.parse((await cli('device', 'add', 'offline-bear', '--json', '--data-dir', dataDir)).stdout) as { secret: string };
    // The CLI's brief Redis is gone again.
    expect(await runningServerIn(join(dataDir, 'redis'))).toBeUndefined();

    const gateway = await start(dataDir);
    const bear = await connectBear(gateway.ready.mqttUrl, 'offline-bear', added.secret);
    // While it runs, the CLI uses the gateway's Redis, and a removal reaches the connected bear.
    const online = JSON.parse((await cli('device', 'add', 'online-bear', '--json', '--data-dir', dataDir)).stdout) as { secret: string };
    expect((await cli('device', 'list', '--data-dir', dataDir)).stdout).toMatch(/^offline-bear\t.*\nonline-bear\t/);
    const gone = closed(bear.client);
    expect((await cli('device', 'remove', 'offline-bear', '--data-dir', dataDir)).stdout).toBe('removed offline-bear\n');
    await gone;
    await expect(connectBear(gateway.ready.mqttUrl, 'offline-bear', added.secret)).rejects.toThrow(/Bad username or password/);
    await expect(cli('device', 'remove', 'offline-bear', '--data-dir', dataDir)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/no device offline-bear/) });

    expect(await gateway.stop()).toBe(0);
    expect(await runningServerIn(join(dataDir, 'redis'))).toBeUndefined();
    shared = { dataDir, online: online.secret };
  }, 90_000);

  it('keep the registry across a graceful restart and a SIGKILL of the gateway', async () => {
    const { dataDir, online } = shared!;
    let gateway = await start(dataDir);
    await (await connectBear(gateway.ready.mqttUrl, 'online-bear', online)).close();
    // SIGKILL: the registry is on disk (append-only file) and the orphaned Redis is taken over.
    gateway.child.kill('SIGKILL');
    await new Promise((r) => gateway.child.once('exit', r));
    gateway = await start(dataDir);
    await (await connectBear(gateway.ready.mqttUrl, 'online-bear', online)).close();
    expect(await gateway.stop()).toBe(0);
  }, 90_000);

  it('migrate an old devices.json on the first start and rename it', { timeout: 60_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'teddy-registry-migrate-'));
    dirs.push(dataDir);
    // A registry file as gateways before the move to Redis wrote it (scrypt N=2^14, r=8, p=1).
    const secret = 'legacy-bear-secret';
    const salt = randomBytes(16);
    const hash = ['scrypt', 16384, 8, 1, salt.toString('base64url'), scryptSync(secret, salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64url')].join('$');
    const file = { version: 1, devices: { 'legacy-bear': { hash, createdAt: '2026-06-01T00:00:00.000Z' } } };
    writeFileSync(join(dataDir, 'devices.json'), JSON.stringify(file, null, 2));

    const gateway = await start(dataDir);
    expect(existsSync(join(dataDir, 'devices.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(dataDir, 'devices.json.migrated'), 'utf8'))).toEqual(file);
    await (await connectBear(gateway.ready.mqttUrl, 'legacy-bear', secret)).close();
    expect((await cli('device', 'list', '--json', '--data-dir', dataDir)).stdout).toBe(`${JSON.stringify([{ id: 'legacy-bear', createdAt: '2026-06-01T00:00:00.000Z' }])}\n`);
    expect(await gateway.stop()).toBe(0);
  });
});
