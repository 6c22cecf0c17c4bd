/**
 * How `npm start` (and so `./teddy start`) runs the gateway: compiled
 * JavaScript (`npm run build`, tsc into dist/) under the V8 flags written in
 * package.json's `start` script. Tools that start a gateway child to measure
 * it (the simulator, the benchmarks) launch it exactly so, reading the flags
 * from that one place; tsx (`npm run start:dev`) is for development.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const COMPILED_CLI = 'dist/gateway/cli.js';

/** The node flags of package.json's `start` script (`node <flags> dist/gateway/cli.js start`). */
export function productionNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.trim().split(/\s+/);
  const cli = words.indexOf(COMPILED_CLI);
  if (words[0] !== 'node' || cli < 0) throw new Error(`package.json's start script is not "node [flags] ${COMPILED_CLI} start": ${pkg.scripts.start}`);
  return words.slice(1, cli);
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
