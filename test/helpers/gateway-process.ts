/**
 * A real `teddycache start --ready-json` process on free ports, as the CLI
 * tests start one: its ready line parsed (and every later line kept), and
 * its stderr kept for the message if it exits before it is ready or is not
 * ready in time. The caller stops it (and kills what is left at the end of
 * its file).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/** What `start --ready-json` prints once it listens. */
export interface ReadyLine {
  event: string;
  pid: number;
  mqttUrl: string;
  httpUrl: string;
  mqttsUrl: string;
  httpsUrl: string;
  caFile: string;
  /** With `--workers N`: the workers' pids. */
  workers?: number[];
}

export interface GatewayProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Every line it printed on stdout so far: the ready line, then any other. */
  readonly lines: readonly string[];
  /** The ready line; rejects, with the process's stderr, if it exits first or is not ready within `readyMs`. */
  readonly ready: Promise<ReadyLine>;
}

/** `start --ready-json` with every port 0 and `args`, run from the checkout with tsx. */
export function startGatewayProcess(args: readonly string[], env: NodeJS.ProcessEnv = process.env, readyMs = 60_000): GatewayProcess {
  const child = spawn(process.execPath, [
    '--import', 'tsx', 'gateway/cli.ts', 'start', '--ready-json', '--mqtt-port', '0', '--http-port', '0', '--mqtts-port', '0', '--https-port', '0', ...args,
  ], { cwd: process.cwd(), env });
  const stderr: string[] = [];
  child.stderr.on('data', (c: Buffer) => stderr.push(c.toString()));
  const lines: string[] = [];
  const ready = new Promise<ReadyLine>((resolve, reject) => {
    const late = setTimeout(() => reject(new Error(`gateway not ready within ${readyMs} ms: ${stderr.join('').slice(-2000)}`)), readyMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      if (lines.length > 1) return;
      clearTimeout(late);
      resolve(JSON.parse(line) as ReadyLine);
    });
    child.once('exit', (code) => {
      clearTimeout(late);
      reject(new Error(`gateway exited ${code} before ready: ${stderr.join('')}`));
    });
  });
  return { child, lines, ready };
}
