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

  it('refuse to sign a bad name or expiry', () => {
    expect(() => signClipUrl({ origin: 'http://o', sha256: 'nope', key, expiresAt: now })).toThrow(TypeError);
    expect(() => signClipUrl({ origin: 'http://o', sha256, key, expiresAt: 1.5 })).toThrow(TypeError);
  });
});
