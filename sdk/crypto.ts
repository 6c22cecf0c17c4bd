/**
 * AES-256-GCM for sensitive values at rest in L2. Each ciphertext carries the
 * id of the key that made it, so keys rotate without a flag day: add the new
 * key first in the ring, and old values still decrypt until they expire.
 * The Redis key (and the record header) is bound in as associated data, so a
 * ciphertext copied under another key, or given another expiry, does not decrypt.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { loadOrCreateSecret } from '../infra/data-dir-secret.js';
import { ConfigError } from './errors.js';

export interface Keyring {
  readonly currentId: string;
  readonly keys: ReadonlyMap<string, Buffer>;
}

export interface Sealed {
  readonly keyId: string;
  readonly iv: Uint8Array;
  readonly tag: Uint8Array;
  readonly ciphertext: Uint8Array;
}

const IV_BYTES = 12;

export function createKeyring(keys: Record<string, string>, currentId?: string): Keyring {
  const map = new Map<string, Buffer>();
  for (const [id, text] of Object.entries(keys)) {
    if (!/^[\w.-]{1,32}$/.test(id)) throw new ConfigError('encryptionKeys', `key id ${JSON.stringify(id)} must be 1–32 of [A-Za-z0-9_.-]`);
    const key = decodeKey(text);
    if (key.length !== 32) throw new ConfigError('encryptionKeys', `key ${id} must be 32 bytes (base64 or hex)`);
    map.set(id, key);
  }
  const first = map.keys().next();
  if (first.done) throw new ConfigError('encryptionKeys', 'needs at least one key');
  return { currentId: currentId ?? first.value, keys: map };
}

/** The key kept in `${dataDir}/cache-key` (created, mode 0600, on first use), for the embedded default. */
export async function dataDirKeyring(dataDir: string): Promise<Keyring> {
  return createKeyring({ file: await loadOrCreateSecret(dataDir, 'cache-key') });
}

export function seal(ring: Keyring, plaintext: Uint8Array, aad: Uint8Array): Sealed {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', ring.keys.get(ring.currentId)!, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { keyId: ring.currentId, iv, tag: cipher.getAuthTag(), ciphertext };
}

/** Throws if the key id is unknown or the data was altered. */
export function open(ring: Keyring, sealed: Sealed, aad: Uint8Array): Buffer {
  const key = ring.keys.get(sealed.keyId);
  if (!key) throw new Error(`no key with id ${sealed.keyId}`);
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.iv);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.tag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
}

function decodeKey(text: string): Buffer {
  // Node's base64 decoder also takes the URL-safe alphabet (the data-dir key is base64url).
  return /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
}
