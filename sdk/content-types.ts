/**
 * What kinds of values the cache holds and the policy for each: which
 * layers, how long, encrypted or not, how long a stale value may stand in
 * when recomputing fails. The table is data; a call may override any field.
 */
import { UnknownContentTypeError } from './errors.js';

export enum ContentType {
  AUDIO_TRANSCRIPTION = 'audio_transcription',
  AI_RESPONSE = 'ai_response',
  VOICE_SYNTHESIS = 'voice_synthesis',
  STATIC_ASSET = 'static_asset',
  USER_SESSION = 'user_session',
  MODEL_WEIGHTS = 'model_weights',
  CONFIGURATION = 'configuration',
  EMOTION_ANALYSIS = 'emotion_analysis',
}

export interface CachePolicy {
  readonly l1: boolean;
  readonly l2: boolean;
  /** Uint8Array values also go to the content-addressed L3 blob store. */
  readonly l3: boolean;
  readonly ttlSeconds: number;
  /** Encrypted at rest in L2 (AES-256-GCM): anything derived from a child's words or voice. */
  readonly encrypt: boolean;
  /** Worth pre-computing (cache.warmCache) and pushing to bears. */
  readonly warm: boolean;
  /** After expiry, how long the old value may still be served if recomputing fails. */
  readonly staleGraceSeconds: number;
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const POLICIES: Readonly<Record<ContentType, CachePolicy>> = {
  [ContentType.AUDIO_TRANSCRIPTION]: { l1: true, l2: true, l3: false, ttlSeconds: HOUR, encrypt: true, warm: false, staleGraceSeconds: 10 * MINUTE },
  [ContentType.AI_RESPONSE]: { l1: true, l2: true, l3: false, ttlSeconds: 30 * MINUTE, encrypt: true, warm: true, staleGraceSeconds: 10 * MINUTE },
  [ContentType.VOICE_SYNTHESIS]: { l1: true, l2: true, l3: true, ttlSeconds: DAY, encrypt: false, warm: true, staleGraceSeconds: HOUR },
  [ContentType.STATIC_ASSET]: { l1: true, l2: true, l3: true, ttlSeconds: 30 * DAY, encrypt: false, warm: true, staleGraceSeconds: DAY },
  // A session is the child's live state: never served stale.
  [ContentType.USER_SESSION]: { l1: true, l2: true, l3: false, ttlSeconds: 30 * MINUTE, encrypt: true, warm: false, staleGraceSeconds: 0 },
  // Large and rarely re-read by one process: keeping them in gateway memory would evict everything else.
  [ContentType.MODEL_WEIGHTS]: { l1: false, l2: true, l3: true, ttlSeconds: 7 * DAY, encrypt: false, warm: false, staleGraceSeconds: DAY },
  // Chosen here (the seed leaves it open): short, so a change reaches every gateway within
  // minutes even if an invalidation is lost; a stale config beats none during an outage.
  [ContentType.CONFIGURATION]: { l1: true, l2: true, l3: false, ttlSeconds: 5 * MINUTE, encrypt: false, warm: true, staleGraceSeconds: HOUR },
  // Chosen here: derived from a child's voice, so encrypted like a transcription; a mood is
  // only true for a while, so a short TTL and no stale serving.
  [ContentType.EMOTION_ANALYSIS]: { l1: true, l2: true, l3: false, ttlSeconds: 10 * MINUTE, encrypt: true, warm: false, staleGraceSeconds: 0 },
};

const CONTENT_TYPES = new Set<string>(Object.values(ContentType));

export function isContentType(value: unknown): value is ContentType {
  return typeof value === 'string' && CONTENT_TYPES.has(value);
}

/** The policy for a content type with per-call overrides; throws UnknownContentTypeError. */
export function policyFor(type: ContentType, override?: Partial<CachePolicy>): CachePolicy {
  if (!isContentType(type)) throw new UnknownContentTypeError(type);
  return override ? { ...POLICIES[type], ...override } : POLICIES[type];
}
