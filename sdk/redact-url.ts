/** Redis URLs without their passwords, for logs and health reports. */
import type { RedisEndpoints } from './redis-endpoints.js';

/** A URL without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** The Redis a cache talks to: its URL, or `cluster host:port,…`, passwords removed. */
export function describeEndpoints(endpoints: RedisEndpoints): string {
  if (endpoints.mode === 'single') return redactUrl(endpoints.url);
  return `cluster ${endpoints.tls ? 'rediss' : 'redis'}://${endpoints.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
}
