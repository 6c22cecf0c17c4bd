/**
 * The default BlobStore: one file per blob under a local directory, fanned
 * out by the first two hex digits (`ab/abcdef…`) so no directory grows huge.
 * Writes go to a temporary file and are renamed into place, so a crash never
 * leaves a truncated blob under a valid name.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../infra/atomic-file.js';
import { isBlobName, type BlobRef, type BlobStore, type ByteRange } from './blob-store.js';

export function createDirBlobStore(dir: string): BlobStore {
  const pathOf = (sha256: string): string => {
    // Names come from URLs; a malformed one must never become a path.
    if (!isBlobName(sha256)) throw new TypeError(`not a blob name: ${JSON.stringify(sha256.slice(0, 80))}`);
    return join(dir, sha256.slice(0, 2), sha256);
  };

  const statRef = async (sha256: string): Promise<BlobRef | undefined> => {
    try {
      const s = await stat(pathOf(sha256));
      return { sha256, size: s.size };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  return {
    async put(bytes) {
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const existing = await statRef(sha256);
      if (existing) return existing;
      await writeFileAtomic(pathOf(sha256), bytes, 0o644);
      return { sha256, size: bytes.byteLength };
    },

    async get(sha256) {
      try {
        return new Uint8Array(await readFile(pathOf(sha256)));
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },

    stat: statRef,

    async open(sha256, range?: ByteRange) {
      const ref = await statRef(sha256);
      if (!ref) return undefined;
      const stream = createReadStream(pathOf(sha256), range ? { start: range.start, end: range.end } : {});
      return { ref, stream };
    },

    async delete(sha256) {
      await rm(pathOf(sha256), { force: true });
    },
  };
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
