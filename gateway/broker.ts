/**
 * The MQTT side: an Aedes broker on a plain TCP listener (and on any stream
 * handed to `handle`: the WebSocket transport), with device
 * authentication and the topic ACL installed, every bear publish on its own
 * `req`/`evt` topic handed to `onBearMessage`, and the set of connected
 * bears tracked (for warm pushes, removal and the connected-bears gauge).
 * Every connection, whatever its transport, passes the per-address
 * connection limit first and the packet-size guard (./packet-guard.ts) in
 * front of Aedes's parser.
 */
import type { IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import type { Logger } from 'pino';
import { deviceTopic, parseDeviceTopic } from '../protocol/index.js';
import type { Authenticate } from './auth.js';
import type { createAuthorizers } from './authorize.js';
import type { ConnectionLimiter } from './connection-limiter.js';
import { guardPackets, type PacketLimits, type PacketRefusal } from './packet-guard.js';

export interface BrokerOptions {
  host: string;
  port: number;
  authenticate: Authenticate;
  authorizers: ReturnType<typeof createAuthorizers>;
  log: Logger;
  /** Largest CONNECT and largest request payload a bear may send. */
  maxConnectBytes: number;
  maxRequestBytes: number;
  connectTimeoutMs: number;
  connectionLimiter: ConnectionLimiter;
  /** A connection closed before authentication: over the rate limit or a packet over its bound. */
  onRefused(reason: 'connect-rate' | PacketRefusal): void;
  onBearMessage(deviceId: string, channel: 'req' | 'evt', payload: Buffer): void;
  onDisconnect(deviceId: string): void;
}

export interface Broker {
  readonly url: string;
  /** Serves one more MQTT connection over any byte stream (the WebSocket transport), guarded. */
  handle(stream: Duplex, req?: IncomingMessage): void;
  /** True if a new connection from this address may proceed; counts and logs a refusal. */
  admit(address: string | undefined): boolean;
  /** The packet bounds every connection is held to. */
  readonly limits: PacketLimits;
  readonly clients: ReadonlyMap<string, Client>;
  publish(topic: string, payload: Buffer): Promise<void>;
  close(): Promise<void>;
}

/**
 * A PUBLISH's remaining length beyond its payload: topic length (2), the
 * longest topic a bear may use, packet id (2).
 */
const PUBLISH_OVERHEAD = 2 + deviceTopic('x'.repeat(64), 'warm').length + 2;

export async function startBroker(o: BrokerOptions): Promise<Broker> {
  const limits: PacketLimits = { maxConnectBytes: o.maxConnectBytes, maxPacketBytes: o.maxRequestBytes + PUBLISH_OVERHEAD };
  const aedes = await Aedes.createBroker({
    connectTimeout: o.connectTimeoutMs,
    authenticate: o.authenticate,
    ...o.authorizers,
    // A bear's id is 1-64 characters; refuse longer client ids before authentication.
    maxClientsIdLength: 64,
    // No cap on messages in flight inside the emitter. With the default (100), a burst of bears
    // reconnecting at once queues publishes, and mqemitter drains its queue recursively, one stack
    // frame per message: the simulator's reconnect storm of 2,000 bears overflowed the stack.
    // Per-bear rate limits and MQTT's in-flight window bound the work instead.
    concurrency: 0,
  });
  const clients = new Map<string, Client>();

  aedes.on('client', (client) => clients.set(client.id, client));
  aedes.on('clientDisconnect', (client) => {
    if (clients.get(client.id) === client) clients.delete(client.id);
    o.onDisconnect(client.id);
  });
  aedes.on('clientError', (client, err) => o.log.debug({ deviceId: client.id, err: err.message }, 'mqtt client error'));
  aedes.on('connectionError', (_client, err) => o.log.debug({ err: err.message }, 'mqtt connection error'));
  aedes.on('publish', (packet, client) => {
    // client is null for the gateway's own publishes; the ACL has already checked a bear's topic.
    if (!client) return;
    const topic = parseDeviceTopic(packet.topic);
    if (topic && topic.deviceId === client.id && (topic.channel === 'req' || topic.channel === 'evt')) {
      o.onBearMessage(client.id, topic.channel, packet.payload as Buffer);
    }
  });

  const handle = (stream: Duplex, req?: IncomingMessage): void => {
    guardPackets(stream, limits, (reason, declaredBytes) => {
      o.onRefused(reason);
      o.log.warn({ reason, declaredBytes, limit: reason === 'connect-too-large' ? limits.maxConnectBytes : limits.maxPacketBytes }, 'mqtt connection closed: packet over its bound');
    });
    aedes.handle(stream, req);
  };
  const admit = (address: string | undefined): boolean => {
    if (o.connectionLimiter.admit(address)) return true;
    o.onRefused('connect-rate');
    o.log.warn({ address }, 'mqtt connection refused: connection rate limit');
    return false;
  };

  const server: Server = createServer((socket) => {
    if (!admit(socket.remoteAddress)) return void socket.destroy();
    // Small request/response packets: without this, Nagle and delayed ACKs add ~40 ms per hop.
    socket.setNoDelay(true);
    handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `mqtt://${o.host}:${port}`,
    handle,
    admit,
    limits,
    clients,
    publish: (topic, payload) =>
      new Promise((resolve, reject) => {
        aedes.publish({ cmd: 'publish', topic, payload, qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve()));
      }),
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const client of clients.values()) client.conn.destroy();
      await closed;
    },
  };
}
