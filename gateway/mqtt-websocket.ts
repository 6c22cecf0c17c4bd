/**
 * MQTT over WebSocket on the HTTP port (`ws://host:httpPort/mqtt`), for
 * clients that can only speak HTTP(S) — a browser dashboard, a bear behind a
 * proxy that passes only port 443. Same broker, same auth and ACL as TCP.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';

export const MQTT_WEBSOCKET_PATH = '/mqtt';

/** Accepts WebSocket upgrades on MQTT_WEBSOCKET_PATH and hands each as a stream to the broker; returns a closer. */
export function serveMqttOverWebSocket(http: Server, handle: (stream: Duplex, req: IncomingMessage) => void): () => Promise<void> {
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://origin.invalid').pathname !== MQTT_WEBSOCKET_PATH) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    wss.handleUpgrade(req, socket, head, (ws) => handle(createWebSocketStream(ws), req));
  });
  return () => new Promise<void>((resolve) => wss.close(() => resolve()));
}
