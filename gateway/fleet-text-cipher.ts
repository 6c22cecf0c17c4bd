/**
 * The clip catalog in the fleet's Redis names each clip's line (the bear's
 * reply, so it can be re-synthesized), and a reply can echo what a child
 * said: it is stored sealed, AES-256-GCM, bound to its clip id. The key is
 * derived (HKDF-SHA256) from the URL-signing key, which every gateway of a
 * fleet shares already (TEDDY_URL_KEY), so no new secret has to be handed
 * out; the derivation keeps the two uses apart.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface TextCipher {
  /** base64url(iv | tag | ciphertext). */
  seal(text: string, clipIdHex: string): string;
  /** Throws if the text was sealed under another key or altered. */
  open(sealed: string, clipIdHex: string): string;
}

export function createTextCipher(urlKey: string): TextCipher {
  const key = Buffer.from(hkdfSync('sha256', urlKey, Buffer.alloc(0), 'teddycache fleet catalog text v1', 32));
  return {
    seal(text, clipIdHex) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(clipIdHex));
      const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
    },
    open(sealed, clipIdHex) {
      const bytes = Buffer.from(sealed, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(clipIdHex));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}
