/**
 * What kinds of values the cache holds and the policy for each: which
 * layers, how long, encrypted or not, how long a stale value may stand in
 * when recomputing fails or is slow, and how long a caller waits for a
 * compute. The table is data; a call may override any field.
 *
 * Timeouts are chosen so a child never waits on a slow provider for
 * something we already had: every type with a stale grace has a soft
 * timeout of 0 (a value within its grace is served at once and refreshed in
 * the background); the hard timeout bounds the wait when nothing was had,
 * near what a child waits for a bear's answer before asking again.
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
  /** After expiry, how long the old value may still be served if recomputing fails or is slow. */
  readonly staleGraceSeconds: number;
  /**
   * With a stale value at hand, how long a caller waits for the compute before it is served the
   * stale value (the compute goes on in the background and fills the cache). Unset: no limit.
   */
  readonly softTimeoutMs?: number;
  /**
   * How long a caller waits for a compute at most: then the stale value if any, else a
   * TimeoutError (the compute goes on in the background and fills the cache). Unset: no limit.
   */
  readonly hardTimeoutMs?: number;
  /**
   * 0 < t < 1: a hit on a value past this fraction of its TTL starts one background recompute
   * (single flight across instances) and is served the current value. Unset: no eager refresh.
   */
  readonly eagerRefreshThreshold?: number;
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const POLICIES: Readonly<Record<ContentType, CachePolicy>> = {
  [ContentType.AUDIO_TRANSCRIPTION]: { l1: true, l2: true, l3: false, ttlSeconds: HOUR, encrypt: true, warm: false, staleGraceSeconds: 10 * MINUTE, softTimeoutMs: 0, hardTimeoutMs: 8000 },
  [ContentType.AI_RESPONSE]: { l1: true, l2: true, l3: false, ttlSeconds: 30 * MINUTE, encrypt: true, warm: true, staleGraceSeconds: 10 * MINUTE, softTimeoutMs: 0, hardTimeoutMs: 10_000 },
  [ContentType.VOICE_SYNTHESIS]: { l1: true, l2: true, l3: true, ttlSeconds: DAY, encrypt: false, warm: true, staleGraceSeconds: HOUR, softTimeoutMs: 0, hardTimeoutMs: 10_000 },
  [ContentType.STATIC_ASSET]: { l1: true, l2: true, l3: true, ttlSeconds: 30 * DAY, encrypt: false, warm: true, staleGraceSeconds: DAY, softTimeoutMs: 0, hardTimeoutMs: 30_000 },
  // A session is the child's live state: never served stale.
  [ContentType.USER_SESSION]: { l1: true, l2: true, l3: false, ttlSeconds: 30 * MINUTE, encrypt: true, warm: false, staleGraceSeconds: 0, hardTimeoutMs: 3000 },
  // Large and rarely re-read by one process: keeping them in gateway memory would evict everything else.
  // No hard timeout: a download of weights is slow by nature and no child waits on it.
  [ContentType.MODEL_WEIGHTS]: { l1: false, l2: true, l3: true, ttlSeconds: 7 * DAY, encrypt: false, warm: false, staleGraceSeconds: DAY, softTimeoutMs: 0 },
  // Chosen here (the seed leaves it open): short, so a change reaches every gateway within
  // minutes even if an invalidation is lost; a stale config beats none during an outage.
  [ContentType.CONFIGURATION]: { l1: true, l2: true, l3: false, ttlSeconds: 5 * MINUTE, encrypt: false, warm: true, staleGraceSeconds: HOUR, softTimeoutMs: 0, hardTimeoutMs: 5000 },
  // Chosen here: derived from a child's voice, so encrypted like a transcription; a mood is
  // only true for a while, so a short TTL and no stale serving. A mood is an extra: better
  // answer without it (TimeoutError) than keep a child waiting for it.
  [ContentType.EMOTION_ANALYSIS]: { l1: true, l2: true, l3: false, ttlSeconds: 10 * MINUTE, encrypt: true, warm: false, staleGraceSeconds: 0, hardTimeoutMs: 3000 },
};

/** The longest TTL or stale grace a policy may give (10 years): anything longer is a mistake, and Redis refuses an infinite one. */
export const MAX_POLICY_SECONDS = 10 * 365 * DAY;

/** What is wrong with a policy's (or a call's) TTL, grace, timeout or refresh fields, as [field, problem]; undefined if nothing. */
export function policyProblem(p: Partial<Pick<CachePolicy, 'ttlSeconds' | 'staleGraceSeconds' | 'softTimeoutMs' | 'hardTimeoutMs' | 'eagerRefreshThreshold'>>): [string, string] | undefined {
  const { ttlSeconds: ttl, staleGraceSeconds: grace, softTimeoutMs: soft, hardTimeoutMs: hard, eagerRefreshThreshold: t } = p;
  if (ttl !== undefined && !(typeof ttl === 'number' && ttl > 0 && ttl <= MAX_POLICY_SECONDS)) return ['ttlSeconds', `must be a number > 0 and ≤ ${MAX_POLICY_SECONDS} (s)`];
  if (grace !== undefined && !(typeof grace === 'number' && grace >= 0 && grace <= MAX_POLICY_SECONDS)) return ['staleGraceSeconds', `must be a number ≥ 0 and ≤ ${MAX_POLICY_SECONDS} (s)`];
  if (soft !== undefined && !(typeof soft === 'number' && soft >= 0)) return ['softTimeoutMs', 'must be a number ≥ 0 (ms)'];
  if (hard !== undefined && !(typeof hard === 'number' && hard > 0)) return ['hardTimeoutMs', 'must be a number > 0 (ms)'];
  if (t !== undefined && !(typeof t === 'number' && t > 0 && t < 1)) return ['eagerRefreshThreshold', 'must be a number between 0 and 1 (exclusive)'];
  return undefined;
}

const CONTENT_TYPES = new Set<string>(Object.values(ContentType));

export function isContentType(value: unknown): value is ContentType {
  return typeof value === 'string' && CONTENT_TYPES.has(value);
}

/** The policy for a content type with per-call overrides; throws UnknownContentTypeError. */
export function policyFor(type: ContentType, override?: Partial<CachePolicy>): CachePolicy {
  if (!isContentType(type)) throw new UnknownContentTypeError(type);
  return override ? { ...POLICIES[type], ...override } : POLICIES[type];
}
