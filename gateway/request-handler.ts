/**
 * Everything a bear publishes arrives here: requests on `req` (hello,
 * utterance, clipGet), answered on `res`, and events on `evt` (warmAck,
 * stats), which get no answer. A request reads straight through: rate
 * limit, decode, dispatch by type, respond; a failure becomes an `error`
 * response with the protocol's code (./errors.ts), an event's failure a
 * logged drop; neither stops the gateway serving other bears. Logs carry
 * device ids, types, codes and sizes — never a child's words or audio.
 */
import type { Logger } from 'pino';
import {
  AnswerSource,
  decodeMessage,
  encodeMessage,
  fitUtf8,
  textBound,
  type ClipGet,
  type Hello,
  type Message,
  type Utterance,
  type WarmAck,
} from '../protocol/index.js';
import { createAnswerEncoder } from './answer-encoder.js';
import type { BearSessions } from './bear-sessions.js';
import type { ClipCatalog } from './clip-catalog.js';
import type { ClipUrls } from './clip-urls.js';
import type { Conversation, Reply } from './conversation.js';
import { errorResponse, refusal } from './errors.js';
import type { GatewayMetrics } from './metrics.js';
import type { RateLimiter } from './rate-limit.js';
import type { VoiceClips } from './voice-clips.js';
import type { WarmPush } from './warm-push.js';

export interface RequestHandlerOptions {
  conversation: Conversation;
  voiceClips: VoiceClips;
  catalog: ClipCatalog;
  sessions: BearSessions;
  clipUrls: ClipUrls;
  warmPush: WarmPush;
  rateLimiter: RateLimiter;
  metrics: GatewayMetrics;
  log: Logger;
  maxRequestBytes: number;
  /** Voices the provider speaks; the first is used for a bear naming none or another. */
  voices: readonly string[];
  /** Sends to the bear on its own connection; false when it is no longer connected here. */
  send(deviceId: string, channel: 'res', payload: Buffer): boolean;
}

const MAX_ERROR_MESSAGE = textBound('error', 'message');

