/**
 * A real Redis Cluster on this machine, for tests, benchmarks and the
 * simulator: `masters × (1 + replicasPerMaster)` redis-server processes
 * (./redis-server.ts) with `--cluster-enabled yes`, each on its own free
 * loopback port and cluster-bus port with its own directory under one
 * temporary directory, joined by `redis-cli --cluster create`. Why a real
 * one: slot routing, MOVED/ASK, sharded pub/sub and replica promotion are
 * exactly what a single Redis does not exercise.
 *
 *   const cluster = await startRedisCluster();        // 3 masters + 3 replicas
 *   createCache({ l2ClusterNodes: cluster.urls });
 *   await cluster.killMaster({ key: l2Key });         // SIGKILL; its replica takes over
 *   await cluster.waitHealthy();                      // … once it has
 *   await cluster.stop();                             // stops exactly what it started
 *
 * `cluster-node-timeout` is short (default 1 s) so a killed master is failed
 * over within a few seconds. With `tls`, every node serves TLS only, and the
 * cluster bus and replication run over TLS too.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { startRedisServer, type RedisServer, type RedisTlsFiles } from './redis-server.js';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Default 3. */
  readonly masters?: number;
  /** Default 1. */
  readonly replicasPerMaster?: number;
  /** `cluster-node-timeout`: how long a master must be unreachable before its replica takes over. Default 1000 ms. */
  readonly nodeTimeoutMs?: number;
  /** Serve TLS only, on every port (client, cluster bus, replication). */
  readonly tls?: RedisTlsFiles;
}

/** Which master `killMaster` kills: the n-th (by lowest slot), or the one serving a slot or a key. */
export type MasterTarget = number | { readonly slot: number } | { readonly key: string };

export interface RedisCluster {
  /** `127.0.0.1:port` of every node started (the form `REDIS_CLUSTER_NODES` takes, comma-joined). */
  readonly nodes: readonly string[];
  /** The same as `redis://` (or `rediss://` with TLS) URLs (the form `l2ClusterNodes` takes). */
  readonly urls: readonly string[];
  /** SIGKILLs a master, as a crash would (no restart); resolves to its `host:port`. */
  killMaster(target: MasterTarget): Promise<string>;
  /** Resolves once every live node reports `cluster_state:ok` and every replica is linked to its master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node still running and removes the directory. */
  stop(): Promise<void>;
}

const HEALTHY_TIMEOUT_MS = 30_000;

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicasPerMaster ?? 1;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const tls = options.tls;
  const dir = await mkdtemp(join(tmpdir(), 'teddy-redis-cluster-'));
  const servers: RedisServer[] = [];
  const dead = new Set<RedisServer>();

  const cli = async (args: readonly string[], port?: number): Promise<string> => {
    const tlsArgs = tls ? ['--tls', '--cacert', tls.caFile] : [];
    const target = port === undefined ? [] : ['-h', '127.0.0.1', '-p', String(port)];
    try {
      const { stdout } = await run('redis-cli', [...tlsArgs, ...target, ...args], { timeout: 10_000 });
      return stdout;
    } catch (err) {
      const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
      throw new Error(`redis-cli ${args.join(' ')} failed: ${`${stderr}\n${stdout}`.trim().slice(-1000)}`);
    }
  };
  const live = () => servers.filter((s) => !dead.has(s));

  /** Slot-owning masters not marked failed, by lowest slot, as the node on `port` sees them. */
  const mastersSeenBy = async (port: number): Promise<{ port: number; slots: [number, number][] }[]> => {
    const text = await cli(['cluster', 'nodes'], port);
    return text
      .split('\n')
      .map((line) => line.trim().split(' '))
      .filter((f) => f.length >= 8 && f[2]!.includes('master') && !f[2]!.includes('fail'))
      .map((f) => ({
        port: Number(f[1]!.split('@')[0]!.split(':').pop()),
        slots: f
          .slice(8)
          .filter((r) => !r.startsWith('[')) // slots being migrated
          .map((r) => {
            const [lo, hi = lo] = r.split('-');
            return [Number(lo), Number(hi)] as [number, number];
          }),
      }))
      .filter((m) => m.slots.length > 0)
      .sort((a, b) => a.slots[0]![0] - b.slots[0]![0]);
  };
  /** Healthy: state ok, replicas linked, and every slot owner a node still alive (a killed one is noticed only after the node timeout). */
  const healthyAt = async (s: RedisServer): Promise<boolean> => {
    const [info, repl, owners] = await Promise.all([cli(['cluster', 'info'], s.port), cli(['info', 'replication'], s.port), mastersSeenBy(s.port)]);
    const alive = new Set(live().map((n) => n.port));
    return (
      info.includes('cluster_state:ok') &&
      (!repl.includes('role:slave') || repl.includes('master_link_status:up')) &&
      owners.every((m) => alive.has(m.port))
    );
  };

  const cluster: RedisCluster = {
    get nodes() {
      return servers.map((s) => `127.0.0.1:${s.port}`);
    },
    get urls() {
      return servers.map((s) => s.url);
    },
    async killMaster(target) {
      const all = await mastersSeenBy(live()[0]!.port);
      let port: number | undefined;
      if (typeof target === 'number') {
        port = all[target]?.port;
      } else {
        const slot = 'slot' in target ? target.slot : Number((await cli(['cluster', 'keyslot', target.key], live()[0]!.port)).trim());
        port = all.find((m) => m.slots.some(([lo, hi]) => slot >= lo && slot <= hi))?.port;
      }
      const server = servers.find((s) => s.port === port && !dead.has(s));
      if (!server) throw new Error(`no live master for ${JSON.stringify(target)}`);
      dead.add(server);
      await server.kill();
      return `127.0.0.1:${server.port}`;
    },
    async waitHealthy(timeoutMs = HEALTHY_TIMEOUT_MS) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        try {
          if ((await Promise.all(live().map(healthyAt))).every(Boolean)) return;
          last = 'not every node reports a healthy cluster yet';
        } catch (err) {
          last = (err as Error).message;
        }
        if (Date.now() > deadline) throw new Error(`Redis cluster not healthy within ${timeoutMs} ms: ${last}`);
        await sleep(100);
      }
    },
    async stop() {
      process.off('exit', killLeft);
      await Promise.all(servers.map((s) => s.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  // Six servers outlive a parent that exits without stop() (an uncaught error, process.exit):
  // they are killed on the way out. (A SIGKILLed parent cannot do this; the suite's leftover
  // check catches those.)
  const killLeft = () => {
    for (const s of servers) if (s.pid !== undefined) process.kill(s.pid, 'SIGKILL');
  };
  process.once('exit', killLeft);

  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      const [port, busPort] = [await freePort(), await freePort()];
      const args = [
        ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort)],
        ...['--cluster-node-timeout', String(nodeTimeoutMs)],
        // Replicas sync at once instead of after the default 5 s (a master waits for more replicas to batch).
        ...['--repl-diskless-sync-delay', '0'],
        ...(tls ? ['--tls-cluster', 'yes', '--tls-replication', 'yes'] : []),
      ];
      servers.push(await startRedisServer({ port, dataDir: join(dir, `node-${i}`), tls, args }));
    }
    await cli(['--cluster', 'create', ...cluster.nodes, '--cluster-replicas', String(replicas), '--cluster-yes']);
    await cluster.waitHealthy();
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
