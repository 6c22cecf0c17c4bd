/** Which Redis the config names (one URL or cluster nodes, TLS or not), from options and environment: pure logic. */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, createCache, resolveConfig } from '../../sdk/index.js';
import { redisEndpoints } from '../../sdk/redis-endpoints.js';

const saved = { ...process.env };
afterEach(() => {
  for (const name of ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_TLS_CA']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.field;
    throw err;
  }
  return undefined;
};

describe('Redis endpoints from the config', () => {
  it('reads REDIS_CLUSTER_NODES as comma-separated host:port, and REDIS_TLS_CA', () => {
    delete process.env.REDIS_URL;
    process.env.REDIS_CLUSTER_NODES = '10.0.0.1:7000, 10.0.0.2:7001,';
    process.env.REDIS_TLS_CA = '/etc/ssl/redis-ca.pem';
    const c = resolveConfig({});
    expect(c.l2ClusterNodes).toEqual(['10.0.0.1:7000', '10.0.0.2:7001']);
    expect(redisEndpoints(c.l2RedisUrl, c.l2ClusterNodes, c.l2TlsCaFile)).toEqual({
      mode: 'cluster',
      nodes: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }],
      tls: true, // a CA turns TLS on for bare host:port nodes
      username: undefined,
      password: undefined,
    });
  });

  it('lets a Redis named in the config replace the environment\'s, of either kind', () => {
    process.env.REDIS_URL = 'redis://127.0.0.1:6399';
    expect(resolveConfig({ l2ClusterNodes: ['redis://127.0.0.1:7000'] })).toMatchObject({ l2RedisUrl: undefined, l2ClusterNodes: ['redis://127.0.0.1:7000'] });
    delete process.env.REDIS_URL;
    process.env.REDIS_CLUSTER_NODES = '127.0.0.1:7000';
    expect(resolveConfig({ l2RedisUrl: 'redis://127.0.0.1:6399' })).toMatchObject({ l2RedisUrl: 'redis://127.0.0.1:6399', l2ClusterNodes: undefined });
  });

  it('takes credentials and TLS from cluster node URLs', () => {
    expect(redisEndpoints(undefined, ['rediss://app:s%40cret@redis-a.internal:6380', 'redis-b.internal:6380'], undefined)).toEqual({
      mode: 'cluster',
      nodes: [{ host: 'redis-a.internal', port: 6380 }, { host: 'redis-b.internal', port: 6380 }],
      tls: true,
      username: 'app',
      password: 's@cret',
    });
    expect(redisEndpoints('rediss://h:6380', undefined, undefined)).toEqual({ mode: 'single', url: 'rediss://h:6380', tls: true });
  });

  it('refuses what cannot be meant, naming the field', () => {
    process.env.REDIS_URL = 'redis://127.0.0.1:6399';
    process.env.REDIS_CLUSTER_NODES = '127.0.0.1:7000';
    expect(fieldOf(() => resolveConfig({}))).toBe('l2ClusterNodes'); // both in the environment
    expect(() => resolveConfig({})).toThrow(/REDIS_URL.*REDIS_CLUSTER_NODES.*not both/); // named as the user set them
    delete process.env.REDIS_URL;
    delete process.env.REDIS_CLUSTER_NODES;
    expect(fieldOf(() => resolveConfig({ l2RedisUrl: 'redis://a:1', l2ClusterNodes: ['b:2'] }))).toBe('l2ClusterNodes');
    expect(fieldOf(() => resolveConfig({ l2ClusterNodes: [] }))).toBe('l2ClusterNodes');
    expect(fieldOf(() => resolveConfig({ l2ClusterNodes: ['no-port'] }))).toBe('l2ClusterNodes');
    expect(fieldOf(() => resolveConfig({ l2ClusterNodes: ['http://a:1'] }))).toBe('l2ClusterNodes');
    expect(fieldOf(() => resolveConfig({ l2ClusterNodes: ['redis://a:1', 'rediss://b:2'] }))).toBe('l2ClusterNodes');
    expect(fieldOf(() => resolveConfig({ l2RedisUrl: 'redis://a:1', l2TlsCaFile: '/ca.pem' }))).toBe('l2TlsCaFile'); // would send in clear
    expect(fieldOf(() => resolveConfig({ l2ClusterNodes: ['redis://a:1'], l2TlsCaFile: '/ca.pem' }))).toBe('l2TlsCaFile');
    expect(fieldOf(() => resolveConfig({ l2TlsCaFile: '/ca.pem' }))).toBe('l2TlsCaFile'); // no Redis to use it for
    expect(fieldOf(() => resolveConfig({ l2TlsCaFile: '/ca.pem', l2RedisUrl: 'rediss://a:1' }))).toBeUndefined();
  });

  it('checks the CA file before starting anything', async () => {
    await expect(createCache({ l2RedisUrl: 'rediss://127.0.0.1:1', l2TlsCaFile: '/nonexistent/ca.pem', l3Enabled: false })).rejects.toMatchObject({
      name: 'ConfigError',
      field: 'l2TlsCaFile',
    });
    await expect(createCache({ l2RedisUrl: 'rediss://127.0.0.1:1', l2TlsCaFile: '/etc/hostname', l3Enabled: false })).rejects.toThrow(/no PEM certificate/);
  });
});
