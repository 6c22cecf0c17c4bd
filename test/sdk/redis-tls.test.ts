/**
 * L2 over TLS, against Debian's redis-server listening for TLS only
 * (`--tls-port`, `--port 0`) with certificates made by Debian's openssl: with
 * the CA configured the cache uses Redis (one server and a 3+3 cluster whose
 * bus and replication run over TLS too); without the CA, or with another
 * one, the connection is refused with one clear log line, and callers are
 * answered from L1 and compute, never with an error.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRedisCluster, type RedisCluster } from '../../infra/redis-cluster.js';
import { startRedisServer, type RedisServer } from '../../infra/redis-server.js';
import { ContentType } from '../../sdk/index.js';
import { makeCertificates, type Certificates } from '../firmware/tls-fixture.js';
import { testCaches, type TestCaches } from '../helpers/cache.js';

let certs: Certificates;
beforeAll(() => {
  certs = makeCertificates('unused-device');
});
afterAll(() => rm(certs.dir, { recursive: true, force: true }));

const TYPE = ContentType.AI_RESPONSE;
const tlsFiles = () => ({
  ...{ certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.ca },
  // Cluster nodes verify each other's certificates both ways: the client one is for connecting out.
  ...{ clientCertFile: certs.clientCert, clientKeyFile: certs.clientKey },
});

describe('L2 on one Redis over TLS', () => {
  let redis: RedisServer;
  let caches: TestCaches;
  beforeAll(async () => {
    redis = await startRedisServer({ tls: tlsFiles() });
    caches = await testCaches({ l2RedisUrl: redis.url });
  });
  afterAll(async () => {
    await caches?.closeAll();
    await redis?.stop();
  });

  it('uses Redis over TLS when the CA is given: L2 hits and invalidations across instances', async () => {
    expect(redis.url).toMatch(/^rediss:\/\//);
    const a = await caches.make({ l2TlsCaFile: certs.ca });
    const b = await caches.make({ l2TlsCaFile: certs.ca });
    expect((await a.health()).l2).toMatchObject({ connected: true, tls: true, breaker: 'closed' });
    expect(await a.fetch('q', TYPE, async () => 'answer')).toMatchObject({ source: 'compute' });
    await vi.waitFor(async () => expect(await b.fetch('q', TYPE, async () => 'again')).toMatchObject({ source: 'l2', value: 'answer' }), { timeout: 2000 });
    await a.set('q', 'changed', TYPE);
    await vi.waitFor(async () => expect(await b.get('q', TYPE)).toBe('changed'), { timeout: 2000, interval: 10 });
  });

  it('refuses a server whose certificate it cannot verify (no CA, another CA): one clear log line, callers answered', async () => {
    const before = caches.warnings.length;
    const [withoutCa, wrongCa] = await Promise.all([caches.make(), caches.make({ l2TlsCaFile: certs.otherCa })]);
    for (const cache of [withoutCa, wrongCa]) {
      const health = await cache.health();
      expect(health.l2).toMatchObject({ connected: false, tls: true });
      expect(health.status).toBe('degraded');
      expect(await cache.getWithFallback('refused', TYPE, async () => 'from compute')).toBe('from compute');
      expect(await cache.get('q', TYPE)).toBeUndefined(); // what the trusted instances wrote stays out of reach
    }
    const lines = caches.warnings.slice(before).filter((w) => w.includes('TLS certificate refused'));
    expect(lines).toHaveLength(2); // one per cache, not one per reconnect attempt
  });

  it('a plaintext client gets nothing from the TLS port', async () => {
    const plain = await caches.make({ l2RedisUrl: redis.url.replace('rediss:', 'redis:') });
    expect((await plain.health()).l2.connected).toBe(false);
    expect(await plain.getWithFallback('plain', TYPE, async () => 'from compute')).toBe('from compute');
  });
});

describe('L2 on a Redis Cluster over TLS (client, cluster bus and replication)', () => {
  let cluster: RedisCluster;
  let caches: TestCaches;
  beforeAll(async () => {
    cluster = await startRedisCluster({ tls: tlsFiles() });
    caches = await testCaches({ l2ClusterNodes: [...cluster.nodes], l2TlsCaFile: certs.ca });
  });
  afterAll(async () => {
    await caches?.closeAll();
    await cluster?.stop();
  });

  it('uses the cluster with the CA given: host:port nodes go over TLS, L2 hits and sharded invalidations work', async () => {
    const a = await caches.make();
    const b = await caches.make();
    expect((await a.health()).l2).toMatchObject({ connected: true, tls: true });
    const keys = Array.from({ length: 20 }, (_, i) => `tls-${i}`); // spread over every master
    for (const k of keys) await a.set(k, `v ${k}`, TYPE);
    for (const k of keys) expect(await b.fetch(k, TYPE, async () => 'recomputed')).toEqual({ value: `v ${k}`, source: 'l2' });
    await a.set('tls-3', 'changed', TYPE);
    await vi.waitFor(async () => expect(await b.get('tls-3', TYPE)).toBe('changed'), { timeout: 2000, interval: 10 });
  });

  it('refuses the cluster with another CA, and answers callers', async () => {
    const before = caches.warnings.length;
    const wrong = await caches.make({ l2TlsCaFile: certs.otherCa });
    expect((await wrong.health()).l2.connected).toBe(false);
    expect(await wrong.getWithFallback('tls-3', TYPE, async () => 'from compute')).toBe('from compute');
    expect(caches.warnings.slice(before).some((w) => w.includes('TLS certificate refused'))).toBe(true);
  });
});
