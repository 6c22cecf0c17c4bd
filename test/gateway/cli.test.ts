/**
 * The CLI as a user runs it: a child process started with `start
 * --ready-json`, the registry and admin commands against it, and a graceful
 * exit 0 on SIGTERM.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_REDIS_DIR } from '../../infra/embedded-redis.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import { deviceTopic, encodeMessage, ErrorCode } from '../../protocol/index.js';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { connectBear } from './harness.js';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', 'gateway/cli.ts'];
const cli = (...args: string[]) => run(process.execPath, [...CLI, ...args], { cwd: process.cwd() });

let dataDir: string;
let redis: RedisHandle;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'teddy-cli-'));
  redis = await startRedis();
});
// A test that fails half-way leaves its gateway running: stopped here (before its Redis).
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function startChild(...extra: string[]): GatewayProcess {
  return startIn(dataDir, '--redis-url', redis.url, '--provider-latency-ms', '0', ...extra);
}

function startIn(dir: string, ...extra: string[]): GatewayProcess {
  const started = startGatewayProcess(['--data-dir', dir, ...extra]);
  children.push(started.child);
  return started;
}

/**
 * Live processes started for `dir`: a gateway or its workers (their command line names it) and its
 * redis-server (which rewrites its command line, but works in `dir`/redis). Zombies count as gone.
 */
function startedIn(dir: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
    try {
      const alive = !/^\S+ \S+ Z/.test(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/\(.*\)/, 'name'));
      const ours = readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir) || readlinkSync(`/proc/${p}/cwd`).startsWith(dir);
      return alive && ours ? [Number(p)] : [];
    } catch {
      return []; // it ended while being looked at, or is not ours to look at
    }
  });
}

/** What is still running for `dir` once its processes have had up to 2 s to end. */
async function leftIn(dir: string): Promise<number[]> {
  for (let i = 0; i < 100 && startedIn(dir).length > 0; i++) await sleep(20);
  return startedIn(dir);
}

