/**
 * What every TLS listener of the gateway (MQTTS, HTTPS with WSS) does
 * around the handshake (the per-address admission before it is
 * ./connection-limiter.ts's closeUnadmitted): a log line (reason code and
 * address, nothing the client sent) and a count
 * for each failed handshake — a client that does not trust the CA, a
 * plaintext client on the TLS port, TLS 1.1 — and the refusal of a client
 * certificate that does not verify (wrong CA, expired). The listener goes
 * on serving everyone else.
 */
import type { Server, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';

export type TlsRefusal = 'tls-handshake' | 'client-certificate';

export interface TlsListenerOptions {
  log: Logger;
  /** Which listener, for logs: 'mqtts' or 'https'. */
  name: string;
  onRefused(reason: TlsRefusal): void;
}

export function secureTlsListener(server: Server, o: TlsListenerOptions): void {
  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    socket.destroy();
    // A reset mid-handshake is a client going away (or one the admission check just closed), not a refusal.
    if (err.code === 'ECONNRESET') return;
    o.onRefused('tls-handshake');
    o.log.info({ listener: o.name, address: socket.remoteAddress, reason: err.code ?? err.message }, 'tls handshake refused');
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.authorized || !socket.getPeerX509Certificate()) return;
    o.onRefused('client-certificate');
    o.log.warn({ listener: o.name, address: socket.remoteAddress, reason: String(socket.authorizationError) }, 'client certificate refused');
    socket.destroy();
  });
}
