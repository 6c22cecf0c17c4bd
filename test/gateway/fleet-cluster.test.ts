/**
 * One fleet on two gateways whose L2 and fleet state are a real Redis
 * Cluster (3 masters + 3 replicas, infra/redis-cluster.ts): the fleet's
 * scripts and streams stay within their slots, cross-gateway control works
 * over the cluster's pub/sub, and when the master holding the fleet's slot is
 * SIGKILLed, connected bears keep being answered and, once its replica is
 * promoted, provisioning and control across gateways work again by themselves.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROMPTS } from '../../gateway/providers/phrasebook.js';
import { fleetKeys } from '../../gateway/fleet-keys.js';
import type { OpsReport } from '../../gateway/ops/ops-report.js';
import { AnswerSource, type Answer } from '../../protocol/index.js';
import { TEST_KEYS } from '../helpers/cache.js';
import { connectBear, startTestFleet, textUtterance, type TestFleet } from './harness.js';

let fleet: TestFleet;
beforeAll(async () => {
  process.env.TEDDY_CACHE_KEYS = `k1:${TEST_KEYS.k1}`;
  fleet = await startTestFleet(2, {}, 'cluster');
});
afterAll(() => fleet?.stop());

const a = () => fleet.gateways[0]!;
const b = () => fleet.gateways[1]!;
const hello = { type: 'hello' as const, id: 1, fw: '1.0.0', flashBudget: 256 * 1024, clips: [], warmSeq: 0 };

const run = promisify(execFile);
/** The CLI, pointed at the fleet's cluster by flag only (no REDIS_* in its environment). */
const cli = (...args: string[]) => {
  const env = { ...process.env, REDIS_URL: '', REDIS_CLUSTER_NODES: '' };
  return run(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', ...args, '--redis-cluster-nodes', fleet.cluster!.nodes.join(',')], { cwd: process.cwd(), env });
};

/** A node's AOF rewrites and RDB saves since it started (INFO persistence); undefined if it is not running (killed above). */
async function persistenceCounts(node: string): Promise<{ aofRewrites: number; rdbSaves: number } | undefined> {
  const [host, port] = node.split(':');
  const client = new Redis({ host, port: Number(port), lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = await client.info('persistence');
    const count = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? NaN);
    return { aofRewrites: count('aof_rewrites'), rdbSaves: count('rdb_saves') };
  } catch {
    return undefined;
  } finally {
    client.disconnect();
  }
}

async function eventually<T>(attempt: () => Promise<T>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
      await sleep(250);
    }
  }
}

describe('one fleet on a Redis Cluster', () => {
  it('shares registry, L2, warm pushes and takeovers across gateways', async () => {
    const { secret } = await a().gateway.devices.add('cluster-bear');
    const onB = await connectBear(b().gateway.mqttUrl, 'cluster-bear', secret);
    await onB.request(hello);
    await onB.waitForWarms(1);
    expect(await a().gateway.pushWarm('cluster-bear')).toBe(1);
    await onB.waitForWarms(2);

    const first = (await onB.request(textUtterance(2, PROMPTS[3]!))) as Answer;
    const onA = await a().connectFleetBear('cluster-other');
    expect(await onA.request(textUtterance(1, PROMPTS[3]!))).toMatchObject({ type: 'answer', source: AnswerSource.l2, reply: first.reply });

    const older = new Promise<void>((resolve) => onB.client.once('close', () => resolve()));
    await connectBear(a().gateway.mqttUrl, 'cluster-bear', secret);
    await older;
  });

  it('reports on the whole fleet: the operations report reads every process\'s series from the cluster', async () => {
    const token = readFileSync(join(a().dataDir, 'admin-token'), 'utf8').trim();
    // Each process writes its series at the ops interval (5 s by default): wait for both.
    const report = await eventually(async () => {
      const r = (await (await fetch(`${a().gateway.httpUrl}/admin/ops/report`, { headers: { authorization: `Bearer ${token}` } })).json()) as OpsReport;
      expect(r.fleet.notice).toBeUndefined();
      expect(r.fleet.live).toBe(2);
      return r;
    }, 'a fleet report covering both gateways');
    expect(report.fleet.processes.map((p) => p.live)).toEqual([true, true]);
  });

  it("keeps answering through a failover of the fleet's master, then works across gateways again", async () => {
    const bear = await b().connectFleetBear('failover-bear');
    await bear.request(hello);
    await bear.request(textUtterance(2, PROMPTS[4]!));
    const killed = await fleet.cluster!.killMaster({ key: fleetKeys('teddy:').devices });
    expect(killed).toMatch(/^127\.0\.0\.1:\d+$/);
    // While the replica takes over: the connected bear is answered (repeats from L1, new ones computed).
    let id = 10;
    for (const p of [PROMPTS[4]!, PROMPTS[6]!, PROMPTS[4]!]) expect(await bear.request(textUtterance(++id, p), 15_000)).toMatchObject({ type: 'answer' });
    await fleet.cluster!.waitHealthy();
    // After it: a bear enrolled at one gateway is accepted at the other, and control crosses again.
    const { secret } = await eventually(() => a().gateway.devices.add('after-failover'), 'enrol after the failover');
    const late = await eventually(() => connectBear(b().gateway.mqttUrl, 'after-failover', secret), 'connect after the failover');
    await late.request(hello);
    await late.waitForWarms(1);
    await eventually(async () => {
      if ((await a().gateway.pushWarm('after-failover')) !== 1) throw new Error('warm push did not reach the bear');
    }, 'warm across gateways after the failover');
    await late.close();
  });

  it('runs the CLI\'s device, token and erase commands against the cluster by --redis-cluster-nodes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'teddy-cluster-cli-'));
    try {
      const added = JSON.parse((await cli('device', 'add', 'cli-bear', '--json', '--data-dir', dataDir)).stdout) as { id: string };
      expect(added.id).toBe('cli-bear');
      expect(await a().gateway.devices.list()).toContainEqual(expect.objectContaining({ id: 'cli-bear' }));
      const made = JSON.parse((await cli('token', 'create', '--role', 'read', '--json', '--data-dir', dataDir)).stdout) as { id: string };
      expect((await cli('token', 'list', '--data-dir', dataDir)).stdout).toContain(`${made.id}\tread`);
      expect((await cli('token', 'revoke', made.id, '--data-dir', dataDir)).stdout).toBe(`revoked ${made.id}\n`);
      const rewrites = () => Promise.all(fleet.cluster!.nodes.map((node) => persistenceCounts(node)));
      const before = await rewrites();
      expect(before.filter(Boolean).length).toBeGreaterThanOrEqual(5); // six, less the master the failover test killed
      const erased = JSON.parse((await cli('erase', 'cli-bear', '--json', '--data-dir', dataDir)).stdout) as { found: boolean };
      expect(erased.found).toBe(true);
      expect(await a().gateway.devices.list()).not.toContainEqual(expect.objectContaining({ id: 'cli-bear' }));
      // Every node, replicas too, rewrote its append-only file and snapshot, where erased data would linger.
      await eventually(async () => {
        const after = await rewrites();
        after.forEach((counts, i) => {
          const was = before[i];
          if (was && !(counts && counts.aofRewrites > was.aofRewrites && counts.rdbSaves > was.rdbSaves)) throw new Error(`node ${fleet.cluster!.nodes[i]} has not rewritten yet`);
        });
      }, 'every node rewriting its files after the erase');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
