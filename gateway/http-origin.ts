/**
 * The gateway's HTTP side: the L3 clip origin, health, metrics (behind a
 * read token with --metrics-auth), and the admin API (./admin-api.ts) the
 * CLI uses against a running gateway.
 *
 * Clips: `GET|HEAD /clips/{sha256}?e=&s=` — signature and expiry checked
 * first (403 otherwise), then served from the blob store with what a CDN in
 * front needs: a strong ETag (the SHA-256), byte ranges, and
 * `Cache-Control: immutable` (a name never changes its bytes).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { verifyClipUrl, type BlobStore } from '../sdk/index.js';
import { ClipCodec } from '../protocol/index.js';
import type { AdminApi, AdminReply } from './admin-api.js';
import { parseRange } from './byte-range.js';
import type { ClipCatalog } from './clip-catalog.js';
import type { GatewayMetrics } from './metrics.js';

export interface HttpOriginOptions {
  /** Where clips are served from (the cache's L3 store); without one every clip is 404. */
  blobStore: BlobStore | undefined;
  urlKey: string;
  catalog: ClipCatalog;
  metrics: GatewayMetrics;
  /** The exposition text of /metrics when it is not just this process's registry (workers: the whole gateway's). */
  metricsText?: () => Promise<string>;
  log: Logger;
  health(): Promise<{ ok: boolean } & Record<string, unknown>>;
  admin: AdminApi;
  /** /metrics needs a read (or admin) token. */
  metricsAuth: boolean;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Base of a request target in origin form (`/clips/…`); an absolute-form target keeps its own. */
const ORIGIN_BASE = 'http://origin.invalid';

/** The request handler, served by both the HTTP and the HTTPS listener. */
export function createHttpOrigin(o: HttpOriginOptions): RequestListener {
  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void => {
    o.metrics.originRequests.inc({ status: String(status) });
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const sendJson = (res: ServerResponse, status: number, value: unknown): void =>
    send(res, status, `${JSON.stringify(value)}\n`, 'application/json');

  const serveClip = async (req: IncomingMessage, res: ServerResponse, target: string): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
    const check = verifyClipUrl(target, o.urlKey);
    if (!check.ok) {
      o.log.info({ reason: check.reason }, 'clip url refused');
      return send(res, 403, `forbidden: ${check.reason}\n`);
    }
    const store = o.blobStore;
    const ref = await store?.stat(check.sha256);
    if (!store || !ref) return send(res, 404, 'no such clip\n');
    const etag = `"${ref.sha256}"`;
    const headers: Record<string, string | number> = {
      etag,
      'accept-ranges': 'bytes',
      'cache-control': IMMUTABLE,
      'content-type': o.catalog.bySha256(ref.sha256)?.codec === ClipCodec.mulaw8k ? 'audio/basic' : 'application/octet-stream',
    };
    if (req.headers['if-none-match'] === etag) {
      o.metrics.originRequests.inc({ status: '304' });
      res.writeHead(304, headers).end();
      return;
    }
    const range = parseRange(req.headers.range, ref.size);
    if (range === 'unsatisfiable') {
      o.metrics.originRequests.inc({ status: '416' });
      res.writeHead(416, { ...headers, 'content-range': `bytes */${ref.size}`, 'content-length': 0 }).end();
      return;
    }
    const status = range ? 206 : 200;
    headers['content-length'] = range ? range.end - range.start + 1 : ref.size;
    if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${ref.size}`;
    o.metrics.originRequests.inc({ status: String(status) });
    if (req.method === 'HEAD' || ref.size === 0) {
      res.writeHead(status, headers).end();
      return;
    }
    const opened = await store.open(ref.sha256, range);
    if (!opened) return send(res, 404, 'no such clip\n');
    res.writeHead(status, headers);
    await pipeline(opened.stream, res).catch((err: NodeJS.ErrnoException) => {
      // The client closed the connection midway (a bear losing Wi-Fi): its doing, and it asks again.
      if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err;
      o.log.debug({ sha256: ref.sha256 }, 'clip download abandoned by the client');
    });
  };

  const reply = (res: ServerResponse, r: AdminReply): void =>
    r.json === undefined ? send(res, r.status, r.text ?? '') : sendJson(res, r.status, r.json);

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = req.url ?? '/';
    // Node's parser lets through request targets URL cannot read (`http://[`): the client's error, not ours.
    if (!URL.canParse(target, ORIGIN_BASE)) return send(res, 400, 'bad request: unreadable request target\n');
    const url = new URL(target, ORIGIN_BASE);
    if (url.pathname.startsWith('/clips/')) return serveClip(req, res, target);
    if (url.pathname === '/healthz') {
      const health = await o.health();
      return sendJson(res, health.ok ? 200 : 503, health);
    }
    if (url.pathname === '/metrics') {
      if (o.metricsAuth) {
        const allowed = await o.admin.authorize(req, 'metrics', 'read');
        if ('status' in allowed) return reply(res, allowed);
      }
      return send(res, 200, await (o.metricsText?.() ?? o.metrics.registry.metrics()), o.metrics.registry.contentType);
    }
    if (url.pathname.startsWith('/admin/')) return reply(res, await o.admin.handle(req, url));
    send(res, 404, 'not found\n');
  };

  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      o.log.error({ err, path: (req.url ?? '').split('?')[0] }, 'http request failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  };
}
