/**
 * One virtual bear: a real MQTT connection speaking protocol v1 as the
 * firmware does, with its flash clip cache modelled by flash-model.ts.
 *
 * Lifecycle: connect (device id, secret) -> subscribe res + warm -> hello
 * (clips held, last warm seq) -> welcome. Warm manifests are downloaded clip
 * by clip and applied to the flash model, then acked. Each utterance is a
 * request with a correlation id, retried with full-jitter backoff when
 * unanswered; the answer's clip plays from flash when held, else from the
 * inline bytes or a download of the signed URL, and is then offered to flash
 * (on-demand admission). A lost connection reconnects with full-jitter
 * backoff, so a storm spreads out the way real bears spread it.
 *
 * Several gateways: like the firmware, a bear holds a list of gateway URLs,
 * starts on one (`firstGateway`), and when a connection attempt fails moves to
 * the next. Requests a lost connection left unanswered are sent again with
 * the same correlation id once the bear is back, on whichever gateway, and
 * the first answer completes them (a second one is counted as a duplicate).
 */
import type { Socket } from 'node:net';
import mqtt from 'mqtt';
import {
  AnswerSource,
  BLOCK_BYTES,
  decodeMessage,
  deviceTopic,
  encodeMessage,
  ErrorCode,
  type Answer,
  type Message,
  type Warm,
} from '../protocol/index.js';
import type { ClipFetcher } from './clip-fetcher.js';
import { createFlashModel, type FlashModel, type WarmClip } from './flash-model.js';
import type { Play } from './offline-policies.js';
import type { Rng } from './rng.js';
import type { AnswerLayer, RunMetrics } from './run-metrics.js';

export interface BearOptions {
  id: string;
  secret: string;
  /** The gateway's current MQTT URL (it can move when the gateway restarts). */
  mqttUrl: () => string;
  /** Several gateways' URLs instead (the bear fails over between them); `mqttUrl` is then unused. */
  gatewayUrls?: () => readonly string[];
  /** Index into gatewayUrls to start on (spreads a fleet over the gateways). */
  firstGateway?: number;
  flashBudget: number;
  fw: string;
  /** The utterance audio for a phrasebook rank, and its format code. */
  audioFor: (rank: number) => Uint8Array;
  audioFormat: number;
  metrics: RunMetrics;
  fetcher: ClipFetcher;
  rng: Rng;
  requestTimeoutMs: number;
  maxAttempts: number;
  connectTimeoutMs: number;
  /** The CA to trust when mqttUrl is mqtts:// (the gateway's caFile). */
  ca?: Buffer;
}

export interface VirtualBear {
  readonly id: string;
  readonly flash: FlashModel;
  /** Every clip played, in order: the trace for the offline policies. */
  readonly plays: Play[];
  readonly online: boolean;
  /** Connects; resolves true on welcome, false if this attempt failed (a retry is scheduled). */
  connect(): Promise<boolean>;
  say(rank: number): void;
  /** Breaks the connection as a Wi-Fi drop would; the bear reconnects by itself. */
  drop(): void;
  close(): Promise<void>;
  /** Requests still waiting for an answer. */
  readonly pending: number;
  /** The gateway URL it is connected to (or trying), an index into gatewayUrls. */
  readonly gateway: number;
}

interface Pending {
  rank: number;
  sentAt: number;
  attempt: number;
  timer: NodeJS.Timeout;
  /** Set when the connection it was sent on was lost: it is sent again once the bear is back. */
  unsentSince: number;
  /** It was sent again after a reconnect. */
  resent: boolean;
}

const RECONNECT_BASE_MS = 500;
const RECONNECT_CAP_MS = 15_000;
const RETRY_BASE_MS = 250;
const RETRY_CAP_MS = 4_000;
const MAX_HELLO_CLIPS = 256;

