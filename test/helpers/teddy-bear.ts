/**
 * The host build of the bear's firmware (`firmware/build/teddy-bear`) as a
 * test drives it: built on demand, commands on stdin, one JSON event per line
 * on stdout. Shared by the firmware end-to-end test and the simulator's
 * flash-model-vs-firmware check.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const root = resolve(import.meta.dirname, '../..');
const buildDir = join(root, 'firmware/build');
export const binary = join(buildDir, 'teddy-bear');

/** Builds teddy-bear unless it is there (scripts/firmware-test.sh builds it in CI). */
export function ensureBinary(): void {
  if (!existsSync(join(buildDir, 'CMakeCache.txt'))) {
    execFileSync('cmake', ['-S', join(root, 'firmware'), '-B', buildDir, '-DCMAKE_BUILD_TYPE=Debug'], { stdio: 'inherit' });
  }
  execFileSync('cmake', ['--build', buildDir, '--target', 'teddy-bear', '-j2'], { stdio: 'inherit' });
}

export type BearEvent = { event: string } & Record<string, unknown>;

/** The bear process: JSON events from stdout, commands to stdin. */
export class Bear {
  readonly events: BearEvent[] = [];
  readonly stderr: string[] = [];
  private waiters: { match: (e: BearEvent) => boolean; resolve: (e: BearEvent) => void }[] = [];
  private seen = 0;
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(args: string[]) {
    this.child = spawn(binary, args);
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const event = JSON.parse(line) as BearEvent;
      this.events.push(event);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(event)) return true;
        w.resolve(event);
        return false;
      });
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => this.stderr.push(line));
  }

  send(command: string): void {
    this.child.stdin.write(`${command}\n`);
  }

  /** The next event (after the last one waited for) that matches. */
  next(match: (e: BearEvent) => boolean, what: string, timeoutMs = 20_000): Promise<BearEvent> {
    const from = this.seen;
    const found = this.events.findIndex((e, i) => i >= from && match(e));
    if (found >= 0) {
      this.seen = found + 1;
      return Promise.resolve(this.events[found]!);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no ${what} from the bear within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr.join('\n')}`));
      }, timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          this.seen = this.events.length;
          resolve(e);
        },
      });
    });
  }

  async terminate(): Promise<number | null> {
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.child.kill('SIGTERM');
    return exited;
  }

  async quit(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((r) => this.child.once('exit', (code) => r(code)));
    this.send('quit');
    return exited;
  }
}