export function createRequestHandler(o: RequestHandlerOptions) {
  const answers = createAnswerEncoder(o.clipUrls);
  const respond = (deviceId: string, message: Message): void => {
    o.send(deviceId, 'res', encodeMessage(message));
  };

  /**
   * A clip id as the catalog's own hex string when it knows the clip: ten thousand bears holding the
   * same clips then share one string per clip instead of keeping a copy each.
   */
  const clipIdHex = (id: Uint8Array): string => {
    const hex = Buffer.from(id).toString('hex');
    return o.catalog.get(hex)?.clipIdHex ?? hex;
  };

  const pickVoice = (voice: string | undefined): string => (voice && o.voices.includes(voice) ? voice : o.voices[0]!);

  const hello = async (deviceId: string, m: Hello): Promise<void> => {
    const held = m.clips.map(clipIdHex);
    const session = await o.sessions.hello(deviceId, m.fw, m.flashBudget, held, m.warmSeq);
    const plan = o.warmPush.plan(session);
    respond(deviceId, {
      type: 'welcome', id: m.id, time: Math.floor(Date.now() / 1000), warmSeq: plan.seq, maxRequestBytes: o.maxRequestBytes,
    });
    if (plan.due) await o.warmPush.send(session, plan);
  };

  const sendAnswer = (deviceId: string, id: number, { reply, clip, source }: Reply): void => {
    o.catalog.countPlay(clip);
    o.sessions.recordPlay(deviceId, clip.clipIdHex);
    o.metrics.countAnswer(source);
    o.send(deviceId, 'res', answers.encode(deviceId, id, reply, clip, source));
  };

  /** Utterances waiting on a slower layer than L1, by bear and correlation id. */
  const waiting = new Set<string>();
  const waitingKey = (deviceId: string, id: number): string => `${deviceId}\0${id}`;

  /**
   * Synchronous when every step is in L1 (a repeated question); a promise when one had to wait.
   * A reply the provider supplied (a miss: always the promise) is timed for the miss-recovery SLO.
   */
  const utterance = (deviceId: string, m: Utterance, started: number): void | Promise<void> => {
    // The same request again while its first copy waits (a bear that reconnected resends what it
    // has no answer for): that answer goes to the bear's current connection, so this copy is dropped.
    if (waiting.size > 0 && waiting.has(waitingKey(deviceId, m.id))) return void o.log.debug({ deviceId, id: m.id }, 'resent request already in flight');
    const answered = o.conversation.answer(deviceId, m, pickVoice(m.voice));
    if (answered instanceof Promise) {
      const key = waitingKey(deviceId, m.id);
      waiting.add(key);
      return answered
        .then((reply) => {
          sendAnswer(deviceId, m.id, reply);
          if (reply.source === AnswerSource.provider) o.metrics.observeMissAnswerSeconds((performance.now() - started) / 1000);
        })
        .finally(() => waiting.delete(key));
    }
    sendAnswer(deviceId, m.id, answered);
  };

  const clipGet = async (deviceId: string, m: ClipGet): Promise<void> => {
    const known = o.catalog.get(Buffer.from(m.clipId).toString('hex'));
    if (!known) throw refusal.noSuchClip(m.id);
    const wantsInline = m.maxInline !== undefined && known.size <= Math.min(m.maxInline, o.maxRequestBytes);
    if (!wantsInline) return respond(deviceId, { type: 'clip', id: m.id, clip: o.clipUrls.ref(deviceId, known) });
    // Inline bytes come through the SDK: they may have left every layer since, and are then re-synthesized.
    const { clip, bytes } = await o.voiceClips.clip(known.text, known.voice, known.starter, deviceId);
    respond(deviceId, { type: 'clip', id: m.id, clip: o.clipUrls.ref(deviceId, clip, { inline: bytes }) });
  };

  const warmAck = (deviceId: string, m: WarmAck): void => {
    const session = o.sessions.get(deviceId);
    if (!session) return void o.log.info({ deviceId }, 'warmAck before hello dropped');
    for (const id of m.stored) session.held.add(clipIdHex(id));
    for (const id of m.failed) session.held.delete(clipIdHex(id));
    session.appliedSeq = Math.max(session.appliedSeq, m.seq);
    o.log.debug({ deviceId, seq: m.seq, stored: m.stored.length, failed: m.failed.length, bytesUsed: m.bytesUsed }, 'warm ack');
  };

  const dispatch = (deviceId: string, m: Message, id: number, started: number): void | Promise<void> => {
    if (m.type === 'utterance') return utterance(deviceId, m, started);
    if (m.type === 'hello') return hello(deviceId, m);
    if (m.type === 'clipGet') return clipGet(deviceId, m);
    throw refusal.notARequest(m.type, id);
  };

  const succeeded = (type: string, started: number): void => {
    o.metrics.countRequest(type, 'ok');
    o.metrics.observeRequestSeconds(type, (performance.now() - started) / 1000);
  };

  const failed = (deviceId: string, bytes: number, type: string, id: number, err: unknown, started: number): void => {
    const e = errorResponse(err, id);
    o.metrics.countRequest(type, e.codeName);
    const fields = { deviceId, type, code: e.codeName, bytes };
    if (e.codeName === 'internal') o.log.error({ ...fields, err }, 'request failed');
    else o.log.info({ ...fields, reason: e.message }, 'request refused');
    respond(deviceId, { type: 'error', id: e.requestId, code: e.code, message: fitUtf8(e.message, MAX_ERROR_MESSAGE) });
    o.metrics.observeRequestSeconds(type, (performance.now() - started) / 1000);
  };

  const handleRequest = (deviceId: string, payload: Buffer, started: number): void | Promise<void> => {
    let type = 'unknown';
    let id = 0;
    try {
      // Every publish spends a token, garbage included, so a flood of bad requests is limited too.
      const allowed = o.rateLimiter.take(deviceId);
      const m = decodeMessage(payload, o.maxRequestBytes);
      type = m.type;
      id = 'id' in m ? m.id : 0;
      if (!allowed) throw refusal.rateLimited(id);
      const waiting = dispatch(deviceId, m, id, started);
      if (waiting === undefined) return succeeded(type, started);
      return waiting.then(
        () => succeeded(type, started),
        (err: unknown) => failed(deviceId, payload.length, type, id, err, started),
      );
    } catch (err) {
      return failed(deviceId, payload.length, type, id, err, started);
    }
  };

  const handleEvent = (deviceId: string, payload: Buffer): void => {
    try {
      const allowed = o.rateLimiter.take(deviceId);
      const m = decodeMessage(payload, o.maxRequestBytes);
      if (!allowed) throw refusal.eventRateLimited();
      if (m.type === 'warmAck') warmAck(deviceId, m);
      else if (m.type === 'stats') {
        const session = o.sessions.get(deviceId);
        if (session) session.lastStats = { ...m };
      } else throw refusal.notAnEvent(m.type);
      o.metrics.countRequest(m.type, 'ok');
    } catch (err) {
      const e = errorResponse(err, 0);
      o.metrics.countRequest('event', e.codeName);
      o.log.info({ deviceId, code: e.codeName, bytes: payload.length, reason: e.message }, 'event dropped');
    }
  };

  return {
    /** Handles one publish on a bear's own `req` or `evt` topic (the ACL has checked the topic). */
    /** Returns a promise only while a request waits on a lower layer or the provider. */
    handle(deviceId: string, channel: 'req' | 'evt', payload: Buffer): void | Promise<void> {
      if (channel === 'evt') return handleEvent(deviceId, payload);
      return handleRequest(deviceId, payload, performance.now());
    },
  };
}
