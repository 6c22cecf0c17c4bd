/**
 * Per-address connection rate limits, checked when a TCP connection (plain
 * MQTT, MQTT over TLS before its handshake, a WebSocket upgrade) arrives and
 * before any byte of it is parsed: each remote address may open `burst`
 * connections at once and `perSecond` more each second; beyond that the
 * socket is closed at once. Exempt addresses (loopback by default: a local
 * TLS terminator or load balancer, the simulator) are never limited, since
 * every client seems to come from them.
 */
import { BlockList, isIP, type Server, type Socket } from 'node:net';
import { createRateLimiter } from './rate-limit.js';

export interface ConnectionLimitOptions {
  /** New connections per second per address; 0 turns the limit off. */
  readonly perSecond: number;
  readonly burst: number;
  /** Addresses and CIDR ranges (`10.0.0.0/8`, `::1`) never limited. */
  readonly exempt: readonly string[];
}

export interface ConnectionLimiter {
  /** True if a connection from this address may proceed (and counts it). */
  admit(address: string | undefined): boolean;
}

/** Addresses remembered before idle ones (full buckets) are swept. */
const SWEEP_AT = 10_000;

export function createConnectionLimiter({ perSecond, burst, exempt }: ConnectionLimitOptions): ConnectionLimiter {
  if (perSecond === 0) return { admit: () => true };
  const exempted = exemptList(exempt);
  const buckets = createRateLimiter({ perSecond, burst });
  return {
    admit(raw) {
      const address = unmapped(raw ?? '');
      const family = isIP(address);
      if (family === 0) return false;
      if (exempted.check(address, family === 6 ? 'ipv6' : 'ipv4')) return true;
      if (buckets.size >= SWEEP_AT) buckets.forgetIdle();
      return buckets.take(address);
    },
  };
}

/**
 * Closes each new connection to `server` that `admit` refuses, on arrival: before a TLS server's
 * handshake, before an HTTP server reads a byte.
 */
export function closeUnadmitted(server: Server, admit: (address: string | undefined) => boolean): void {
  server.on('connection', (socket: Socket) => {
    if (!admit(socket.remoteAddress)) socket.destroy();
  });
}

/** Parses `a.b.c.d`, `a.b.c.d/n`, IPv6 and IPv6/n entries; throws naming a bad one. */
export function exemptList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
    if (family === 0 || !(bits <= (family === 6 ? 128 : 32))) {
      throw new Error(`not an address or CIDR range: ${JSON.stringify(entry)}`);
    }
    list.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack listener) as `1.2.3.4`. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
