/**
 * A benchmark server as a child process that announces itself with one JSON
 * line containing `"event":"ready"` on stdout; stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ReadyChild<R> {
  readonly child: ChildProcess;
  readonly ready: R;
  stop(): Promise<void>;
}

export async function startReadyChild<R>(command: string, args: string[], timeoutMs = 60_000, env = process.env): Promise<ReadyChild<R>> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const ready = await new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} not ready within ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`${command} exited ${code} before ready: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('"ready"')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line) as R);
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    child,
    ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
