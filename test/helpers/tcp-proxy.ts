/**
 * A real TCP proxy on a free loopback port in front of a server, for faults
 * a server cannot be asked to make: `deafen` stops passing the server's
 * bytes to the client on the connections whose client has sent a given
 * string (say, the subscriber that sent SSUBSCRIBE), while both sockets stay
 * open: a connection that is up and hears nothing.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** From now on, drops what the server sends on every connection whose client sent `sent` (any case); returns how many. */
  deafen(sent: string): number;
  close(): Promise<void>;
}

interface Piped {
  readonly client: Socket;
  readonly server: Socket;
  /** The start of what the client sent (enough to tell a connection by its first commands). */
  seen: string;
  deaf: boolean;
}

const SEEN_CHARS = 64 * 1024;

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pipes = new Set<Piped>();
  const proxy = createServer((client) => {
    const server = connect(targetPort, '127.0.0.1');
    const p: Piped = { client, server, seen: '', deaf: false };
    pipes.add(p);
    client.on('data', (d: Buffer) => {
      if (p.seen.length < SEEN_CHARS) p.seen += d.toString('latin1');
      server.write(d);
    });
    server.on('data', (d: Buffer) => p.deaf || client.write(d));
    const end = () => {
      pipes.delete(p);
      client.destroy();
      server.destroy();
    };
    client.on('close', end).on('error', end);
    server.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    deafen(sent) {
      let n = 0;
      const wanted = sent.toLowerCase();
      for (const p of pipes) if (p.seen.toLowerCase().includes(wanted)) (p.deaf = true), n++;
      return n;
    },
    async close() {
      for (const p of pipes) (p.client.destroy(), p.server.destroy());
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
