/**
 * MQTT over WebSocket on the HTTP port (`ws://host:httpPort/mqtt`), for
 * clients that can only speak HTTP(S) — a browser dashboard, a bear behind a
 * proxy that passes only port 443. Same broker, same auth and ACL as TCP,
 * the same packet guard, and the same connection rate limit (the HTTP
 * server's: it admits the connection an upgrade arrives on, ./index.ts); a
 * WebSocket message is capped at the largest packet, so `ws` never buffers
 * more than the guard would let through.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Broker } from './broker.js';

export const MQTT_WEBSOCKET_PATH = '/mqtt';

/** Accepts WebSocket upgrades on MQTT_WEBSOCKET_PATH and hands each as a stream to the broker; returns a closer. */
export function serveMqttOverWebSocket(http: Server, broker: Pick<Broker, 'handle' | 'limits'>): () => Promise<void> {
  // One message may carry a whole packet plus its fixed header (at most 5 bytes), and mqtt.js
  // sends each packet as one message.
  const maxPayload = Math.max(broker.limits.maxConnectBytes, broker.limits.maxPacketBytes) + 5;
  const wss = new WebSocketServer({ noServer: true, maxPayload });
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://origin.invalid').pathname !== MQTT_WEBSOCKET_PATH) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    wss.handleUpgrade(req, socket, head, (ws) => broker.handle(createWebSocketStream(ws), req));
  });
  return () => new Promise<void>((resolve) => wss.close(() => resolve()));
}
