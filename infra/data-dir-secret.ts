/**
 * Secrets the gateway generates once and keeps in its data directory (the
 * URL-signing key, the admin token), so they survive restarts: clip URLs
 * already handed to bears stay valid, and the CLI can talk to a running
 * gateway.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The secret stored as `{dataDir}/{name}`, created (32 random bytes, base64url, mode 0600) if absent.
 * Several processes starting at once on one data dir (gateway workers) agree on one secret: the
 * file appears complete or not at all (written aside, then hard-linked into place, which fails if
 * it exists), so the first creator wins and everyone else reads its secret.
 */
export async function loadOrCreateSecret(dataDir: string, name: string): Promise<string> {
  const path = join(dataDir, name);
  const existing = await readSecret(dataDir, name);
  if (existing) return existing;
  await mkdir(dataDir, { recursive: true });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    await link(tmp, path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(tmp, { force: true });
  }
  const secret = await readSecret(dataDir, name);
  if (!secret) throw new Error(`${path} is empty`);
  return secret;
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