const LAYER_BY_SOURCE = new Map<number, AnswerLayer>([
  [AnswerSource.l1, 'l1'],
  [AnswerSource.l2, 'l2'],
  [AnswerSource.provider, 'provider'],
]);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export function createVirtualBear(o: BearOptions): VirtualBear {
  const flash = createFlashModel(o.flashBudget);
  const plays: Play[] = [];
  const pending = new Map<number, Pending>();
  const topics = { req: deviceTopic(o.id, 'req'), res: deviceTopic(o.id, 'res'), warm: deviceTopic(o.id, 'warm'), evt: deviceTopic(o.id, 'evt') };
  let client: mqtt.MqttClient | undefined;
  let online = false;
  let closed = false;
  let nextId = 1;
  let reconnectAttempt = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let warmChain = Promise.resolve();
  let helloId = 0;
  let onWelcome: ((ok: boolean) => void) | undefined;
  const urls = (): readonly string[] => o.gatewayUrls?.() ?? [o.mqttUrl()];
  let gateway = o.firstGateway ?? 0;
  /** When the last established connection was lost, and on which gateway (an outage in progress). */
  let lostAt: { at: number; gateway: number } | undefined;
  /** Correlation ids answered already: a second answer (after a resend) is a duplicate. */
  const answered = new Set<number>();

  const newId = (): number => {
    const id = nextId;
    nextId = nextId >= 0xffff_ffff ? 1 : nextId + 1;
    return id;
  };
  // AWS "full jitter": uniform in [0, min(cap, base * 2^n)].
  const jitter = (base: number, cap: number, n: number): number => o.rng.next() * Math.min(cap, base * 2 ** n);

  const publish = (topic: string, message: Message): void => {
    if (!client || (!online && message.type !== 'hello')) return;
    const payload = encodeMessage(message);
    o.metrics.add('mqttBytesOut', payload.length + topic.length);
    client.publish(topic, payload, { qos: topic === topics.evt ? 0 : 1 });
  };

  const scheduleReconnect = (): void => {
    if (closed || reconnectTimer) return;
    const delay = jitter(RECONNECT_BASE_MS, RECONNECT_CAP_MS, reconnectAttempt++);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, delay);
  };

  const lost = (): void => {
    const c = client;
    client = undefined;
    if (online) lostAt = { at: Date.now(), gateway };
    online = false;
    for (const p of pending.values()) p.unsentSince ||= Date.now();
    onWelcome?.(false);
    if (c) {
      c.removeAllListeners();
      c.on('error', () => {});
      c.end(true);
    }
    scheduleReconnect();
  };

  const connect = (): Promise<boolean> => {
    if (closed) return Promise.resolve(false);
    const started = Date.now();
    const all = urls();
    gateway %= all.length;
    const c = mqtt.connect(all[gateway]!, {
      clientId: o.id,
      username: o.id,
      password: o.secret,
      clean: true,
      keepalive: 60,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeoutMs,
      ...(o.ca ? { ca: o.ca } : {}),
    });
    // Embedded MQTT stacks write each packet as it is produced; without TCP_NODELAY, Nagle's
    // algorithm meeting delayed ACKs would add ~40 ms to round trips that are not the gateway's.
    (c.stream as Socket).setNoDelay?.(true);
    client = c;
    const welcomed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => onWelcome?.(false), o.connectTimeoutMs);
      onWelcome = (ok) => {
        clearTimeout(timer);
        onWelcome = undefined;
        if (ok) {
          reconnectAttempt = 0;
          o.metrics.add('connects');
          o.metrics.connectLatency.recordValue(Math.max(1, (Date.now() - started) * 1000));
          if (lostAt) o.metrics.outage({ lostAt: lostAt.at, backAt: Date.now(), from: lostAt.gateway, to: gateway });
          lostAt = undefined;
          resendPending();
        } else {
          o.metrics.add('connectFailures');
          // Like the firmware: a gateway that does not take the bear is left for the next one.
          gateway = (gateway + 1) % urls().length;
          if (client === c) lost();
        }
        resolve(ok);
      };
    });
    c.on('connect', () => {
      c.subscribe([topics.res, topics.warm], { qos: 1 }, (err) => {
        if (err || client !== c) return;
        helloId = newId();
        publish(topics.req, { type: 'hello', id: helloId, fw: o.fw, flashBudget: o.flashBudget, clips: flash.ids().slice(0, MAX_HELLO_CLIPS).map((id) => Buffer.from(id, 'hex')), warmSeq: flash.warmSeq });
      });
    });
    c.on('message', (topic, payload) => {
      o.metrics.add('mqttBytesIn', payload.length + topic.length);
      let message: Message;
      try {
        message = decodeMessage(payload, Number.MAX_SAFE_INTEGER);
      } catch {
        // Not an answer to anything we can name: counted apart from the requests' outcomes.
        o.metrics.add('malformedFromGateway');
        return;
      }
      if (message.type === 'welcome' && message.id === helloId) {
        online = true;
        onWelcome?.(true);
      } else if (message.type === 'warm') warmChain = warmChain.then(() => applyWarm(message));
      else if (message.type === 'answer') onAnswer(message);
      else if (message.type === 'error') onError(message.id, message.code);
    });
    c.on('error', () => {}); // followed by 'close'; counted there
    c.on('close', () => {
      if (client === c) lost();
    });
    return welcomed;
  };

  const send = (id: number, p: Pending): void => {
    const audio = o.audioFor(p.rank);
    publish(topics.req, { type: 'utterance', id, audio, format: o.audioFormat });
    p.timer = setTimeout(() => retry(id), o.requestTimeoutMs);
  };

  const retry = (id: number): void => {
    const p = pending.get(id);
    if (!p) return;
    clearTimeout(p.timer);
    if (p.attempt + 1 >= o.maxAttempts || closed) {
      pending.delete(id);
      o.metrics.add('timeouts');
      return;
    }
    o.metrics.add('retries');
    p.attempt++;
    // The same correlation id, as the firmware does: whichever attempt is answered first completes it.
    p.timer = setTimeout(() => {
      if (!online) p.timer = setTimeout(() => retry(id), o.requestTimeoutMs);
      else send(id, p);
    }, jitter(RETRY_BASE_MS, RETRY_CAP_MS, p.attempt - 1));
  };

  /** Back after a lost connection: what was in flight goes out again at once, same ids. */
  const resendPending = (): void => {
    for (const [id, p] of pending) {
      if (!p.unsentSince) continue;
      clearTimeout(p.timer);
      p.unsentSince = 0;
      p.resent = true;
      o.metrics.add('resent');
      send(id, p);
    }
  };

  const onError = (id: number, code: number): void => {
    const p = pending.get(id);
    if (!p) return;
    if (code === ErrorCode.rateLimited) return retry(id);
    clearTimeout(p.timer);
    pending.delete(id);
    o.metrics.add('errors');
  };

  const onAnswer = (answer: Answer): void => {
    const p = pending.get(answer.id);
    if (!p) {
      // A second answer to a request sent twice (a resend after failover, or a retry).
      if (answered.has(answer.id)) o.metrics.add('duplicateAnswers');
      return;
    }
    clearTimeout(p.timer);
    pending.delete(answer.id);
    answered.add(answer.id);
    if (p.attempt > 0 || p.resent) o.metrics.add('answeredAfterRetry');
    const latency = Date.now() - p.sentAt;
    o.metrics.answer(LAYER_BY_SOURCE.get(answer.source) ?? 'other', latency);
    const { clip } = answer;
    const clipId = hex(clip.clipId);
    plays.push({ id: clipId, size: clip.size });
    if (flash.play(clipId)) return o.metrics.audio('flash', latency);
    if (clip.inline) {
      o.metrics.audio('inline', latency);
      flash.admitOnDemand(clipId, clip.size);
      return;
    }
    void o.fetcher.fetch(clip.url, clip.sha256, false).then((outcome) => {
      o.metrics.audio(outcome, Date.now() - p.sentAt);
      if (outcome !== 'failed') flash.admitOnDemand(clipId, clip.size);
    });
  };

  const applyWarm = async (warm: Warm): Promise<void> => {
    if (warm.seq <= flash.warmSeq) return; // a replay (QoS 1 may deliver twice)
    o.metrics.add('warmManifests');
    const usable: WarmClip[] = [];
    const failed: string[] = [];
    for (const [i, clip] of warm.clips.entries()) {
      const id = hex(clip.clipId);
      const entry = { id, size: clip.size, pinned: clip.pinned ?? false, priority: clip.priority ?? i };
      if (flash.has(id) || (await o.fetcher.fetch(clip.url, clip.sha256, true)) !== 'failed') usable.push(entry);
      else failed.push(id);
    }
    const result = flash.applyWarm(warm.seq, usable);
    if (!result) return;
    failed.push(...result.failed);
    o.metrics.add('warmClipsStored', result.stored.length);
    o.metrics.add('warmClipsFailed', failed.length);
    const ids = (list: string[]) => list.slice(0, MAX_HELLO_CLIPS).map((id) => Buffer.from(id, 'hex'));
    publish(topics.evt, { type: 'warmAck', seq: warm.seq, stored: ids(result.stored), failed: ids(failed), bytesUsed: flash.stats().usedBlocks * BLOCK_BYTES });
  };

  return {
    id: o.id,
    flash,
    plays,
    get online() {
      return online;
    },
    get pending() {
      return pending.size;
    },
    get gateway() {
      return gateway;
    },
    connect,
    say(rank) {
      o.metrics.add('utterances');
      if (!online) return o.metrics.add('offline');
      const id = newId();
      const p: Pending = { rank, sentAt: Date.now(), attempt: 0, timer: undefined as unknown as NodeJS.Timeout, unsentSince: 0, resent: false };
      pending.set(id, p);
      send(id, p);
    },
    drop() {
      if (!client) return;
      o.metrics.add('drops');
      client.stream.destroy();
    },
    async close() {
      closed = true;
      clearTimeout(reconnectTimer);
      for (const p of pending.values()) clearTimeout(p.timer);
      const c = client;
      client = undefined;
      online = false;
      if (c) await c.endAsync(true).catch(() => {});
    },
  };
}
