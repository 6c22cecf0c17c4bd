/**
 * How `npm start` (and so `./teddy start`) runs the gateway: compiled
 * JavaScript (`npm run build`, tsc into dist/) under the environment and V8
 * flags written in package.json's `start` script. Tools that start a gateway
 * child to measure it (the simulator, the benchmarks) launch it exactly so,
 * reading both from that one place; tsx (`npm run start:dev`) is for
 * development.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const COMPILED_CLI = 'dist/gateway/cli.js';

/**
 * package.json's `start` script, `[NAME=value ...] exec node [flags] dist/gateway/cli.js start`, in
 * parts. `exec`: the shell npm runs the script in becomes node, so the signal a service manager
 * sends npm reaches the gateway (npm passes it to its child; a shell in between would not).
 */
function startScript(): { env: Record<string, string>; nodeFlags: string[] } {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.trim().split(/\s+/);
  const node = words.indexOf('node');
  const cli = words.indexOf(COMPILED_CLI);
  const assignments = words.slice(0, Math.max(node - 1, 0)).map((w) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(w));
  if (node < 1 || words[node - 1] !== 'exec' || cli < node || assignments.some((m) => !m)) {
    throw new Error(`package.json's start script is not "[NAME=value ...] exec node [flags] ${COMPILED_CLI} start": ${pkg.scripts.start}`);
  }
  return { env: Object.fromEntries(assignments.map((m) => [m![1]!, m![2]!])), nodeFlags: words.slice(node + 1, cli) };
}

/** The node flags of package.json's `start` script. */
export function productionNodeFlags(): string[] {
  return startScript().nodeFlags;
}

/** The variables package.json's `start` script sets (MALLOC_ARENA_MAX). */
export function productionEnvVars(): Record<string, string> {
  return startScript().env;
}

/** The environment `npm start` runs the gateway in: `base` with the start script's variables. */
export function productionEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, ...productionEnvVars() };
}

/** Compiles dist/ (incremental); throws with tsc's output if it fails. */
export function buildCompiled(): void {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`npm run build failed:\n${tsc.stdout}${tsc.stderr}`);
}

/** node's arguments for the compiled CLI with `args`, under these flags (default: production's). */
export function compiledCliArgs(args: readonly string[], nodeFlags: readonly string[] = productionNodeFlags()): string[] {
  return [...nodeFlags, COMPILED_CLI, ...args];
}
