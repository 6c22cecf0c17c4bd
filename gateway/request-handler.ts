/**
 * Everything a bear publishes arrives here: requests on `req` (hello,
 * utterance, clipGet), answered on `res`, and events on `evt` (warmAck,
 * stats), which get no answer. Bad input becomes an `error` response with
 * the protocol's code (requests) or a logged drop (events); it never stops
 * the gateway serving other bears. Logs carry device ids, types, codes and
 * sizes — never a child's words or audio.
 */
import type { Logger } from 'pino';
import {
  BEAR_EVENTS,
  BEAR_REQUESTS,
  ErrorCode,
  MESSAGE_FIELDS,
  ProtocolError,
  decodeMessage,
  deviceTopic,
  encodeMessage,
  type ClipGet,
  type ErrorCodeName,
  type Hello,
  type Message,
  type Utterance,
  type WarmAck,
} from '../protocol/index.js';
import type { BearSessions } from './bear-sessions.js';
import type { ClipCatalog } from './clip-catalog.js';
import type { ClipUrls } from './clip-urls.js';
import type { Conversation } from './conversation.js';
import type { GatewayMetrics } from './metrics.js';
import { UpstreamError } from './providers/instrumented-provider.js';
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

const CODE_NAMES = new Map<number, ErrorCodeName>(Object.entries(ErrorCode).map(([name, code]) => [code, name as ErrorCodeName]));
/** Text bounds of the protocol (answer reply, error message), from its field table. */
const maxBytes = (type: 'answer' | 'error', name: string): number => {
  const field = MESSAGE_FIELDS[type].find((f) => f.name === name)!;
  return field.type.kind === 'tstr' ? field.type.max : 0;
};
const MAX_REPLY = maxBytes('answer', 'reply');
const MAX_ERROR_MESSAGE = maxBytes('error', 'message');

/** `text` cut to at most `max` UTF-8 bytes, on a character boundary. */
function fitUtf8(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let cut = Buffer.from(text).subarray(0, max).toString();
  // A character split by the cut decodes as U+FFFD; drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut;
}

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

  const utterance = async (deviceId: string, m: Utterance): Promise<void> => {
    const { reply, clip, source } = await o.conversation.answer(m, pickVoice(m.voice));
    o.catalog.countPlay(clip);
    o.sessions.recordPlay(deviceId, clip.clipIdHex);
    o.metrics.answers.inc({ source: String(source) });
    // The bear shows the reply text; the clip speaks all of it even when a long reply is cut here.
    await respond(deviceId, { type: 'answer', id: m.id, reply: fitUtf8(reply, MAX_REPLY), clip: o.clipUrls.ref(clip), source });
  };

  const clipGet = async (deviceId: string, m: ClipGet): Promise<void> => {
    const known = o.catalog.get(Buffer.from(m.clipId).toString('hex'));
    if (!known) throw new ProtocolError(ErrorCode.notFound, 'no such clip', m.id);
    // Through the SDK again: the bytes may have left every layer since, and are then re-synthesized.
    const { clip, bytes } = await o.voiceClips.clip(known.text, known.voice, known.starter);
    const inline = m.maxInline !== undefined && clip.size <= Math.min(m.maxInline, o.maxRequestBytes);
    const ref = o.clipUrls.ref(clip, inline ? { inline: bytes } : {});
    await respond(deviceId, { type: 'clip', id: m.id, clip: ref });
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
    try {
      // Every publish spends a token, garbage included, so a flood of bad requests is limited too.
      const allowed = o.rateLimiter.take(deviceId);
      const m = decodeMessage(payload, o.maxRequestBytes);
      type = m.type;
      id = 'id' in m ? m.id : 0;
      if (!allowed) throw new ProtocolError(ErrorCode.rateLimited, 'request rate exceeded, retry later', id);
      if (!BEAR_REQUESTS.includes(m.type)) throw new ProtocolError(ErrorCode.unknownType, `${m.type} is not a request`, id);
      if (m.type === 'hello') await hello(deviceId, m);
      else if (m.type === 'utterance') await utterance(deviceId, m);
      else await clipGet(deviceId, m as ClipGet);
      o.metrics.requests.inc({ type, outcome: 'ok' });
    } catch (err) {
      const { code, message, requestId } = toErrorResponse(err, id);
      const outcome = CODE_NAMES.get(code) ?? 'internal';
      o.metrics.requests.inc({ type, outcome });
      const fields = { deviceId, type, code: outcome, bytes: payload.length };
      if (code === ErrorCode.internal) o.log.error({ ...fields, err }, 'request failed');
      else o.log.info({ ...fields, reason: message }, 'request refused');
      await respond(deviceId, { type: 'error', id: requestId, code, message: fitUtf8(message, MAX_ERROR_MESSAGE) });
    } finally {
      o.metrics.requestSeconds.observe({ type }, (performance.now() - started) / 1000);
    }
  };

  const handleEvent = (deviceId: string, payload: Buffer): void => {
    try {
      const allowed = o.rateLimiter.take(deviceId);
      const m = decodeMessage(payload, o.maxRequestBytes);
      if (!allowed) throw new ProtocolError(ErrorCode.rateLimited, 'event rate exceeded');
      if (!BEAR_EVENTS.includes(m.type)) throw new ProtocolError(ErrorCode.unknownType, `${m.type} is not an event`);
      if (m.type === 'warmAck') warmAck(deviceId, m);
      else if (m.type === 'stats') {
        const session = o.sessions.get(deviceId);
        if (session) session.lastStats = { ...m };
      }
      o.metrics.requests.inc({ type: m.type, outcome: 'ok' });
    } catch (err) {
      const { code, message } = toErrorResponse(err, 0);
      const outcome = CODE_NAMES.get(code) ?? 'internal';
      o.metrics.requests.inc({ type: 'event', outcome });
      o.log.info({ deviceId, code: outcome, bytes: payload.length, reason: message }, 'event dropped');
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

/** The error response for a failure; `id` is the request's correlation id if it was decoded. */
function toErrorResponse(err: unknown, id: number): { code: number; requestId: number; message: string } {
  if (err instanceof ProtocolError) return { code: err.code, requestId: err.requestId || id, message: err.message };
  if (err instanceof UpstreamError) return { code: ErrorCode.upstream, requestId: id, message: 'the AI service failed' };
  return { code: ErrorCode.internal, requestId: id, message: 'internal error' };
}
