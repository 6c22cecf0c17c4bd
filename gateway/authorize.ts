/**
 * Topic ACL (Aedes `authorizePublish` / `authorizeSubscribe`): a bear may
 * publish only on its own `req` and `evt` topics and subscribe only to its
 * own `res` and `warm` topics — exact topics, no wildcards. Everything else
 * is refused and logged with the device id and topic, never the payload.
 * A refused publish makes Aedes close the connection (MQTT 3.1.1 has no
 * negative PUBACK); a refused subscription gets SUBACK 0x80.
 */
import type { AedesOptions, Client } from 'aedes';
import type { Logger } from 'pino';
import { BEAR_PUBLISHES, BEAR_SUBSCRIBES, deviceTopic } from '../protocol/index.js';
import { safeId } from './auth.js';

export interface AuthorizeOptions {
  log: Logger;
  onDenied(action: 'publish' | 'subscribe'): void;
}

/** A connected bear's own topics, built once per connection (the ACL compares whole topics). */
export interface OwnTopics {
  readonly req: string;
  readonly evt: string;
  readonly res: string;
  readonly warm: string;
  /** What it may publish to and subscribe to: exact topics, from the protocol's tables. */
  readonly publishes: readonly string[];
  readonly subscribes: readonly string[];
}

const topicsOf = new WeakMap<Client, OwnTopics>();

/** The client's own topics (its id passed authentication, so it is a valid device id). */
export function ownTopics(client: Client): OwnTopics {
  let own = topicsOf.get(client);
  if (!own) {
    const id = client.id;
    own = {
      req: deviceTopic(id, 'req'), evt: deviceTopic(id, 'evt'), res: deviceTopic(id, 'res'), warm: deviceTopic(id, 'warm'),
      publishes: BEAR_PUBLISHES.map((c) => deviceTopic(id, c)),
      subscribes: BEAR_SUBSCRIBES.map((c) => deviceTopic(id, c)),
    };
    topicsOf.set(client, own);
  }
  return own;
}

export function createAuthorizers({ log, onDenied }: AuthorizeOptions): Required<Pick<AedesOptions, 'authorizePublish' | 'authorizeSubscribe'>> {
  const deny = (action: 'publish' | 'subscribe', clientId: string, topic: string): void => {
    onDenied(action);
    log.warn({ deviceId: safeId(clientId), action, topic: topic.slice(0, 200) }, 'acl denied');
  };

  return {
    authorizePublish(client, packet, callback) {
      // client is null for the broker's own publishes.
      if (!client) return callback(null);
      const own = ownTopics(client);
      if (!own.publishes.includes(packet.topic)) {
        deny('publish', client.id, packet.topic);
        return callback(new Error('publish not authorized'));
      }
      // A retained request would be stored by the broker and replayed forever: never retain.
      packet.retain = false;
      callback(null);
    },
    authorizeSubscribe(client, subscription, callback) {
      const own = ownTopics(client);
      if (!own.subscribes.includes(subscription.topic)) {
        deny('subscribe', client.id, subscription.topic);
        return callback(null, null);
      }
      callback(null, subscription);
    },
  };
}
