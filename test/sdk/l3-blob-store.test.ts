import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDirBlobStore } from '../../sdk/l3/dir-blob-store.js';
import type { BlobStore } from '../../sdk/l3/blob-store.js';

describe('createDirBlobStore', () => {
  let dir: string;
  let store: BlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'teddy-blobs-'));
    store = createDirBlobStore(dir);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('names a blob by the SHA-256 of its bytes and returns them', async () => {
    const bytes = new TextEncoder().encode('hello bear');
    const ref = await store.put(bytes);
    expect(ref).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
    expect(Buffer.from((await store.get(ref.sha256))!).toString()).toBe('hello bear');
    expect(await store.stat(ref.sha256)).toEqual(ref);
  });

  it('stores the same bytes once and leaves no temporary files', async () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const [a, b] = await Promise.all([store.put(bytes), store.put(bytes)]);
    expect(a).toEqual(b);
    const files = await readdir(join(dir, a.sha256.slice(0, 2)));
    expect(files).toEqual([a.sha256]);
  });

  it('streams an inclusive byte range', async () => {
    const ref = await store.put(new TextEncoder().encode('0123456789'));
    const opened = await store.open(ref.sha256, { start: 2, end: 5 });
    expect(await text(opened!.stream)).toBe('2345');
    expect(opened!.ref.size).toBe(10);
  });

  it('answers undefined for an absent blob and deletes idempotently', async () => {
    const absent = 'a'.repeat(64);
    expect(await store.get(absent)).toBeUndefined();
    expect(await store.stat(absent)).toBeUndefined();
    expect(await store.open(absent)).toBeUndefined();
    const ref = await store.put(new Uint8Array([9]));
    await store.delete(ref.sha256);
    await store.delete(ref.sha256);
    expect(await store.get(ref.sha256)).toBeUndefined();
  });

  it('refuses names that are not a SHA-256, so a URL can never become a path', async () => {
    await expect(store.get('../../etc/passwd')).rejects.toThrow(TypeError);
    await expect(store.stat('A'.repeat(64))).rejects.toThrow(TypeError);
  });
});
