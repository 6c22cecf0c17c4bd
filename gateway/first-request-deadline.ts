/**
 * The connect timeout (`--connect-timeout-ms`) on the HTTP and HTTPS
 * listeners: a new connection has that long to send its first request (or
 * its WebSocket upgrade), else it is closed. Node's http server bounds a
 * request whose headers come slowly (`headersTimeout`) but never a
 * connection that sends nothing at all, so without this anyone could hold
 * idle sockets on the clip origin until the process runs out of file
 * descriptors and stops accepting bears. The TLS handshake before it has its
 * own bound (`handshakeTimeout`, ./server-tls.ts); between keep-alive
 * requests Node's `keepAliveTimeout` applies.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';

export function closeSilentConnections(server: HttpServer | HttpsServer, timeoutMs: number): void {
  const deadlines = new WeakMap<Socket, NodeJS.Timeout>();
  const settle = (socket: Socket): void => {
    clearTimeout(deadlines.get(socket));
    deadlines.delete(socket);
  };
  // An HTTPS request's socket is the TLS socket: its deadline starts once the handshake is done.
  server.on(server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => {
    deadlines.set(socket, setTimeout(() => socket.destroy(), timeoutMs).unref());
    socket.once('close', () => settle(socket));
  });
  server.on('request', (req: IncomingMessage) => settle(req.socket));
  server.on('upgrade', (req: IncomingMessage) => settle(req.socket));
}
