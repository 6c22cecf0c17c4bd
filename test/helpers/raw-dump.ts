/**
 * Everything a store holds, as one byte string, to search for what must not
 * be there (an erased bear's id, hashes, audio, words): every Redis key with
 * its value (any type), or every file under a directory.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export async function redisDump(url: string): Promise<Buffer> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const parts: Buffer[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scanBuffer(cursor, 'COUNT', 1000);
      cursor = next.toString();
      for (const key of keys) {
        parts.push(key);
        const type = await redis.type(key);
        if (type === 'string') parts.push((await redis.getBuffer(key)) ?? Buffer.alloc(0));
        else if (type === 'set') parts.push(...(await redis.smembersBuffer(key)));
        else if (type === 'zset') parts.push(...(await redis.zrangeBuffer(key, 0, -1)));
        else if (type === 'hash') parts.push(...(await redis.hgetallBuffer(key).then((h) => Object.entries(h).flatMap(([f, v]) => [Buffer.from(f), v]))));
        else if (type === 'list') parts.push(...(await redis.lrangeBuffer(key, 0, -1)));
        else if (type === 'stream') parts.push(Buffer.from(JSON.stringify(await redis.xrange(key, '-', '+'))));
      }
    } while (cursor !== '0');
    return Buffer.concat(parts.flatMap((p) => [p, Buffer.from('\n')]));
  } finally {
    redis.disconnect();
  }
}

/** Names and contents of every file under `dir`, recursively (skipping `except` file names). */
export async function dirDump(dir: string, except: readonly string[] = []): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || except.includes(entry.name)) continue;
    const path = join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    parts.push(Buffer.from(path), await readFile(path).catch(() => Buffer.alloc(0)));
  }
  return Buffer.concat(parts.flatMap((p) => [p, Buffer.from('\n')]));
}
