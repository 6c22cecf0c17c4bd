/**
 * Downloads clips the way a bear does (signed URL, verify the SHA-256), with
 * a modelled CDN edge in front of the gateway's L3 origin.
 *
 * Why an edge model: the origin marks clips immutable so a CDN caches them
 * forever; in production 10,000 bears warming up fetch each clip from the
 * origin about once per edge, not 10,000 times. With the edge on, the first
 * download of each SHA-256 goes to the origin over real HTTP (signed URL
 * checked by the gateway, bytes verified); later downloads of the same bytes
 * are served by the edge and counted as edge bytes, after checking the URL has
 * not expired. With the edge off, every download is a real origin request.
 */
import { createHash } from 'node:crypto';
import { Agent, get } from 'node:https';
import type { RunMetrics } from './run-metrics.js';

export type FetchOutcome = 'origin' | 'edge' | 'failed';

export interface ClipFetcher {
  fetch(url: string, sha256: Uint8Array, forWarm: boolean): Promise<FetchOutcome>;
}

export interface ClipFetcherOptions {
  metrics: RunMetrics;
  edge: boolean;
  /** Concurrent origin requests, process-wide. */
  concurrency: number;
  timeoutMs: number;
  /** The CA to trust for https:// clip URLs (the gateway's caFile); without it, the system's. */
  ca?: Buffer;
}

export function createClipFetcher({ metrics, edge, concurrency, timeoutMs, ca }: ClipFetcherOptions): ClipFetcher {
  // fetch() cannot be given a CA; with one, https downloads go through node:https on a keep-alive agent.
  const agent = ca ? new Agent({ ca, keepAlive: true }) : undefined;
  /** SHA-256 (hex) -> size, for bytes the edge already holds. */
  const atEdge = new Map<string, number>();
  const inFlight = new Map<string, Promise<FetchOutcome>>();
  const waiting: (() => void)[] = [];
  let active = 0;

  const slot = async (): Promise<() => void> => {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    return () => {
      active--;
      waiting.shift()?.();
    };
  };

  const fromOrigin = async (url: string, sha: string, forWarm: boolean): Promise<FetchOutcome> => {
    const release = await slot();
    try {
      const body = agent && url.startsWith('https:') ? await download(url, agent, timeoutMs) : await fetchBytes(url, timeoutMs);
      if (!body) return 'failed';
      metrics.add('originBytes', body.length);
      if (forWarm) metrics.add('warmBytes', body.length);
      if (createHash('sha256').update(body).digest('hex') !== sha) return 'failed';
      if (edge) atEdge.set(sha, body.length);
      return 'origin';
    } catch {
      return 'failed';
    } finally {
      release();
    }
  };

  return {
    async fetch(url, sha256, forWarm) {
      const sha = Buffer.from(sha256).toString('hex');
      const size = atEdge.get(sha);
      if (size !== undefined) {
        const expires = Number(new URL(url).searchParams.get('e'));
        if (!(expires > Date.now() / 1000)) return 'failed';
        metrics.add('edgeBytes', size);
        if (forWarm) metrics.add('warmBytes', size);
        return 'edge';
      }
      if (!edge) return fromOrigin(url, sha, forWarm);
      // Concurrent misses for the same bytes share one origin request, as a CDN collapses them.
      let pending = inFlight.get(sha);
      const first = !pending;
      if (!pending) {
        pending = fromOrigin(url, sha, forWarm).finally(() => inFlight.delete(sha));
        inFlight.set(sha, pending);
      }
      const outcome = await pending;
      if (first || outcome === 'failed') return outcome;
      metrics.add('edgeBytes', atEdge.get(sha) ?? 0);
      if (forWarm) metrics.add('warmBytes', atEdge.get(sha) ?? 0);
      return 'edge';
    },
  };
}

/** The body of a 200 answer, else undefined. */
async function fetchBytes(url: string, timeoutMs: number): Promise<Uint8Array | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (res.status === 200) return new Uint8Array(await res.arrayBuffer());
  await res.body?.cancel();
  return undefined;
}

/** The same over node:https with an agent that trusts the gateway's CA. */
function download(url: string, agent: Agent, timeoutMs: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent, timeout: timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return resolve(undefined);
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
