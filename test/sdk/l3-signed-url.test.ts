import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signClipUrl, verifyClipUrl } from '../../sdk/l3/signed-url.js';

const key = 'url-key-for-tests';
const sha256 = 'ab'.repeat(32);
const now = 1_800_000_000;

describe('signed clip URLs', () => {
  it('verify what they sign, full URL or path, behind any origin', () => {
    const url = signClipUrl({ origin: 'https://cdn.example.com/', sha256, key, expiresAt: now + 60 });
    expect(url).toMatch(/^https:\/\/cdn\.example\.com\/clips\/(ab){32}\?e=1800000060&s=[\w-]{43}$/);
    expect(verifyClipUrl(url, key, now)).toEqual({ ok: true, sha256, expiresAt: now + 60 });
    const path = url.slice('https://cdn.example.com'.length);
    expect(verifyClipUrl(path, key, now).ok).toBe(true);
  });

  it('expire at expiresAt', () => {
    const url = signClipUrl({ origin: 'http://o', sha256, key, expiresAt: now });
    expect(verifyClipUrl(url, key, now - 1).ok).toBe(true);
    expect(verifyClipUrl(url, key, now)).toEqual({ ok: false, reason: 'expired' });
  });

  it('reject another key, another blob, another expiry', () => {
    const url = signClipUrl({ origin: 'http://o', sha256, key, expiresAt: now + 60 });
    expect(verifyClipUrl(url, 'other-key', now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyClipUrl(url.replace(sha256, 'cd'.repeat(32)), key, now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(verifyClipUrl(url.replace('e=1800000060', 'e=1900000060'), key, now)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('reject malformed targets', () => {
    for (const target of ['/clips/xyz?e=1&s=a', `/clips/${sha256}?s=a`, `/clips/${sha256}?e=-1&s=a`, `/other/${sha256}?e=1&s=a`, 'http://[bad']) {
      expect(verifyClipUrl(target, key, now)).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('never accept a tampered signature (property)', () => {
    const url = signClipUrl({ origin: 'http://o', sha256, key, expiresAt: now + 60 });
    const sig = url.slice(url.indexOf('&s=') + 3);
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{1,60}$/), (forged) => {
        fc.pre(forged !== sig);
        expect(verifyClipUrl(url.replace(sig, forged), key, now).ok).toBe(false);
      }),
    );
  });

  it('accept exactly one spelling of the signature and the query', () => {
    const url = signClipUrl({ origin: 'http://o', sha256, key, expiresAt: now + 60 });
    const sig = url.slice(url.indexOf('&s=') + 3);
    const base = url.slice(0, url.indexOf('?'));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // base64url of 32 bytes is 43 characters: the last carries 4 bits, 2 spare; flipping a spare bit decodes alike.
    const last = alphabet.indexOf(sig.at(-1)!);
    const sameBytes = `${sig.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(sameBytes, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
    const variants = [
      `${sig}!!`, `${sig}=`, `.${sig}`, ` ${sig}`, `${sig}%20`, sameBytes, sig.replace(/-/g, '+').replace(/_/g, '/'),
      `${sig.slice(0, 10)}%${sig.charCodeAt(10).toString(16)}${sig.slice(11)}`, `${sig}&s=${sig}`,
    ];
    for (const variant of variants) {
      expect(verifyClipUrl(`${base}?e=${now + 60}&s=${variant}`, key, now).ok, variant).toBe(false);
    }
    for (const query of [`?e=0${now + 60}&s=${sig}`, `?s=${sig}&e=${now + 60}`, `?e=${now + 60}&s=${sig}&x=1`, `?e=${now + 60}&e=${now + 60}&s=${sig}`, `?e=+${now + 60}&s=${sig}`]) {
      expect(verifyClipUrl(`${base}${query}`, key, now).ok, query).toBe(false);
    }
    expect(verifyClipUrl(`${base}?e=${now + 60}&s=${sig}`, key, now).ok).toBe(true);
  });

  it('refuse to sign a bad name or expiry', () => {
    expect(() => signClipUrl({ origin: 'http://o', sha256: 'nope', key, expiresAt: now })).toThrow(TypeError);
    expect(() => signClipUrl({ origin: 'http://o', sha256, key, expiresAt: 1.5 })).toThrow(TypeError);
  });
});
