/**
 * The gateway under test as a child process, started through its own CLI
 * (`start --ready-json`) as `npm start` runs it — compiled, under the V8 flags
 * of package.json's start script (infra/production-launch.ts) — or from the
 * TypeScript sources (tsx) for tests, so the simulator measures exactly what
 * an operator runs, in its own process: its CPU and RSS are sampled
 * from /proc without the simulator's thousands of MQTT clients mixed in.
 * A restart (for a reconnect storm) stops it with SIGTERM and starts it again
 * on the same ports and data directory. A kill (a crash the simulator causes)
 * SIGKILLs one process that serves bears: the gateway itself, which is then
 * started again on the same ports after a pause, or, with `--workers`, one of
 * its workers, which its primary replaces. CPU and RSS are sampled per
 * serving process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { compiledCliArgs, productionEnv, REPO_ROOT } from '../infra/production-launch.js';
import { combineGatewayCounters, NO_GATEWAY_COUNTERS, scrapeGatewayMetrics, type GatewayCounters } from './gateway-metrics.js';

const SCRAPE_EVERY_TICKS = 3;
/** Linux reports CPU times in /proc/<pid>/stat in clock ticks; USER_HZ is 100 on every mainstream arch. */
const CLOCK_TICKS_PER_S = 100;

export interface GatewayProcessOptions {
  dataDir: string;
  fleetKey: string;
  redisUrl?: string;
  /** Redis Cluster nodes (`host:port`) instead of `redisUrl`. */
  redisClusterNodes?: readonly string[];
  /** Environment for the gateway (added to the simulator's): shared keys of a fleet of gateways. */
  env?: Record<string, string>;
  providerLatencyMs?: number;
  /** Extra CLI arguments for `start`. */
  extraArgs?: string[];
  /**
   * 'source' (default): tsx on the TypeScript sources (tests: no build needed, no race between
   * test files); 'production': the compiled CLI (dist/, built by the caller) under `nodeFlags`
   * or package.json's start flags, as `npm start` runs it (the simulator's own runs).
   */
  form?: 'production' | 'source';
  /** Node.js flags for the gateway process instead of the production ones, e.g. ['--max-semi-space-size=1']. */
  nodeFlags?: string[];
  /** Where the gateway's stderr (its logs) goes. */
  logFile?: string;
  readyTimeoutMs?: number;
}

export interface ResourceSample {
  /** Seconds since sampling began. */
  t: number;
  /** CPU used since the previous sample, percent of one core. */
  cpuPct: number;
  rssMB: number;
}

