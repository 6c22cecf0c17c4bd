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
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../infra/production-launch.js';
import type * as Sdk from '../sdk/index.js';
import type * as SdkL2 from '../sdk/l2.js';
import type * as SdkL2Scripts from '../sdk/l2-scripts.js';

/** The file package.json `exports` publishes as the SDK. */
function publishedEntry(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { exports: { '.': { import: string } } };
  return join(REPO_ROOT, pkg.exports['.'].import);
}

export async function importPublishedSdk(): Promise<typeof Sdk> {
  return (await import(pathToFileURL(publishedEntry()).href)) as typeof Sdk;
}

/**
 * The SDK's own L2 layer from the same build (its Redis client, tick batching and scripts), for
 * measuring what the client costs with none of the cache around it.
 */
export async function importPublishedL2(): Promise<typeof SdkL2 & typeof SdkL2Scripts> {
  const dir = dirname(publishedEntry());
  const [l2, scripts] = await Promise.all([import(pathToFileURL(join(dir, 'l2.js')).href), import(pathToFileURL(join(dir, 'l2-scripts.js')).href)]);
  return { ...(l2 as typeof SdkL2), ...(scripts as typeof SdkL2Scripts) };
}
