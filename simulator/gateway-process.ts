/**
 * The gateway under test as a child process, started through its own CLI
 * (`start --ready-json`) as `npm start` runs it — compiled, under the V8 flags
 * of package.json's start script (infra/production-launch.ts) — or from the
 * TypeScript sources (tsx) for tests, so the simulator measures exactly what
 * an operator runs, in its own process: its CPU and RSS are sampled
 * from /proc without the simulator's thousands of MQTT clients mixed in.
 * A restart (for a reconnect storm) stops it with SIGTERM and starts it again
 * on the same ports and data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { compiledCliArgs, REPO_ROOT } from '../infra/production-launch.js';
import { combineGatewayCounters, NO_GATEWAY_COUNTERS, scrapeGatewayMetrics, type GatewayCounters } from './gateway-metrics.js';

/** Linux reports CPU times in /proc/<pid>/stat in clock ticks; USER_HZ is 100 on every mainstream arch. */
const CLOCK_TICKS_PER_S = 100;

export interface GatewayProcessOptions {
  dataDir: string;
  fleetKey: string;
  redisUrl?: string;
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

interface Ready {
  event: 'ready';
  mqttUrl: string;
  httpUrl: string;
  mqttsUrl: string;
  httpsUrl: string;
  caFile: string;
  pid: number;
}

export async function startGatewayProcess(o: GatewayProcessOptions): Promise<GatewayProcess> {
  const log: WriteStream | undefined = o.logFile ? createWriteStream(o.logFile) : undefined;
  const baseArgs = ['--data-dir', o.dataDir, '--fleet-key', o.fleetKey];
  if (o.redisUrl) baseArgs.push('--redis-url', o.redisUrl);
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
  const sampler = setInterval(() => {
    const now = Date.now();
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
    const last = child.exitCode === null ? await scrapeGatewayMetrics(ready.httpUrl) : undefined;
    carried = carried && last ? combineGatewayCounters(carried, last, 1) : undefined;
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
    async counters() {
      const now = await scrapeGatewayMetrics(ready.httpUrl);
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
  const child = spawn(process.execPath, cliArgs(['start', ...args, '--ready-json'], o), { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
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
