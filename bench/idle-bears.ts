/**
 * Many connected, idle bears: each connects with its fleet-derived secret,
 * subscribes to its `res` and `warm` topics as the firmware does, then stays
 * silent. Connects run a bounded number at a time, like a fleet coming
 * online, not a SYN flood.
 */
import type { MqttClient } from 'mqtt';
import { deriveDeviceSecret } from '../gateway/device-secret.js';
import { deviceTopic } from '../protocol/index.js';
import { connectMqtt } from '../test/helpers/mqtt-connect.js';

export async function connectIdleBears(
  mqttUrl: string,
  fleetKey: string,
  count: number,
  concurrency: number,
  onProgress: (connected: number) => void,
): Promise<MqttClient[]> {
  const bears: MqttClient[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const id = `idle-${next++}`;
      const client = await connectMqtt(mqttUrl, { clientId: id, username: id, password: deriveDeviceSecret(fleetKey, id), clean: true });
      await client.subscribeAsync([deviceTopic(id, 'res'), deviceTopic(id, 'warm')], { qos: 1 });
      bears.push(client);
      if (bears.length % 500 === 0) onProgress(bears.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return bears;
}
