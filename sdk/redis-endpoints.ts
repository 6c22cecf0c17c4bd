/**
 * Which Redis the cache talks to, as the config names it: one server
 * (`l2RedisUrl`) or a Redis Cluster (`l2ClusterNodes`, any few of its nodes),
 * and whether over TLS. Parsed once, in resolveConfig, so a bad URL is a
 * ConfigError before anything starts; ./l2.ts connects to what this says.
 *
 * TLS: a `rediss://` URL asks for it, and so does a CA file (`l2TlsCaFile`):
 * cluster nodes given as bare `host:port` then use TLS too. A `redis://` URL
 * next to a CA file is refused rather than silently sent in clear. The CA
 * file is read by readRedisTlsCa, for the cache and for anything else that
 * connects to the same Redis (the gateway's fleet state, the CLI): one that
 * cannot be read is a ConfigError naming `l2TlsCaFile`.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from './errors.js';

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export type RedisEndpoints =
  | { readonly mode: 'single'; readonly url: string; readonly tls: boolean }
  | {
      readonly mode: 'cluster';
      readonly nodes: readonly RedisNode[];
      readonly tls: boolean;
      readonly username: string | undefined;
      readonly password: string | undefined;
    };

/** The endpoints of a resolved config, or undefined when it names none (then the embedded default applies). */
export function redisEndpoints(
  l2RedisUrl: string | undefined,
  l2ClusterNodes: readonly string[] | undefined,
  l2TlsCaFile: string | undefined,
): RedisEndpoints | undefined {
  const caGiven = l2TlsCaFile !== undefined;
  if (l2RedisUrl !== undefined && l2ClusterNodes !== undefined) {
    throw new ConfigError('l2ClusterNodes', 'set either l2RedisUrl (REDIS_URL: one Redis) or l2ClusterNodes (REDIS_CLUSTER_NODES: a cluster), not both');
  }
  if (l2RedisUrl !== undefined) {
    const url = parse('l2RedisUrl', l2RedisUrl, false);
    if (!url) throw new ConfigError('l2RedisUrl', 'must be a redis:// or rediss:// URL');
    const tls = url.protocol === 'rediss:';
    if (caGiven && !tls) throw new ConfigError('l2TlsCaFile', 'is set but l2RedisUrl is redis:// (no TLS); use rediss://');
    return { mode: 'single', url: l2RedisUrl, tls };
  }
  if (l2ClusterNodes === undefined) return undefined;
  if (!Array.isArray(l2ClusterNodes) || l2ClusterNodes.length === 0) {
    throw new ConfigError('l2ClusterNodes', 'must be a non-empty list of redis://host:port, rediss://host:port or host:port');
  }
  const urls = l2ClusterNodes.map((n) => {
    const url = typeof n === 'string' ? parse('l2ClusterNodes', n, true) : undefined;
    if (!url || url.port === '') throw new ConfigError('l2ClusterNodes', `${JSON.stringify(String(n)).slice(0, 80)} is not redis://host:port, rediss://host:port or host:port`);
    return { url, explicit: /^rediss?:\/\//.test(n) };
  });
  const schemes = new Set(urls.filter((u) => u.explicit).map((u) => u.url.protocol));
  if (schemes.size > 1) throw new ConfigError('l2ClusterNodes', 'mixes redis:// and rediss:// nodes');
  const tls = schemes.has('rediss:') || caGiven;
  if (caGiven && schemes.has('redis:')) throw new ConfigError('l2TlsCaFile', 'is set but l2ClusterNodes are redis:// (no TLS); use rediss:// or host:port');
  const withAuth = urls.find((u) => u.url.username || u.url.password)?.url;
  return {
    mode: 'cluster',
    nodes: urls.map(({ url }) => ({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port) })),
    tls,
    username: withAuth?.username ? decodeURIComponent(withAuth.username) : undefined,
    password: withAuth?.password ? decodeURIComponent(withAuth.password) : undefined,
  };
}

/** A URL, or undefined if it is none; `bare` also takes `host:port` (read as redis://). */
function parse(field: string, text: string, bare: boolean): URL | undefined {
  if (typeof text !== 'string') throw new ConfigError(field, 'must be a string');
  const withScheme = bare && !/^[a-z]+:\/\//i.test(text) ? `redis://${text}` : text;
  if (!/^rediss?:\/\//.test(withScheme)) return undefined;
  try {
    return new URL(withScheme);
  } catch {
    return undefined;
  }
}

/** The CA's PEM, read before anything starts; a file that is missing or holds no certificate is a ConfigError. */
export async function readRedisTlsCa(path: string): Promise<Buffer> {
  let pem: Buffer;
  try {
    pem = await readFile(path);
  } catch (err) {
    throw new ConfigError('l2TlsCaFile', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError('l2TlsCaFile', `${path} holds no PEM certificate`);
  return pem;
}