describe('teddycache CLI', () => {
  it('prints help (exit 0) and refuses bad arguments as usage errors (exit 2), failures exit 1', async () => {
    expect((await cli('--help')).stdout).toMatch(/start[\s\S]*device[\s\S]*warm[\s\S]*stats/);
    expect((await cli('start', '--help')).stdout).toMatch(/--mqtt-port <n>[\s\S]*TEDDY_MQTT_PORT/);
    const usage = { code: 2, stdout: '' };
    await expect(cli('start', '--mqtt-port', 'abc')).rejects.toMatchObject({ ...usage, stderr: expect.stringMatching(/--mqtt-port <n>.*must be an integer/) });
    await expect(run(process.execPath, [...CLI, 'start', '--data-dir', dataDir, '--alert-webhook', 'ftp://alerts.example/hook'], { timeout: 30_000 })).rejects.toMatchObject({ ...usage, stderr: expect.stringMatching(/--alert-webhook <url>.*must be an http:\/\/ or https:\/\/ URL/) });
    await expect(cli('start', '--no-such-flag')).rejects.toMatchObject({ ...usage, stderr: expect.stringMatching(/unknown option '--no-such-flag'/) });
    await expect(cli('no-such-command')).rejects.toMatchObject({ ...usage, stderr: expect.stringMatching(/unknown command 'no-such-command'/) });
    await expect(cli('device', 'add')).rejects.toMatchObject({ ...usage, stderr: expect.stringMatching(/missing required argument 'id'/) });
    await expect(cli()).rejects.toMatchObject({ ...usage, stderr: expect.stringMatching(/^Usage: teddycache/) });
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect((await cli('--version')).stdout).toBe(`${version}\n`);
    await expect(cli('warm', '--data-dir', join(dataDir, 'nothing-here'))).rejects.toMatchObject({
      code: 1, stderr: expect.stringMatching(/no running gateway/),
    });
  });

  it('start --ready-json, device add, warm and stats against it, exit 0 on SIGTERM', async () => {
    // The registry lives in the fleet's Redis: the one the gateway will use.
    const { stdout } = await cli('device', 'add', 'cli-bear', '--json', '--data-dir', dataDir, '--redis-url', redis.url);
    const { secret } = JSON.parse(stdout) as { id: string; secret: string };
    expect((await cli('device', 'list', '--data-dir', dataDir, '--redis-url', redis.url)).stdout).toMatch(/^cli-bear\t/);

    const { child, ready } = startChild();
    const info = await ready;
    expect(info).toMatchObject({ event: 'ready', pid: child.pid });
    expect(info.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(info).toMatchObject({ mqttsUrl: expect.stringMatching(/^mqtts:\/\/127\.0\.0\.1:\d+$/), httpsUrl: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/), caFile: join(dataDir, 'tls', 'ca.pem') });

    const bear = await connectBear(info.mqttUrl, 'cli-bear', secret);
    await bear.request({ type: 'hello', id: 1, fw: '1.0.0', flashBudget: 1 << 20, clips: [], warmSeq: 0 });
    await bear.waitForWarms(1);
    expect((await cli('warm', '--device', 'cli-bear', '--data-dir', dataDir)).stdout).toMatch(/pushed 1 warm manifest/);
    await bear.waitForWarms(2);
    await bear.client.publishAsync(
      deviceTopic('cli-bear', 'evt'),
      encodeMessage({ type: 'stats', flashHits: 30, flashMisses: 10, bytesUsed: 4096, clipCount: 4, evictions: 0, maxEraseCount: 2, uptime: 60 }),
      { qos: 1 },
    );
    const stats = JSON.parse((await cli('stats', '--data-dir', dataDir)).stdout) as { bears: { connected: number; flashHitRate: number } };
    expect(stats.bears).toMatchObject({ connected: 1, saidHello: 1, bearsReporting: 1, flashHitRate: 0.75 });
    const one = JSON.parse((await cli('stats', '--device', 'cli-bear', '--data-dir', dataDir)).stdout) as unknown;
    expect(one).toMatchObject({ deviceId: 'cli-bear', connected: true, flashBudget: 1 << 20, newestWarmSeq: 1, lastStats: { flashHits: 30 } });
    await expect(cli('stats', '--device', 'nobody', '--data-dir', dataDir)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/404/) });
    await bear.close();

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('hands every start flag to its option (commander names values after the flag)', async () => {
    const { stdout } = await cli('device', 'add', 'flag-bear', '--json', '--data-dir', dataDir, '--redis-url', redis.url);
    const { secret } = JSON.parse(stdout) as { secret: string };
    // A bucket of one request, refilled once in 1000 s: the second request in a row is refused.
    const { child, ready } = startChild('--rate-burst', '1', '--rate-limit', '0.001', '--l1-max-size-mb', '3');
    const { mqttUrl, httpUrl } = await ready;
    // The SDK's L1 bound comes from the gateway's flag (the ops runbook's knob for an evicting L1).
    const health = (await (await fetch(`${httpUrl}/healthz`)).json()) as { cache: { l1: { maxBytes: number } } };
    expect(health.cache.l1.maxBytes).toBe(3 * 1024 * 1024);
    const bear = await connectBear(mqttUrl, 'flag-bear', secret);
    const hello = { type: 'hello' as const, fw: '1.0.0', flashBudget: 1 << 20, clips: [] as Uint8Array[], warmSeq: 0 };
    expect(await bear.request({ ...hello, id: 1 })).toMatchObject({ type: 'welcome' });
    expect(await bear.request({ ...hello, id: 2 })).toMatchObject({ type: 'error', code: ErrorCode.rateLimited });
    await bear.close();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  // Left to Node's default, a stop signal in the start's first second ended the process at once and
  // the redis-server it had just spawned lived on with no one to stop it.
  it.each([[[] as string[]], [['--workers', '2']]])('a SIGTERM while starting (%j) stops it once started, with everything it started', async (extra) => {
    const dir = mkdtempSync(join(tmpdir(), 'teddy-cli-early-'));
    const pidFile = join(dir, EMBEDDED_REDIS_DIR, 'redis-server.pid');
    const { child, lines, ready } = startIn(dir, '--provider-latency-ms', '0', ...extra);
    ready.catch(() => undefined); // it may stop before it is ready
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // redis-server creates its pid file, then writes it: an empty file is not there yet.
      const redisPid = (): number => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0);
      for (const deadline = Date.now() + 30_000; redisPid() <= 0 && Date.now() < deadline; ) await sleep(2);
      expect(redisPid()).toBeGreaterThan(0);
      expect(lines).toEqual([]); // still starting: its embedded Redis is up, the gateway not yet
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await leftIn(dir)).toEqual([]);
    } finally {
      for (const pid of startedIn(dir)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // A service manager (systemd's main PID, docker stop) signals the process it started: for
  // `npm start` that is npm. npm passes the signal to its child; a shell in between did not, and the
  // gateway and its redis-server went on running after npm had exited.
  it('npm start stops, with everything it started, on a SIGTERM sent to npm itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'teddy-npm-start-'));
    const npm = spawn('npm', ['start', '--silent', '--', '--data-dir', dir, '--ready-json', '--mqtt-port', '0', '--http-port', '0', '--mqtts-port', '0', '--https-port', '0'], { cwd: process.cwd() });
    try {
      const ready = new Promise<void>((resolve) => createInterface({ input: npm.stdout }).once('line', () => resolve()));
      const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
      await ready;
      expect(startedIn(dir).length).toBeGreaterThanOrEqual(2); // the gateway and its embedded redis-server
      npm.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await leftIn(dir)).toEqual([]);
    } finally {
      npm.kill('SIGKILL');
      for (const pid of startedIn(dir)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad environment variable by name before starting', async () => {
    const bad = run(process.execPath, [...CLI, 'start', '--data-dir', dataDir], { env: { ...process.env, TEDDY_MQTT_PORT: 'eighty' } });
    await expect(bad).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/TEDDY_MQTT_PORT: must be an integer/) });
    const noL1 = run(process.execPath, [...CLI, 'start', '--data-dir', dataDir], { env: { ...process.env, TEDDY_L1_MAX_SIZE_MB: '0' } });
    await expect(noL1).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/TEDDY_L1_MAX_SIZE_MB: must be an integer from 1/) });
    // A webhook fetch cannot POST to: refused at start, not found out at the first alert.
    const ftpHook = run(process.execPath, [...CLI, 'start', '--data-dir', dataDir], { env: { ...process.env, TEDDY_ALERT_WEBHOOK: 'ftp://alerts.example/hook' }, timeout: 30_000 });
    await expect(ftpHook).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/TEDDY_ALERT_WEBHOOK: must be an http:\/\/ or https:\/\/ URL/) });
  });

  it('says once, in its own words, that it cannot reach the fleet Redis', async () => {
    const env = { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: '' };
    const failed = await run(process.execPath, [...CLI, 'device', 'list', '--data-dir', dataDir], { env }).then(() => undefined, (err: { code: number; stderr: string }) => err);
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toBe('teddycache: cannot reach the fleet Redis (redis://127.0.0.1:1) within 5 s\n');
  });

  it('names the Redis CA file it cannot read, in start and in the commands that reach Redis themselves', async () => {
    const env = { ...process.env, REDIS_URL: 'rediss://127.0.0.1:1', REDIS_TLS_CA: join(dataDir, 'no-such-ca.pem') };
    for (const args of [['start'], ['device', 'list'], ['token', 'list']]) {
      const bad = run(process.execPath, [...CLI, ...args, '--data-dir', dataDir], { env });
      await expect(bad, args.join(' ')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/l2TlsCaFile: cannot read .*no-such-ca\.pem: ENOENT/) });
    }
  });
});
