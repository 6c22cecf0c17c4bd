/**
 * Secrets the gateway generates once and keeps in its data directory (the
 * URL-signing key, the admin token), so they survive restarts: clip URLs
 * already handed to bears stay valid, and the CLI can talk to a running
 * gateway.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';

/** The secret stored as `{dataDir}/{name}`, created (32 random bytes, base64url, mode 0600) if absent. */
export async function loadOrCreateSecret(dataDir: string, name: string): Promise<string> {
  const path = join(dataDir, name);
  const existing = await readSecret(dataDir, name);
  if (existing) return existing;
  const secret = randomBytes(32).toString('base64url');
  await writeFileAtomic(path, `${secret}\n`);
  // Two processes starting at once on one data dir: whoever renamed last wins; read it back.
  return (await readSecret(dataDir, name)) ?? secret;
}

/** The stored secret, or undefined when there is none yet. */
export async function readSecret(dataDir: string, name: string): Promise<string | undefined> {
  try {
    const text = (await readFile(join(dataDir, name), 'utf8')).trim();
    return text || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
