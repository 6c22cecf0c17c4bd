/**
 * The alert webhook against real local HTTP servers: in-order delivery,
 * retries with backoff through failures, and a receiver that is down, failing
 * or hanging costs the sender nothing but drops, each counted.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelay, createAlertWebhook, type AlertNotice, type AlertWebhook, type DropReason } from '../../gateway/ops/alert-webhook.js';
import { freePort } from '../../infra/free-port.js';

const notice = (alert: string, state: AlertNotice['state'] = 'firing'): AlertNotice => ({
  alert, severity: 'warning', state, startsAt: new Date(0).toISOString(), value: 1, threshold: 0, summary: 's', labels: { instance: 'gw' }, instance: 'gw', runbook: 'r',
});

const servers: Server[] = [];
const hooks: AlertWebhook[] = [];
afterEach(async () => {
  await Promise.all(hooks.splice(0).map((h) => h.close()));
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function receiver(handle: (body: AlertNotice, res: ServerResponse, req: IncomingMessage) => void): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handle(JSON.parse(body) as AlertNotice, res, req));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

function hook(url: string, over: Partial<Parameters<typeof createAlertWebhook>[0]> = {}) {
  const counts = { sent: 0, dropped: {} as Partial<Record<DropReason, number>> };
  const h = createAlertWebhook({
    url, log: pino({ level: 'silent' }), queueSize: 10, maxAttempts: 3, backoffMs: 20, timeoutMs: 500,
    onSent: () => counts.sent++, onDropped: (r) => (counts.dropped[r] = (counts.dropped[r] ?? 0) + 1), ...over,
  });
  hooks.push(h);
  return { h, counts };
}

const until = async (check: () => boolean, ms = 5000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('the alert webhook', () => {
  it('POSTs each notice as JSON, in order', async () => {
    const got: AlertNotice[] = [];
    const url = await receiver((body, res, req) => {
      expect(req.method).toBe('POST');
      expect(req.headers['content-type']).toBe('application/json');
      got.push(body);
      res.end();
    });
    const { h, counts } = hook(url);
    h.send(notice('A'));
    h.send(notice('B'));
    h.send(notice('A', 'resolved'));
    // The receiver has the third notice before the sender has its response: wait for both.
    await until(() => got.length === 3 && counts.sent === 3);
    expect(got.map((n) => `${n.alert}:${n.state}`)).toEqual(['A:firing', 'B:firing', 'A:resolved']);
    expect(counts).toEqual({ sent: 3, dropped: {} });
  });

  it('retries a failing receiver with growing pauses until it answers', async () => {
    let tries = 0;
    const url = await receiver((_b, res) => {
      res.statusCode = ++tries < 3 ? 503 : 204;
      res.end();
    });
    const { h, counts } = hook(url, { maxAttempts: 5, backoffMs: 20 });
    h.send(notice('A'));
    await until(() => counts.sent === 1);
    expect(tries).toBe(3);
    expect(counts.dropped).toEqual({});
    expect([1, 2, 3, 10, 20].map((n) => backoffDelay(n, 500))).toEqual([500, 1000, 2000, 30_000, 30_000]);
  });

  it('drops a notice after its tries when the receiver is down, and counts it', async () => {
    const { h, counts } = hook(`http://127.0.0.1:${await freePort()}/nobody`, { maxAttempts: 2 });
    h.send(notice('A'));
    h.send(notice('B'));
    await until(() => counts.dropped.retries_exhausted === 2);
    expect(h.pending).toBe(0);
    expect(counts.sent).toBe(0);
  });

  it('never makes the sender wait on a hanging receiver: the queue is bounded and overflow is counted', async () => {
    let arrived = 0;
    const url = await receiver(() => arrived++); // never answers
    const { h, counts } = hook(url, { queueSize: 3, timeoutMs: 60_000, maxAttempts: 1 });
    for (let i = 0; i < 50; i++) h.send(notice(`A${i}`)); // returns at once every time
    await until(() => arrived === 1); // A0 is being sent (and hangs); three wait behind it
    expect(h.pending).toBe(4);
    expect(counts.dropped.queue_full).toBe(46);
    await h.close();
    expect(counts.dropped.shutdown).toBe(4);
    expect(counts.sent).toBe(0);
  });

  it('gives up on a receiver that never answers at its timeout, even when garbage is collected meanwhile', async () => {
    // Node 20's AbortSignal.any stops passing its sources' aborts on once collected: a fetch bound
    // by AbortSignal.any([…, AbortSignal.timeout(ms)]) then waited on a silent receiver forever.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const url = await receiver(() => {}); // never answers
    const { h, counts } = hook(url, { timeoutMs: 200, maxAttempts: 1 });
    for (let i = 0; i < 5; i++) h.send(notice(`G${i}`));
    for (let i = 0; i < 10; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => counts.dropped.retries_exhausted === 5, 5000);
    expect(h.pending).toBe(0);
  });
});
