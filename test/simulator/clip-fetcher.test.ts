import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClipFetcher } from '../../simulator/clip-fetcher.js';
import { createRunMetrics } from '../../simulator/run-metrics.js';

const good = Buffer.alloc(5000, 7);
const goodSha = createHash('sha256').update(good).digest();
const lyingSha = createHash('sha256').update('something else').digest();
let server: Server;
let origin = '';
let requests = 0;

beforeAll(async () => {
  // A real HTTP origin: serves `good` for any /clips/ path, 403 for anything else.
  server = createServer((req, res) => {
    requests++;
    if (!req.url?.startsWith('/clips/')) return void res.writeHead(403).end();
    res.writeHead(200, { 'content-length': good.length }).end(good);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const url = (sha: Uint8Array, expires = Math.floor(Date.now() / 1000) + 600): string => `${origin}/clips/${Buffer.from(sha).toString('hex')}?e=${expires}&s=x`;

describe('clip fetcher', () => {
  it('downloads from the origin once per SHA-256 and serves repeats from the edge', async () => {
    const metrics = createRunMetrics(1000);
    const fetcher = createClipFetcher({ metrics, edge: true, concurrency: 4, timeoutMs: 5000 });
    const before = requests;
    const outcomes = await Promise.all([fetcher.fetch(url(goodSha), goodSha, true), fetcher.fetch(url(goodSha), goodSha, false)]);
    expect(outcomes.sort()).toEqual(['edge', 'origin']);
    expect(await fetcher.fetch(url(goodSha), goodSha, false)).toBe('edge');
    expect(requests - before).toBe(1);
    expect(metrics.counters.originBytes).toBe(good.length);
    expect(metrics.counters.edgeBytes).toBe(2 * good.length);
    expect(metrics.counters.warmBytes).toBe(good.length);
  });

  it('rejects bytes that do not match the SHA-256, and expired URLs at the edge', async () => {
    const metrics = createRunMetrics(1000);
    const fetcher = createClipFetcher({ metrics, edge: true, concurrency: 4, timeoutMs: 5000 });
    expect(await fetcher.fetch(url(lyingSha), lyingSha, false)).toBe('failed');
    expect(await fetcher.fetch(url(goodSha), goodSha, false)).toBe('origin');
    expect(await fetcher.fetch(url(goodSha, 1000), goodSha, false)).toBe('failed');
  });

  it('without the edge, every download is an origin request; HTTP errors fail', async () => {
    const metrics = createRunMetrics(1000);
    const fetcher = createClipFetcher({ metrics, edge: false, concurrency: 1, timeoutMs: 5000 });
    const before = requests;
    for (let i = 0; i < 3; i++) expect(await fetcher.fetch(url(goodSha), goodSha, false)).toBe('origin');
    expect(requests - before).toBe(3);
    expect(await fetcher.fetch(`${origin}/nope`, goodSha, false)).toBe('failed');
  });
});
