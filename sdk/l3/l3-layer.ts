/**
 * The cache's L3 layer: byte values of L3 content types (voice clips, static
 * assets, model weights) go to the content-addressed BlobStore, and a small
 * ref file maps the hashed cache key to the blob, so the value survives an L2
 * eviction or a Redis flush. Refs live in a local directory next to the
 * blobs; a deployment on a shared object store keeps them there instead.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../infra/atomic-file.js';
import { isBlobName, type BlobRef, type BlobStore } from './blob-store.js';

export interface L3Layer {
  readonly store: BlobStore;
  put(l2Key: string, bytes: Uint8Array, expiresAt: number): Promise<BlobRef>;
  /** The bytes and their ref, if a live ref and its blob exist. */
  get(l2Key: string, now: number): Promise<{ bytes: Uint8Array; ref: BlobRef; expiresAt: number } | undefined>;
  delete(l2Key: string): Promise<void>;
  /** Deletes the ref, and its blob unless another ref names the same bytes (erasure: what only this value caused). */
  deleteOwned(l2Key: string): Promise<{ ref: boolean; blob: boolean }>;
}

export function createL3Layer(store: BlobStore, refsDir: string): L3Layer {
  // L2 keys are `${prefix}${type}:${hex}`; the ref file is named by the part after the last colon
  // plus the type, which is enough to be unique and safe as a file name.
  const refPath = (l2Key: string) => join(refsDir, l2Key.replace(/[^\w-]/g, '_'));
  const blobOf = async (path: string): Promise<string | undefined> => {
    const sha256 = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ')[0] ?? '';
    return isBlobName(sha256) ? sha256 : undefined;
  };
  return {
    store,
    async put(l2Key, bytes, expiresAt) {
      const ref = await store.put(bytes);
      await writeFileAtomic(refPath(l2Key), `${ref.sha256} ${expiresAt}\n`, 0o644);
      return ref;
    },
    async get(l2Key, now) {
      let text: string;
      try {
        text = await readFile(refPath(l2Key), 'utf8');
      } catch {
        return undefined;
      }
      const [sha256 = '', expiry = ''] = text.trim().split(' ');
      const expiresAt = Number(expiry);
      if (!isBlobName(sha256) || !(expiresAt > now)) return undefined;
      const bytes = await store.get(sha256);
      return bytes ? { bytes, ref: { sha256, size: bytes.byteLength }, expiresAt } : undefined;
    },
    async delete(l2Key) {
      // The blob itself stays: other keys may name the same bytes, and it is immutable anyway.
      await rm(refPath(l2Key), { force: true });
    },
    async deleteOwned(l2Key) {
      const path = refPath(l2Key);
      const sha256 = await blobOf(path);
      if (sha256 === undefined) return { ref: false, blob: false };
      await rm(path, { force: true });
      // Rare (an erasure), so a scan of the refs is affordable.
      const others = await readdir(refsDir).catch(() => [] as string[]);
      for (const name of others) if ((await blobOf(join(refsDir, name))) === sha256) return { ref: true, blob: false };
      await store.delete(sha256);
      return { ref: true, blob: true };
    },
  };
}
