/**
 * MQTT topics of protocol v1. Each bear owns exactly four topics under
 * `teddy/v1/{deviceId}/`; the gateway's authorizer allows a bear nothing else.
 */

export const TOPIC_ROOT = 'teddy/v1';

/** Direction of each topic, from the bear's point of view. */
export const Channel = {
  /** bear -> gateway: requests (hello, utterance, clipGet). */
  req: 'req',
  /** gateway -> bear: responses and errors, matched by correlation id. */
  res: 'res',
  /** gateway -> bear: warm manifests. */
  warm: 'warm',
  /** bear -> gateway: events without a response (warmAck, stats). */
  evt: 'evt',
} as const;
export type ChannelName = keyof typeof Channel;

/** Channels a bear publishes on, and channels it subscribes to. */
export const BEAR_PUBLISHES: readonly ChannelName[] = ['req', 'evt'];
export const BEAR_SUBSCRIBES: readonly ChannelName[] = ['res', 'warm'];

/**
 * A device id is 1-64 characters of [A-Za-z0-9_-]: no MQTT wildcard or level
 * separator can sneak into a topic built from it.
 */
const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID.test(id);
}

export function deviceTopic(deviceId: string, channel: ChannelName): string {
  if (!isValidDeviceId(deviceId)) throw new RangeError(`invalid device id ${JSON.stringify(deviceId)}`);
  return `${TOPIC_ROOT}/${deviceId}/${channel}`;
}

/** Splits a concrete topic into device id and channel, or undefined if it is not a v1 device topic. */
export function parseDeviceTopic(topic: string): { deviceId: string; channel: ChannelName } | undefined {
  if (!topic.startsWith(DEVICE_PREFIX)) return undefined;
  const slash = topic.indexOf('/', DEVICE_PREFIX.length);
  if (slash < 0) return undefined;
  // An own-key check: `teddy/v1/x/constructor` names no channel; neither does `req/more`.
  const channel = topic.slice(slash + 1);
  if (!Object.hasOwn(Channel, channel)) return undefined;
  const deviceId = topic.slice(DEVICE_PREFIX.length, slash);
  if (!isValidDeviceId(deviceId)) return undefined;
  return { deviceId, channel: channel as ChannelName };
}

const DEVICE_PREFIX = `${TOPIC_ROOT}/`;
