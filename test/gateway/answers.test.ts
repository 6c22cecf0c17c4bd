/**
 * The answer path end to end: provider on the first utterance, cache on the
 * second; the clip URL in the answer downloads the right bytes from the HTTP
 * origin, with Range, and refuses tampered or expired URLs; an unreadable
 * request target or a download the client abandons is the client's doing,
 * never a logged failure.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoProvider } from '../../gateway/providers/demo-provider.js';
import { PROMPTS, promptAudio } from '../../gateway/providers/phrasebook.js';
import type { Provider } from '../../gateway/providers/provider.js';
import { createDirBlobStore } from '../../sdk/l3/dir-blob-store.js';
import { signClipUrl } from '../../sdk/l3/signed-url.js';
import { AnswerSource, ErrorCode, UtteranceFormat, type Answer, type Clip } from '../../protocol/index.js';
import { startTestGateway, textUtterance, type TestBear, type TestGateway } from './harness.js';

const calls = { transcribe: 0, respond: 0, synthesize: 0 };
// Longer than the protocol's 1024-byte reply, in 4-byte characters.
const LONG_REPLY = 'Once upon a time 🐻'.repeat(100);
// The real demo provider, counted: the test's witness of which requests reached the AI.
const demo = createDemoProvider({ latencyMs: 0, log: pino({ level: 'silent' }) });
const counted: Provider = {
  ...demo,
  transcribe: (a, f) => (calls.transcribe++, demo.transcribe(a, f)),
  respond: (t) => {
    calls.respond++;
    if (t === 'tell me everything') return Promise.resolve(LONG_REPLY);
    if (t === 'break the ai') return Promise.reject(new Error('provider down'));
    return demo.respond(t);
  },
  synthesize: (t, v) => (calls.synthesize++, demo.synthesize(t, v)),
};

let t: TestGateway;
let bear: TestBear;
beforeAll(async () => {
  t = await startTestGateway({ provider: counted });
  bear = await t.connectFleetBear('answer-bear');
});
afterAll(() => t?.stop());

describe('utterance -> answer', () => {
  it('answers a repeated utterance from cache without calling the provider', async () => {
    const audio = promptAudio(PROMPTS[0]!);
    const first = (await bear.request({ type: 'utterance', id: 1, audio, format: UtteranceFormat.mulaw8k })) as Answer;
    expect(first).toMatchObject({ type: 'answer', id: 1, source: AnswerSource.provider });
    expect(first.reply).toMatch(/once upon a time/i);
    const before = { ...calls };
    expect(before.transcribe).toBe(1);
    expect(before.respond).toBe(1);

    const second = (await bear.request({ type: 'utterance', id: 2, audio, format: UtteranceFormat.mulaw8k })) as Answer;
    expect(second.source).not.toBe(AnswerSource.provider);
    expect(second.reply).toBe(first.reply);
    expect(Buffer.compare(second.clip.sha256, first.clip.sha256)).toBe(0);
    expect(calls).toEqual(before);
  });

  it('serves the answer clip from the origin: right bytes and SHA-256, ETag, Range, immutable', async () => {
    const answer = (await bear.request(textUtterance(3, 'what do bears eat'))) as Answer;
    const sha = Buffer.from(answer.clip.sha256).toString('hex');
    const res = await fetch(answer.clip.url);
    expect(res.status).toBe(200);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.length).toBe(answer.clip.size);
    expect(createHash('sha256').update(body).digest('hex')).toBe(sha);
    expect(res.headers.get('etag')).toBe(`"${sha}"`);
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    const part = await fetch(answer.clip.url, { headers: { range: 'bytes=100-1099' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-1099/${answer.clip.size}`);
    expect(Buffer.compare(Buffer.from(await part.arrayBuffer()), Buffer.from(body.subarray(100, 1100)))).toBe(0);

    const beyond = await fetch(answer.clip.url, { headers: { range: `bytes=${answer.clip.size}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${answer.clip.size}`);
    expect((await fetch(answer.clip.url, { headers: { 'if-none-match': `"${sha}"` } })).status).toBe(304);
    expect((await fetch(answer.clip.url, { method: 'HEAD' })).headers.get('content-length')).toBe(String(answer.clip.size));
  });

  it('refuses tampered and expired clip URLs with 403', async () => {
    const answer = (await bear.request(textUtterance(4, 'why do cats purr'))) as Answer;
    const url = new URL(answer.clip.url);
    const otherSha = createHash('sha256').update('other').digest('hex');
    const tampered = [
      answer.clip.url.replace(/\/clips\/[0-9a-f]{64}/, `/clips/${otherSha}`),
      answer.clip.url.replace(/e=\d+/, `e=${answer.clip.expires + 3600}`),
      answer.clip.url.replace(/s=[^&]+$/, 's=AAAA'),
      `${url.origin}${url.pathname}`,
    ];
    for (const bad of tampered) expect((await fetch(bad)).status, bad).toBe(403);

    const urlKey = readFileSync(join(t.dataDir, 'url-key'), 'utf8').trim();
    const sha = Buffer.from(answer.clip.sha256).toString('hex');
    const expired = signClipUrl({ origin: url.origin, sha256: sha, key: urlKey, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    const res = await fetch(expired);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/expired/);
    const valid = signClipUrl({ origin: url.origin, sha256: sha, key: urlKey, expiresAt: Math.floor(Date.now() / 1000) + 60 });
    expect((await fetch(valid)).status).toBe(200);
  });

  it('answers a request target URL cannot read with 400, logs no failure, and keeps serving', async () => {
    const { hostname, port } = new URL(t.gateway.httpUrl);
    const status = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => socket.write('GET http://[ HTTP/1.1\r\nHost: gateway\r\n\r\n'));
      socket.setEncoding('utf8').once('data', (head: string) => {
        socket.destroy();
        resolve(head.split('\r\n')[0]!);
      });
      socket.once('error', reject);
    });
    expect(status).toBe('HTTP/1.1 400 Bad Request');
    expect(t.logs.join('')).not.toContain('http request failed');
    expect((await fetch(new URL('/healthz', t.gateway.httpUrl))).status).toBe(200);
  });

  it('takes a download the client abandons midway as the client\'s doing: no failure logged, still serving', async () => {
    // Larger than loopback's socket buffers, so the client's close lands mid-stream.
    const big = await createDirBlobStore(join(t.dataDir, 'blobs')).put(randomBytes(16 * 1024 * 1024));
    const urlKey = readFileSync(join(t.dataDir, 'url-key'), 'utf8').trim();
    const { origin, hostname, port } = new URL(t.gateway.httpUrl);
    const target = new URL(signClipUrl({ origin, sha256: big.sha256, key: urlKey, expiresAt: Math.floor(Date.now() / 1000) + 60 }));
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: gateway\r\n\r\n`));
      socket.once('data', (head: Buffer) => {
        expect(head.toString('latin1').split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(t.logs.join('')).not.toContain('http request failed');
    expect((await fetch(new URL('/healthz', t.gateway.httpUrl))).status).toBe(200);
  });

  it('cuts a reply longer than the protocol allows at a character boundary; the clip speaks all of it', async () => {
    const answer = (await bear.request(textUtterance(9, 'tell me everything'))) as Answer;
    expect(answer.type).toBe('answer');
    expect(Buffer.byteLength(answer.reply)).toBeLessThanOrEqual(1024);
    expect(LONG_REPLY.startsWith(answer.reply)).toBe(true);
    expect(answer.clip.size).toBeGreaterThan(0);
  });

  it('answers a provider failure with nothing cached as an upstream error, and keeps serving', async () => {
    expect(await bear.request(textUtterance(10, 'break the ai'))).toMatchObject({ type: 'error', id: 10, code: ErrorCode.upstream });
    expect(await bear.request(textUtterance(11, 'i love you'))).toMatchObject({ type: 'answer', id: 11 });
  });

  it('looks clips up by id, inline when small enough, notFound otherwise', async () => {
    const answer = (await bear.request(textUtterance(5, 'count to five'))) as Answer;
    const byUrl = (await bear.request({ type: 'clipGet', id: 6, clipId: answer.clip.clipId })) as Clip;
    expect(byUrl).toMatchObject({ type: 'clip', id: 6 });
    expect(byUrl.clip.inline).toBeUndefined();
    const inline = (await bear.request({ type: 'clipGet', id: 7, clipId: answer.clip.clipId, maxInline: 60_000 })) as Clip;
    expect(createHash('sha256').update(inline.clip.inline!).digest('hex')).toBe(Buffer.from(answer.clip.sha256).toString('hex'));
    expect(await bear.request({ type: 'clipGet', id: 8, clipId: new Uint8Array(8) })).toMatchObject({
      type: 'error', id: 8, code: ErrorCode.notFound,
    });
  });

  it('logs no child words and no audio', () => {
    const logs = t.logs.join('');
    for (const words of ['what do bears eat', 'why do cats purr', 'count to five', PROMPTS[0]!]) expect(logs).not.toContain(words);
    expect(logs).toContain('"deviceId":"answer-bear"');
  });

  it('exposes health and metrics', async () => {
    const health = await fetch(`${t.gateway.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, bears: 1 });
    const metrics = await (await fetch(`${t.gateway.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/teddy_gateway_connected_bears 1/);
    expect(metrics).toMatch(/teddy_gateway_requests_total\{type="utterance",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/teddy_gateway_request_duration_seconds_bucket\{le="[^"]+",type="utterance"\}/);
    expect(metrics).toMatch(/^teddy_gateway_miss_answer_duration_seconds_count [1-9]/m);
    expect(metrics).toMatch(/teddy_cache_hits_total\{layer="l1"\} [1-9]/);
    expect(metrics).toMatch(/teddy_cache_l2_breaker_state\{state="closed"\} 1/);
    expect(metrics).toMatch(/teddy_gateway_provider_calls_total\{op="respond"\} [1-9]/);
  });

  it('guards the admin endpoints with the token in the data dir', async () => {
    const token = readFileSync(join(t.dataDir, 'admin-token'), 'utf8').trim();
    expect((await fetch(`${t.gateway.httpUrl}/admin/stats`)).status).toBe(401);
    expect((await fetch(`${t.gateway.httpUrl}/admin/stats`, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(401);
    const ok = await fetch(`${t.gateway.httpUrl}/admin/stats`, { headers: { authorization: `Bearer ${token}` } });
    expect(await ok.json()).toMatchObject({ bears: { connected: 1 } });
    expect((await fetch(`${t.gateway.httpUrl}/admin/warm`, { method: 'POST' })).status).toBe(401);
  });
});