export interface GatewayProcess {
  readonly mqttUrl: string;
  readonly httpUrl: string;
  /** The TLS listeners and the CA file that verifies them. */
  readonly mqttsUrl: string;
  readonly httpsUrl: string;
  readonly caFile: string;
  readonly pid: number;
  readonly samples: ResourceSample[];
  /** Highest RSS seen by the kernel (VmHWM) across all incarnations, MB. */
  readonly peakRssMB: number;
  readonly restarts: number;
  /** Times the gateway exited without being asked to (a crash), seconds since start. */
  readonly crashes: { t: number; code: number | null; signal: string | null }[];
  /** Every process that served bears (the gateway, or its workers), with its samples. */
  readonly processes: ReadonlyMap<number, ServingProcess>;
  /** The processes serving bears now: the gateway, or its workers. */
  servingPids(): number[];
  /**
   * SIGKILLs the `n`-th serving process (modulo their number): a worker, which the primary
   * replaces, or the gateway itself, started again on the same ports `reviveAfterMs` later.
   */
  kill(n: number, reviveAfterMs: number): Promise<{ pid: number; role: ServingRole }>;
  /**
   * The gateway's Prometheus counters since it was first started, summed over
   * restarts; undefined if its metrics endpoint does not answer.
   */
  counters(): Promise<GatewayCounters | undefined>;
  /** Runs the CLI's `warm` command against this gateway: push a warm manifest to every bear. */
  pushWarm(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the gateway (idempotent). */
  stop(): Promise<void>;
}

export type ServingRole = 'gateway' | 'worker';

export interface ServingProcess {
  readonly pid: number;
  readonly role: ServingRole;
  readonly samples: ResourceSample[];
  peakRssMB: number;
}

interface Ready {
  event: 'ready';
  mqttUrl: string;
  httpUrl: string;
  mqttsUrl: string;
  httpsUrl: string;
  caFile: string;
  pid: number;
  /** With --workers: the worker pids. */
  workers?: number[];
}

export async function startGatewayProcess(o: GatewayProcessOptions): Promise<GatewayProcess> {
  const log: WriteStream | undefined = o.logFile ? createWriteStream(o.logFile) : undefined;
  const baseArgs = ['--data-dir', o.dataDir, '--fleet-key', o.fleetKey];
  if (o.redisUrl) baseArgs.push('--redis-url', o.redisUrl);
  if (o.redisClusterNodes?.length) baseArgs.push('--redis-cluster-nodes', o.redisClusterNodes.join(','));
  if (o.providerLatencyMs !== undefined) baseArgs.push('--provider-latency-ms', String(o.providerLatencyMs));
  baseArgs.push(...(o.extraArgs ?? []));

  let child: ChildProcess;
  let ready: Ready;
  ({ child, ready } = await launch(['--mqtt-port', '0', '--http-port', '0', '--mqtts-port', '0', '--https-port', '0', ...baseArgs], o, log));
  // Later incarnations reuse the first one's ports, so bears reconnect to the same address.
  const ports = [
    '--mqtt-port', new URL(ready.mqttUrl).port, '--http-port', new URL(ready.httpUrl).port,
    '--mqtts-port', new URL(ready.mqttsUrl).port, '--https-port', new URL(ready.httpsUrl).port,
  ];

  const samples: ResourceSample[] = [];
  let peakRssMB = 0;
  let restarts = 0;
  const started = Date.now();
  let last = { at: Date.now(), ticks: cpuTicks(ready.pid) ?? 0, pid: ready.pid };
  const processes = new Map<number, ServingProcess & { lastTicks: number; lastAt: number }>();
  const servingPids = (): number[] => (ready.workers ? childWorkers(ready.pid) : [ready.pid]);
  const sampleServing = (now: number): void => {
    for (const pid of servingPids()) {
      const ticks = cpuTicks(pid);
      const status = procStatus(pid);
      if (ticks === undefined || !status) continue;
      let p = processes.get(pid);
      if (!p) {
        p = { pid, role: ready.workers ? 'worker' : 'gateway', samples: [], peakRssMB: 0, lastTicks: ticks, lastAt: now };
        processes.set(pid, p);
        continue;
      }
      p.samples.push({ t: (now - started) / 1000, cpuPct: (100 * (ticks - p.lastTicks)) / CLOCK_TICKS_PER_S / ((now - p.lastAt) / 1000), rssMB: status.rssMB });
      p.peakRssMB = Math.max(p.peakRssMB, status.hwmMB);
      p.lastTicks = ticks;
      p.lastAt = now;
    }
  };
  // Counters are scraped every few seconds too, so a killed incarnation's are not all lost.
  let lastScrape: GatewayCounters | undefined;
  let scraping = false;
  let ticksSinceScrape = 0;
  const sampler = setInterval(() => {
    const now = Date.now();
    sampleServing(now);
    if (++ticksSinceScrape >= SCRAPE_EVERY_TICKS && !scraping) {
      ticksSinceScrape = 0;
      scraping = true;
      void scrapeGatewayMetrics(ready.httpUrl).then((c) => {
        if (c) lastScrape = c;
        scraping = false;
      });
    }
    const ticks = cpuTicks(ready.pid);
    const status = procStatus(ready.pid);
    if (ticks === undefined || !status) return;
    const used = last.pid === ready.pid ? ticks - last.ticks : ticks;
    samples.push({ t: (now - started) / 1000, cpuPct: (100 * used) / CLOCK_TICKS_PER_S / ((now - last.at) / 1000), rssMB: status.rssMB });
    peakRssMB = Math.max(peakRssMB, status.hwmMB);
    last = { at: now, ticks, pid: ready.pid };
  }, 1000);
  sampler.unref();

  let stopped = false;
  const crashes: GatewayProcess['crashes'] = [];
  // An exit nobody asked for is a crash.
  let stopping = false;
  const watch = (c: ChildProcess): void => {
    c.once('exit', (code, signal) => {
      if (!stopping) crashes.push({ t: (Date.now() - started) / 1000, code, signal });
    });
  };
  watch(child);
  // Counters of earlier incarnations, scraped just before each was stopped.
  let carried: GatewayCounters | undefined = NO_GATEWAY_COUNTERS;
  const stopChild = async (): Promise<void> => {
    const status = procStatus(ready.pid);
    if (status) peakRssMB = Math.max(peakRssMB, status.hwmMB);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const last = await scrapeGatewayMetrics(ready.httpUrl);
    carried = carried && last ? combineGatewayCounters(carried, last, 1) : undefined;
    lastScrape = undefined;
    stopping = true;
    await terminate(child);
  };

  return {
    get mqttUrl() {
      return ready.mqttUrl;
    },
    get httpUrl() {
      return ready.httpUrl;
    },
    get mqttsUrl() {
      return ready.mqttsUrl;
    },
    get httpsUrl() {
      return ready.httpsUrl;
    },
    get caFile() {
      return ready.caFile;
    },
    get pid() {
      return ready.pid;
    },
    samples,
    get peakRssMB() {
      return peakRssMB;
    },
    crashes,
    get restarts() {
      return restarts;
    },
    processes,
    servingPids,
    async kill(n, reviveAfterMs) {
      const pids = servingPids();
      const pid = pids[n % pids.length]!;
      const role: ServingRole = ready.workers ? 'worker' : 'gateway';
      if (role === 'worker') {
        process.kill(pid, 'SIGKILL');
        return { pid, role };
      }
      // The gateway itself: its counters since the last scrape die with it.
      carried = carried && lastScrape ? combineGatewayCounters(carried, lastScrape, 1) : undefined;
      lastScrape = undefined;
      stopping = true;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
      await new Promise((r) => setTimeout(r, reviveAfterMs));
      if (!stopped) {
        ({ child, ready } = await launch([...ports, ...baseArgs], o, log));
        stopping = false;
        watch(child);
        restarts++;
      }
      return { pid, role };
    },
    async counters() {
      const now = await scrapeGatewayMetrics(ready.httpUrl);
      if (now) lastScrape = now;
      return carried && now ? combineGatewayCounters(carried, now, 1) : undefined;
    },
    async pushWarm() {
      await runCli(['warm', '--data-dir', o.dataDir], o);
    },
    async restart() {
      await stopChild();
      ({ child, ready } = await launch([...ports, ...baseArgs], o, log));
      stopping = false;
      watch(child);
      restarts++;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sampler);
      await stopChild();
      log?.end();
    },
  };
}

