/**
 * Topic ACL (Aedes `authorizePublish` / `authorizeSubscribe`): a bear may
 * publish only on its own `req` and `evt` topics and subscribe only to its
 * own `res` and `warm` topics — exact topics, no wildcards. Everything else
 * is refused and logged with the device id and topic, never the payload.
 * A refused publish makes Aedes close the connection (MQTT 3.1.1 has no
 * negative PUBACK); a refused subscription gets SUBACK 0x80.
 */
import type { AedesOptions } from 'aedes';
import type { Logger } from 'pino';
import { BEAR_PUBLISHES, BEAR_SUBSCRIBES, parseDeviceTopic, type ChannelName } from '../protocol/index.js';
import { safeId } from './auth.js';

export interface AuthorizeOptions {
  log: Logger;
  onDenied(action: 'publish' | 'subscribe'): void;
}

export function createAuthorizers({ log, onDenied }: AuthorizeOptions): Required<Pick<AedesOptions, 'authorizePublish' | 'authorizeSubscribe'>> {
  const owns = (clientId: string, topic: string, allowed: readonly ChannelName[]): boolean => {
    const parsed = parseDeviceTopic(topic);
    return parsed !== undefined && parsed.deviceId === clientId && allowed.includes(parsed.channel);
  };
  const deny = (action: 'publish' | 'subscribe', clientId: string, topic: string): void => {
    onDenied(action);
    log.warn({ deviceId: safeId(clientId), action, topic: topic.slice(0, 200) }, 'acl denied');
  };

  return {
    authorizePublish(client, packet, callback) {
      // client is null for the gateway's own publishes.
      if (!client) return callback(null);
      if (!owns(client.id, packet.topic, BEAR_PUBLISHES)) {
        deny('publish', client.id, packet.topic);
        return callback(new Error('publish not authorized'));
      }
      // A retained request would be stored by the broker and replayed forever: never retain.
      packet.retain = false;
      callback(null);
    },
    authorizeSubscribe(client, subscription, callback) {
      if (!owns(client.id, subscription.topic, BEAR_SUBSCRIBES)) {
        deny('subscribe', client.id, subscription.topic);
        return callback(null, null);
      }
      callback(null, subscription);
    },
  };
}
