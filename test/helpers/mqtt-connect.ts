/**
 * mqtt.js over a TCP socket with Nagle's algorithm off. mqtt.js's own TCP
 * transport does not set TCP_NODELAY, and on a request/response protocol of
 * small packets Nagle plus delayed ACKs adds ~40 ms to every round trip —
 * which would measure the kernel's timers, not the gateway. A real bear's
 * MQTT stack (coreMQTT on lwIP) sends each packet immediately, too.
 */
import { createConnection } from 'node:net';
import { MqttClient, type IClientOptions } from 'mqtt';

export function connectMqtt(url: string, options: IClientOptions): Promise<MqttClient> {
  const { hostname, port } = new URL(url);
  const client = new MqttClient(() => createConnection({ host: hostname, port: Number(port), noDelay: true }), {
    protocolId: 'MQTT',
    protocolVersion: 4,
    keepalive: 60,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...options,
  });
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      client.end(true);
      reject(err);
    };
    client.once('error', onError);
    client.once('connect', () => {
      client.off('error', onError);
      resolve(client);
    });
  });
}
