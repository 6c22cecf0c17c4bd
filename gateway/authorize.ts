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
import { BEAR_PUBLISHES, BEAR_SUBSCRIBES, TOPIC_ROOT, type ChannelName } from '../protocol/index.js';
import { safeId } from './auth.js';

export interface AuthorizeOptions {
  log: Logger;
  onDenied(action: 'publish' | 'subscribe'): void;
}

const DEVICE_PREFIX = `${TOPIC_ROOT}/`;

/**
 * Which of `channels` `topic` is for this bear (`teddy/v1/{its id}/{channel}`), if any: whole-topic
 * comparisons without building a string, so neither the ACL nor each publish allocates.
 */
export function ownChannel(deviceId: string, topic: string, channels: readonly ChannelName[]): ChannelName | undefined {
  const idEnd = DEVICE_PREFIX.length + deviceId.length;
  if (topic.charCodeAt(idEnd) !== SLASH || !topic.startsWith(DEVICE_PREFIX) || !topic.startsWith(deviceId, DEVICE_PREFIX.length)) return undefined;
  for (const channel of channels) {
    if (topic.length === idEnd + 1 + channel.length && topic.endsWith(channel)) return channel;
  }
  return undefined;
}

const SLASH = 0x2f;

export function createAuthorizers({ log, onDenied }: AuthorizeOptions): Required<Pick<AedesOptions, 'authorizePublish' | 'authorizeSubscribe'>> {
  const deny = (action: 'publish' | 'subscribe', clientId: string, topic: string): void => {
    onDenied(action);
    log.warn({ deviceId: safeId(clientId), action, topic: topic.slice(0, 200) }, 'acl denied');
  };

  return {
    authorizePublish(client, packet, callback) {
      // client is null for the broker's own publishes.
      if (!client) return callback(null);
      if (!ownChannel(client.id, packet.topic, BEAR_PUBLISHES)) {
        deny('publish', client.id, packet.topic);
        return callback(new Error('publish not authorized'));
      }
      // A retained request would be stored by the broker and replayed forever: never retain.
      packet.retain = false;
      callback(null);
    },
    authorizeSubscribe(client, subscription, callback) {
      if (!ownChannel(client.id, subscription.topic, BEAR_SUBSCRIBES)) {
        deny('subscribe', client.id, subscription.topic);
        return callback(null, null);
      }
      callback(null, subscription);
    },
  };
}