function cliArgs(args: string[], o: GatewayProcessOptions): string[] {
  if (o.form === 'production') return compiledCliArgs(args, o.nodeFlags);
  return [...(o.nodeFlags ?? []), '--import', 'tsx', 'gateway/cli.ts', ...args];
}

async function launch(args: string[], o: GatewayProcessOptions, log: WriteStream | undefined): Promise<{ child: ChildProcess; ready: Ready }> {
  const timeoutMs = o.readyTimeoutMs ?? 60_000;
  const child = spawn(process.execPath, cliArgs(['start', ...args, '--ready-json'], o), {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...(o.form === 'production' ? productionEnv() : process.env), ...o.env },
  });
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    log?.write(chunk);
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout! });
  try {
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway not ready within ${timeoutMs} ms`)), timeoutMs);
      child.once('exit', (code, signal) => reject(new Error(`gateway exited (${code ?? signal}) before ready`)));
      lines.on('line', (line) => {
        try {
          const msg = JSON.parse(line) as Ready;
          if (msg.event !== 'ready') return;
          clearTimeout(timer);
          resolve(msg);
        } catch {
          // not the ready line
        }
      });
    });
    return { child, ready };
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n--- gateway stderr ---\n${stderrTail}`);
  }
}

function runCli(args: string[], o: GatewayProcessOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    // A one-shot command: the process's V8 flags do not matter, the form (compiled or source) does.
    const child = spawn(process.execPath, cliArgs(args, { ...o, nodeFlags: [] }), { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`gateway ${args[0]} exited ${code}: ${stderr.slice(-2000)}`))));
  });
}

async function terminate(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The gateway workers of a `--workers` primary: its node children (not its embedded redis-server). */
function childWorkers(primary: number): number[] {
  try {
    return readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((pid) => {
        try {
          return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server');
        } catch {
          return false; // gone meanwhile
        }
      });
  } catch {
    return [];
  }
}

/** utime + stime of a process, in clock ticks; undefined if it is gone. */
export function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Current and peak resident set size of a process, MB; undefined if it is gone. */
export function procStatus(pid: number): { rssMB: number; hwmMB: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}
