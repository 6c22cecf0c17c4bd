/**
 * The MQTT side: an Aedes broker on a plain TCP listener and a TLS one (and
 * on any stream handed to `handle`: the WebSocket transports), with device
 * authentication and the topic ACL installed, every bear publish on its own
 * `req`/`evt` topic handed to `onBearMessage`, and the set of connected
 * bears tracked (for warm pushes, removal and the connected-bears gauge).
 * Every connection, whatever its transport, passes the per-address
 * connection limit first and the packet-size guard (./packet-guard.ts) in
 * front of Aedes's parser.
 *
 * What the gateway sends a bear (responses, warm manifests) is written
 * straight to that bear's connection (`sendTo`): only the bear itself may
 * subscribe to its topics (./authorize.ts), so a broker-wide publish would
 * only spend a topic match and an emitter round to find the same client.
 */
import type { IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import type { Logger } from 'pino';
import { BEAR_PUBLISHES, deviceTopic, TOPIC_ROOT } from '../protocol/index.js';
import { createAckWithAnswer } from './ack-with-answer.js';
import type { Authenticate } from './auth.js';
import { ownChannel, type createAuthorizers } from './authorize.js';
import { tlsSocketOf } from './client-certificate.js';
import { closeUnadmitted, type ConnectionLimiter } from './connection-limiter.js';
import { secureTlsListener, type TlsRefusal } from './tls-listener.js';
import { OptionError } from './errors.js';
import { createGarbageNudge } from './garbage-nudge.js';
import { guardPackets, type PacketLimits, type PacketRefusal } from './packet-guard.js';

export interface BrokerOptions {
  /** The plaintext listener. */
  host: string;
  port: number;
  /** The TLS listener (MQTTS). */
  tls: { host: string; port: number; options: TlsOptions };
  authenticate: Authenticate;
  authorizers: ReturnType<typeof createAuthorizers>;
  log: Logger;
  /** Largest CONNECT and largest request payload a bear may send. */
  maxConnectBytes: number;
  maxRequestBytes: number;
  connectTimeoutMs: number;
  connectionLimiter: ConnectionLimiter;
  /** A connection closed before authentication: over the rate limit, a packet over its bound, a failed TLS handshake. */
  onRefused(reason: 'connect-rate' | PacketRefusal | TlsRefusal): void;
  onBearMessage(deviceId: string, channel: 'req' | 'evt', payload: Buffer): void;
  onConnect?(deviceId: string): void;
  onDisconnect(deviceId: string): void;
}

export interface Broker {
  readonly url: string;
  /** `mqtts://…` */
  readonly tlsUrl: string;
  /** True if this connected bear came over TLS (MQTTS or WSS). */
  overTls(deviceId: string): boolean;
  /** Serves one more MQTT connection over any byte stream (the WebSocket transport), guarded. */
  handle(stream: Duplex, req?: IncomingMessage): void;
  /** True if a new connection from this address may proceed; counts and logs a refusal. */
  admit(address: string | undefined): boolean;
  /** The packet bounds every connection is held to. */
  readonly limits: PacketLimits;
  readonly clients: ReadonlyMap<string, Client>;
  /**
   * Delivers a QoS 1 message on the bear's own `res` or `warm` topic, on its connection; false
   * (nothing sent) when it is not connected here: it asks again once it is back.
   */
  sendTo(deviceId: string, channel: 'res' | 'warm', payload: Buffer): boolean;
  /** New TLS settings (a rotated certificate) for the MQTTS connections from now on; open ones keep theirs. */
  setSecureContext(options: TlsOptions): void;
  close(): Promise<void>;
}

/**
 * A PUBLISH's remaining length beyond its payload: topic length (2), the
 * longest topic a bear may use, packet id (2).
 */
const PUBLISH_OVERHEAD = 2 + deviceTopic('x'.repeat(64), 'warm').length + 2;

export async function startBroker(o: BrokerOptions): Promise<Broker> {
  const limits: PacketLimits = { maxConnectBytes: o.maxConnectBytes, maxPacketBytes: o.maxRequestBytes + PUBLISH_OVERHEAD };
  const garbage = createGarbageNudge();
  const ack = createAckWithAnswer();
  const aedes = await Aedes.createBroker({
    connectTimeout: o.connectTimeoutMs,
    authenticate: o.authenticate,
    ...o.authorizers,
    authorizePublish(client, packet, callback) {
      o.authorizers.authorizePublish(client, packet, (err) => {
        // A request's PUBACK waits to leave with its answer (./ack-with-answer.ts).
        if (!err && client && packet.qos === 1 && ownChannel(client.id, packet.topic, BEAR_PUBLISHES) === 'req') ack.hold(client, packet);
        callback(err);
      });
    },
    // A bear's id is 1-64 characters; refuse longer client ids before authentication.
    maxClientsIdLength: 64,
    // No cap on messages in flight inside the emitter. With the default (100), a burst of bears
    // reconnecting at once queues publishes, and mqemitter drains its queue recursively, one stack
    // frame per message: the simulator's reconnect storm of 2,000 bears overflowed the stack.
    // Per-bear rate limits and MQTT's in-flight window bound the work instead.
    concurrency: 0,
  });
  const clients = new Map<string, Client>();

  aedes.on('client', (client) => {
    clients.set(client.id, client);
    o.onConnect?.(client.id);
  });
  aedes.on('clientDisconnect', (client) => {
    if (clients.get(client.id) === client) clients.delete(client.id);
    o.onDisconnect(client.id);
  });
  aedes.on('clientError', (client, err) => o.log.debug({ deviceId: client.id, err: err.message }, 'mqtt client error'));
  aedes.on('connectionError', (_client, err) => o.log.debug({ err: err.message }, 'mqtt connection error'));
  aedes.on('publish', (packet, client) => {
    // client is null for the broker's own publishes; a bear's passed the ACL (its own req or evt).
    if (!client) return;
    const channel = ownChannel(client.id, packet.topic, BEAR_PUBLISHES);
    if (channel === 'req' || channel === 'evt') ack.handle(client, packet, () => o.onBearMessage(client.id, channel, packet.payload as Buffer));
  });

  // Aedes gets a connection (and allocates its client state) only once the CONNECT's fixed header
  // is within bounds; until then the guard alone holds it, under the connect timeout.
  const handle = (stream: Duplex, req?: IncomingMessage): void => {
    const timer = setTimeout(() => stream.destroy(), o.connectTimeoutMs);
    stream.once('close', () => clearTimeout(timer));
    // Before Aedes listens, a reset must not be an unhandled 'error' (which would end the process).
    stream.on('error', (err: NodeJS.ErrnoException) => o.log.debug({ err: err.code ?? err.message }, 'mqtt connection error before CONNECT'));
    guardPackets(stream, limits, {
      onRefuse(reason, declaredBytes) {
        garbage.refused();
        o.onRefused(reason);
        o.log.warn({ reason, declaredBytes, limit: reason === 'connect-too-large' ? limits.maxConnectBytes : limits.maxPacketBytes }, 'mqtt connection closed: packet over its bound');
      },
      onFirstPacket() {
        clearTimeout(timer);
        aedes.handle(stream, req);
      },
    });
  };
  const admit = (address: string | undefined): boolean => {
    if (o.connectionLimiter.admit(address)) return true;
    o.onRefused('connect-rate');
    o.log.warn({ address }, 'connection refused: connection rate limit');
    return false;
  };

  const server: Server = createServer((socket) => {
    if (!admit(socket.remoteAddress)) return void socket.destroy();
    // Small request/response packets: without this, Nagle and delayed ACKs add ~40 ms per hop.
    socket.setNoDelay(true);
    handle(socket);
  });
  const tlsServer = createTlsServer(o.tls.options, (socket) => {
    socket.setNoDelay(true);
    handle(socket);
  });
  secureTlsListener(tlsServer, { log: o.log, name: 'mqtts', onRefused: o.onRefused });
  closeUnadmitted(tlsServer, admit);
  const port = await listen(server, o.port, o.host, '--mqtt-port');
  const tlsPort = await listen(tlsServer, o.tls.port, o.tls.host, '--mqtts-port').catch(async (err: unknown) => {
    await new Promise((resolve) => server.close(resolve));
    throw err;
  });

  return {
    url: `mqtt://${o.host}:${port}`,
    tlsUrl: `mqtts://${urlHost(o.tls.host)}:${tlsPort}`,
    overTls(deviceId) {
      const client = clients.get(deviceId);
      return client !== undefined && tlsSocketOf(client) !== undefined;
    },
    handle,
    admit,
    limits,
    clients,
    sendTo(deviceId, channel, payload) {
      const client = clients.get(deviceId);
      if (!client) return false;
      // A write error closes the connection (Aedes handles it); the bear retries the request then.
      // The id passed authentication (a valid device id): the topic needs no second check.
      client.publish({ cmd: 'publish', topic: `${TOPIC_ROOT}/${deviceId}/${channel}`, payload, qos: 1, retain: false, dup: false }, ack.sent(client));
      return true;
    },
    setSecureContext(options) {
      tlsServer.setSecureContext(options);
    },
    async close() {
      const closed = Promise.all([server, tlsServer].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      for (const client of clients.values()) client.conn.destroy();
      await closed;
    },
  };
}

/** Listens; a failure names the option (a port in use is the usual one). */
export async function listen(server: Server, port: number, host: string, option: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new OptionError(option, `cannot listen on ${host}:${port}: ${err.code ?? err.message}`)));
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** A listen address as a URL host: a wildcard is reached as localhost, IPv6 goes in brackets. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

