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
}

export function createClipFetcher({ metrics, edge, concurrency, timeoutMs }: ClipFetcherOptions): ClipFetcher {
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
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (res.status !== 200) {
        await res.body?.cancel();
        return 'failed';
      }
      const body = new Uint8Array(await res.arrayBuffer());
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
