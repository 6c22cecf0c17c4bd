/**
 * The SDK as the package publishes it: the file package.json `exports` names
 * (the compiled dist/sdk/index.js, which the caller builds first with
 * infra/production-launch.ts's buildCompiled, once, as a bench that also
 * launches the compiled gateway does anyway). Benchmarks measure this, as a
 * user runs it, not the TypeScript source under tsx: tsx keeps every
 * function's name by wrapping each closure as it is created, which cost the
 * source ~15–25 % of its L2 throughput here (measured), while the peers run
 * as the plain JavaScript they ship.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../infra/production-launch.js';
import type * as Sdk from '../sdk/index.js';

export async function importPublishedSdk(): Promise<typeof Sdk> {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { exports: { '.': { import: string } } };
  return (await import(pathToFileURL(join(REPO_ROOT, pkg.exports['.'].import)).href)) as typeof Sdk;
}
