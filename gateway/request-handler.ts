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
  deviceTopic,
  encodeMessage,
  fitUtf8,
  textBound,
  type ClipGet,
  type Hello,
  type Message,
  type Utterance,
  type WarmAck,
} from '../protocol/index.js';
import type { BearSessions } from './bear-sessions.js';
import type { ClipCatalog } from './clip-catalog.js';
import type { ClipUrls } from './clip-urls.js';
import type { Conversation } from './conversation.js';
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
  publish(topic: string, payload: Buffer): Promise<void>;
}

const MAX_REPLY = textBound('answer', 'reply');
const MAX_ERROR_MESSAGE = textBound('error', 'message');

export function createRequestHandler(o: RequestHandlerOptions) {
  const respond = (deviceId: string, message: Message): Promise<void> =>
    o.publish(deviceTopic(deviceId, 'res'), encodeMessage(message));

  const pickVoice = (voice: string | undefined): string => (voice && o.voices.includes(voice) ? voice : o.voices[0]!);

  const hello = async (deviceId: string, m: Hello): Promise<void> => {
    const held = m.clips.map((id) => Buffer.from(id).toString('hex'));
    const session = o.sessions.hello(deviceId, m.fw, m.flashBudget, held, m.warmSeq);
    const plan = o.warmPush.plan(session);
    await respond(deviceId, {
      type: 'welcome', id: m.id, time: Math.floor(Date.now() / 1000), warmSeq: plan.seq, maxRequestBytes: o.maxRequestBytes,
    });
    if (plan.due) await o.warmPush.send(session, plan);
  };

  /** Answers one utterance; resolves with whether the cache (hit) or the provider (miss) supplied the reply. */
  const utterance = async (deviceId: string, m: Utterance): Promise<'hit' | 'miss'> => {
    const { reply, clip, source } = await o.conversation.answer(m, pickVoice(m.voice));
    o.catalog.countPlay(clip);
    o.sessions.recordPlay(deviceId, clip.clipIdHex);
    o.metrics.answers.inc({ source: String(source) });
    // The bear shows the reply text; the clip speaks all of it even when a long reply is cut here.
    await respond(deviceId, { type: 'answer', id: m.id, reply: fitUtf8(reply, MAX_REPLY), clip: o.clipUrls.ref(clip), source });
    return source === AnswerSource.provider ? 'miss' : 'hit';
  };

  const clipGet = async (deviceId: string, m: ClipGet): Promise<void> => {
    const known = o.catalog.get(Buffer.from(m.clipId).toString('hex'));
    if (!known) throw refusal.noSuchClip(m.id);
    const wantsInline = m.maxInline !== undefined && known.size <= Math.min(m.maxInline, o.maxRequestBytes);
    if (!wantsInline) return respond(deviceId, { type: 'clip', id: m.id, clip: o.clipUrls.ref(known) });
    // Inline bytes come through the SDK: they may have left every layer since, and are then re-synthesized.
    const { clip, bytes } = await o.voiceClips.clip(known.text, known.voice, known.starter);
    await respond(deviceId, { type: 'clip', id: m.id, clip: o.clipUrls.ref(clip, { inline: bytes }) });
  };

  const warmAck = (deviceId: string, m: WarmAck): void => {
    const session = o.sessions.get(deviceId);
    if (!session) return void o.log.info({ deviceId }, 'warmAck before hello dropped');
    for (const id of m.stored) session.held.add(Buffer.from(id).toString('hex'));
    for (const id of m.failed) session.held.delete(Buffer.from(id).toString('hex'));
    session.appliedSeq = Math.max(session.appliedSeq, m.seq);
    o.log.info({ deviceId, seq: m.seq, stored: m.stored.length, failed: m.failed.length, bytesUsed: m.bytesUsed }, 'warm ack');
  };

  const handleRequest = async (deviceId: string, payload: Buffer, started: number): Promise<void> => {
    let type = 'unknown';
    let id = 0;
    // For utterances, which layer answered: the latency of a miss answered is an SLO of its own.
    let cache = 'none';
    try {
      // Every publish spends a token, garbage included, so a flood of bad requests is limited too.
      const allowed = o.rateLimiter.take(deviceId);
      const m = decodeMessage(payload, o.maxRequestBytes);
      type = m.type;
      id = 'id' in m ? m.id : 0;
      if (!allowed) throw refusal.rateLimited(id);
      if (m.type === 'hello') await hello(deviceId, m);
      else if (m.type === 'utterance') cache = await utterance(deviceId, m);
      else if (m.type === 'clipGet') await clipGet(deviceId, m);
      else throw refusal.notARequest(m.type, id);
      o.metrics.requests.inc({ type, outcome: 'ok' });
    } catch (err) {
      const e = errorResponse(err, id);
      o.metrics.requests.inc({ type, outcome: e.codeName });
      const fields = { deviceId, type, code: e.codeName, bytes: payload.length };
      if (e.codeName === 'internal') o.log.error({ ...fields, err }, 'request failed');
      else o.log.info({ ...fields, reason: e.message }, 'request refused');
      await respond(deviceId, { type: 'error', id: e.requestId, code: e.code, message: fitUtf8(e.message, MAX_ERROR_MESSAGE) });
    } finally {
      o.metrics.requestSeconds.observe({ type, cache }, (performance.now() - started) / 1000);
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
      o.metrics.requests.inc({ type: m.type, outcome: 'ok' });
    } catch (err) {
      const e = errorResponse(err, 0);
      o.metrics.requests.inc({ type: 'event', outcome: e.codeName });
      o.log.info({ deviceId, code: e.codeName, bytes: payload.length, reason: e.message }, 'event dropped');
    }
  };

  return {
    /** Handles one publish on a bear's own `req` or `evt` topic (the ACL has checked the topic). */
    handle(deviceId: string, channel: 'req' | 'evt', payload: Buffer): Promise<void> {
      if (channel === 'evt') return Promise.resolve(handleEvent(deviceId, payload));
      return handleRequest(deviceId, payload, performance.now());
    },
  };
}
