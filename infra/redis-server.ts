/**
 * A redis-server child process on a free loopback port with its own data
 * directory. The cache's embedded default runs on one (supervised: restarted
 * if it dies), tests start their own so they can kill and restart it, and
 * the cluster launcher (./redis-cluster.ts) runs its nodes on it. With `tls`
 * the server listens for TLS only (`--port 0 --tls-port`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readlink, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { freePort } from './free-port.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** PEM files of a TLS-serving redis-server. */
export interface RedisTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** The CA redis-server trusts for its peers (cluster bus, replication); clients are not asked for certificates. */
  readonly caFile: string;
  /**
   * What the server presents when it connects out (to other cluster nodes, to its master), which
   * they verify; default `certFile`, which must then also allow client authentication.
   */
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
}

export interface RedisServerOptions {
  /** Port to listen on; default: a free one chosen at start. */
  readonly port?: number;
  /** Working directory for the server; default: a fresh temporary directory, removed on stop. */
  readonly dataDir?: string;
  /** Restart the server (same port) when it exits unexpectedly. */
  readonly supervise?: boolean;
  /** The redis-server binary; default `redis-server` on PATH. */
  readonly bin?: string;
  /** Called when a supervised server died and was restarted (or failed to). */
  readonly onRestart?: (error?: Error) => void;
  /** Serve TLS only, on `port`, with these files. */
  readonly tls?: RedisTlsFiles;
  /** More `--name value` arguments for redis-server (e.g. cluster mode). */
  readonly args?: readonly string[];
}

export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:port, or rediss:// with `tls`. */
  readonly url: string;
  readonly pid: number | undefined;
  /** SIGKILL, as a crash would; no restart even when supervised. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after kill or stop). */
  restart(): Promise<void>;
  /** Graceful stop; removes the data directory if this module created it. */
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const PID_FILE = 'redis-server.pid';

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const ownDir = options.dataDir === undefined;
  const dir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'teddy-redis-')));
  await mkdir(dir, { recursive: true });
  const bin = options.bin ?? 'redis-server';
  const pidFile = join(dir, PID_FILE);
  await killStale(dir);
  let child: ChildProcess | undefined;
  let stopping = false;

  const launch = async (): Promise<void> => {
    const proc = spawn(
      bin,
      [
        ...listenArgs(port, options.tls),
        ...['--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--pidfile', pidFile],
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const spawned = new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve);
      proc.once('error', reject);
    });
    await spawned;
    proc.once('exit', (code, signal) => {
      if (child !== proc) return;
      child = undefined;
      if (stopping || !options.supervise) return;
      // Supervised: a crash is answered with a restart on the same port.
      launch().then(
        () => options.onRestart?.(),
        (err: Error) => options.onRestart?.(new Error(`redis-server exited (${code ?? signal}) and did not restart: ${err.message}`)),
      );
    });
    try {
      await waitForPing(port, options.tls !== undefined, START_TIMEOUT_MS, () => child !== proc);
    } catch (err) {
      proc.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${port}: ${(err as Error).message}${stderr ? `\n${stderr}` : ''}`);
    }
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  };

  await launch();
  return {
    port,
    url: `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    kill: () => terminate('SIGKILL'),
    async restart() {
      await terminate('SIGTERM');
      await launch();
    },
    async stop() {
      stopping = true;
      await terminate('SIGTERM');
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function listenArgs(port: number, tls: RedisTlsFiles | undefined): string[] {
  if (!tls) return ['--port', String(port)];
  return [
    ...['--port', '0', '--tls-port', String(port)],
    ...['--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile, '--tls-auth-clients', 'no'],
    ...(tls.clientCertFile ? ['--tls-client-cert-file', tls.clientCertFile] : []),
    ...(tls.clientKeyFile ? ['--tls-client-key-file', tls.clientKeyFile] : []),
  ];
}

/** The pid of a redis-server working in `dir` (by the pid file it keeps there), if one is running. */
export async function runningServerIn(dir: string): Promise<number | undefined> {
  const pid = Number((await readFile(join(dir, PID_FILE), 'utf8').catch(() => '')).trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  // The pid must still be a redis-server working in this dir (pids get reused).
  const [cmdline, cwd] = await Promise.all([
    readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''),
    readlink(`/proc/${pid}/cwd`).catch(() => ''),
  ]);
  return cmdline.includes('redis-server') && cwd === resolve(dir) ? pid : undefined;
}

/**
 * A redis-server outlives a parent that was killed outright (SIGKILL, OOM): nothing tells it to go.
 * The next start on the same data dir finds it by its pid file and stops it, so crashes do not pile
 * up orphans.
 */
async function killStale(dir: string): Promise<void> {
  const pid = await runningServerIn(dir);
  if (pid === undefined) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return; // already gone
  }
  // Gone before a new server opens the same files.
  for (let i = 0; i < 200 && (await runningServerIn(dir)) === pid; i++) await sleep(10);
}

/** Polls with a raw PING until the server answers +PONG (no client library needed for this). */
async function waitForPing(port: number, tls: boolean, timeoutMs: number, abandoned: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (abandoned()) throw new Error('process exited');
    if (await ping(port, tls)) return;
    if (Date.now() > deadline) throw new Error(`no PONG within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/**
 * One PING. Over TLS the server's certificate is not checked: this only asks whether the
 * process we started is up yet, and sends nothing but PING.
 */
function ping(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket: Socket = tls
      ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => socket.write('PING\r\n'))
      : connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
