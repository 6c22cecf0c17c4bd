/**
 * Faults under load, with the simulator driving real virtual bears against
 * real gateway processes started through the CLI:
 *   - two gateways on one Redis, one SIGKILLed mid-run: its bears come back
 *     on the other, the requests in flight are sent again with the same
 *     correlation id and answered once, none is lost, and the fleet state
 *     (registry, catalog, per-bear history) is intact on the survivor;
 *   - two gateways on a 3+3 Redis Cluster, the master holding the fleet's
 *     slot SIGKILLed mid-run: no request fails or is lost, and the registry
 *     still admits a bear enrolled before the failover.
 * Bounded: 24 bears, 12 s of traffic each.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { GatewayFleet } from '../../simulator/gateway-fleet.js';
import { DEFAULT_LAUNCH, launchSimulation, type LaunchOptions } from '../../simulator/launch.js';
import { checkReport } from '../../simulator/report.js';
import { connectBear } from '../gateway/harness.js';

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `device add` through the CLI against the fleet's Redis, as an operator enrols a bear. */
async function enrol(fleet: GatewayFleet, id: string): Promise<string> {
  const where = fleet.redis.clusterNodes ? ['--redis-cluster-nodes', fleet.redis.clusterNodes.join(',')] : ['--redis-url', fleet.redis.url!];
  const dataDir = mkdtempSync(join(tmpdir(), 'teddy-failover-cli-'));
  dirs.push(dataDir);
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', 'device', 'add', id, '--json', '--data-dir', dataDir, ...where]);
  return (JSON.parse(stdout) as { secret: string }).secret;
}

const base = (outDir: string): LaunchOptions => ({
  ...DEFAULT_LAUNCH,
  bears: 24,
  durationMs: 12_000,
  seed: 11,
  meanSilenceMs: 1_500,
  meanThinkMs: 400,
  warmPushes: [],
  baselines: false,
  requestTimeoutMs: 5_000,
  outDir,
});

describe('faults while the simulator drives bears', () => {
  it('a SIGKILLed gateway: bears fail over, in-flight requests are resent and answered once, fleet state intact', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'teddy-sim-kill-'));
    dirs.push(outDir);
    let registered = '';
    let after: { stats: { clips: number }; bear: { clipsInHistory: number }; enrolledOk: boolean } | undefined;
    const { report } = await launchSimulation({
      ...base(outDir),
      gateways: 2,
      // Slow enough that the killed gateway has requests in flight.
      providerLatencyMs: 500,
      storms: [{ kind: 'kill-gateway', at: 0.4, fraction: 1 }],
      async onGateways(fleet, phase) {
        if (phase === 'started') return void (registered = await enrol(fleet, 'enrolled-before-kill'));
        const stats = (await fleet.stats()) as { clips: number };
        // A bear the killed gateway (gateway 0) held first: its history is known to the survivor.
        const bear = (await fleet.stats('simbear-11-0')) as { clipsInHistory: number };
        const enrolled = await connectBear(fleet.urls()[1]!, 'enrolled-before-kill', registered);
        await enrolled.close();
        after = { stats, bear, enrolledOk: true };
      },
    });
    expect(checkReport(report)).toEqual([]);
    const [kill] = report.failovers.gatewayKills;
    expect(kill).toMatchObject({ gateway: 0, role: 'gateway' });
    // The bears on the killed gateway lost their connection and came back, all on the other one.
    expect(kill!.bearsDisconnected).toBeGreaterThanOrEqual(report.config.bears / 2 - 2);
    expect(kill!.movedGateway).toBe(kill!.bearsDisconnected);
    expect(report.failovers.bearsOfflineAtEnd).toBe(0);
    // No request lost: every one answered, the ones in flight after a resend with the same id, once.
    expect(report.requests.answered).toBe(report.requests.sent);
    expect(report.requests.errors + report.requests.timeouts + report.requests.unfinished).toBe(0);
    expect(report.requests.duplicateAnswers).toBe(0);
    expect(report.requests.resent).toBeGreaterThan(0);
    expect(report.requests.answeredAfterRetry).toBeGreaterThanOrEqual(report.requests.resent);
    expect(report.gateway.crashes).toEqual([]);
    // Fleet state: the registry, the catalog and the bear's history survived the process.
    expect(after).toMatchObject({ enrolledOk: true });
    expect(after!.stats.clips).toBeGreaterThan(5);
    expect(after!.bear.clipsInHistory).toBeGreaterThan(0);
    // Per-process load: both gateways served, the killed one is marked.
    const killed = report.gateway.processes.filter((p) => p.killed);
    expect(killed).toHaveLength(1);
    expect(report.gateway.processes.filter((p) => p.requests > 0).length).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('a Redis Cluster master failover: no request fails or is lost, the registry still admits its bears', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'teddy-sim-master-'));
    dirs.push(outDir);
    let registered = '';
    let admitted = false;
    const { report } = await launchSimulation({
      ...base(outDir),
      gateways: 2,
      redisCluster: true,
      storms: [{ kind: 'kill-redis-master', at: 0.3, fraction: 1 }],
      async onGateways(fleet, phase) {
        if (phase === 'started') return void (registered = await enrol(fleet, 'enrolled-before-failover'));
        const bear = await connectBear(fleet.urls()[0]!, 'enrolled-before-failover', registered);
        await bear.close();
        admitted = true;
      },
    });
    expect(checkReport(report)).toEqual([]);
    expect(report.config.store).toBe('cluster');
    expect(report.failovers.redisKills).toHaveLength(1);
    expect(report.requests.answered).toBe(report.requests.sent);
    expect(report.requests.errors + report.requests.timeouts + report.requests.unfinished).toBe(0);
    expect(report.failovers.bearsOfflineAtEnd).toBe(0);
    expect(report.failovers.redisKills[0]!.after.answers).toBeGreaterThan(0);
    expect(admitted).toBe(true);
  }, 180_000);
});
