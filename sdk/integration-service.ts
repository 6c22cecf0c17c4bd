/**
 * What AI services call: one method per pipeline step, each keyed by a hash
 * (./keys.ts) so a child's audio, prompt or reply never becomes a key. Each
 * step has a value form (`cacheX`, resolves to the value) and a result form
 * (`fetchX`, resolves to the value and the layer that answered), for callers
 * that report where an answer came from (the gateway does), and a step form
 * (`xStep`, the key derived once with a synchronous L1 `peek` and a `fetch`)
 * for hot paths that answer from L1 without a promise. Every call takes an
 * optional last `{ subject }`: whose input the value comes from (a bear's
 * device id), for `eraseSubject` (./subject-index.ts).
 */
import type { MultiLayerCache } from './cache.js';
import type { ComputeFn } from './compute-context.js';
import { ContentType } from './content-types.js';
import type { CacheSource, FetchResult } from './fetch-result.js';
import { aiResponseKey, CLIP_ID_BYTES, emotionAnalysisKey, sha256Hex, transcriptionKey, voiceSynthesisDigest, voiceSynthesisKey } from './keys.js';

/** A voice line as the cache holds it: the audio, where it came from, and its names. */
export interface VoiceClip {
  readonly bytes: Uint8Array;
  readonly source: CacheSource;
  /** Hex SHA-256 of the bytes: the L3 blob name (computed here when L3 is off). */
  readonly sha256: string;
  /** The first CLIP_ID_BYTES of the voice-synthesis digest: the bear's name for "this line in this voice". */
  readonly clipId: Uint8Array;
}

/**
 * One pipeline step for one input, its key derived once: the value now if this process's L1
 * holds it (synchronous, no promise: the hot path of a repeated question), else fetched
 * through every layer. `peek() ?? await fetch(...)` costs one key derivation either way.
 */
export interface CacheStep<T> {
  readonly key: string;
  peek(): T | undefined;
  fetch(computeFn: ComputeFn<T>): Promise<FetchResult<T>>;
}

/** Whose input a call's value derives from (optional on every call). */
export interface SubjectOptions {
  readonly subject?: string;
}

export interface CacheIntegrationService {
  /**
   * The transcription of one recording. `audioHash` names it; when it is empty the SHA-256 of
   * `audioData` is used instead, so callers without a hash can pass the bytes.
   */
  cacheAudioTranscription<T = string>(audioHash: string, computeFn: ComputeFn<T>, audioData?: Uint8Array, options?: SubjectOptions): Promise<T>;
  fetchAudioTranscription<T = string>(audioHash: string, computeFn: ComputeFn<T>, audioData?: Uint8Array, options?: SubjectOptions): Promise<FetchResult<T>>;
  /** The AI's answer to a context (a prompt string or a JSON-able conversation state). */
  cacheAiResponse<T = string>(context: unknown, computeFn: ComputeFn<T>, options?: SubjectOptions): Promise<T>;
  fetchAiResponse<T = string>(context: unknown, computeFn: ComputeFn<T>, options?: SubjectOptions): Promise<FetchResult<T>>;
  /**
   * The emotion analysis of one recording, named like a transcription (`audioHash`, else the
   * SHA-256 of `audioData`): similar audio patterns hashed alike share one analysis.
   */
  cacheEmotionAnalysis<T = unknown>(audioHash: string, computeFn: ComputeFn<T>, audioData?: Uint8Array, options?: SubjectOptions): Promise<T>;
  fetchEmotionAnalysis<T = unknown>(audioHash: string, computeFn: ComputeFn<T>, audioData?: Uint8Array, options?: SubjectOptions): Promise<FetchResult<T>>;
  /** Synthesized speech for a line in a voice; audio bytes also land in L3. */
  cacheVoiceSynthesis<T = Uint8Array>(text: string, voice: string, computeFn: ComputeFn<T>, options?: SubjectOptions): Promise<T>;
  /** cacheVoiceSynthesis for audio, with the clip's names and the layer that answered. */
  voiceClip(text: string, voice: string, synthesize: ComputeFn<Uint8Array>, options?: SubjectOptions): Promise<VoiceClip>;
  /** The steps, for callers that try L1 synchronously first (fetchAudioTranscription etc. in two halves). */
  transcriptionStep(audioHash: string, options?: SubjectOptions): CacheStep<string>;
  aiResponseStep(context: unknown, options?: SubjectOptions): CacheStep<string>;
  /** The voice step's key (hex) also names the clip: its first 2 × CLIP_ID_BYTES hex digits are the clip id. */
  voiceSynthesisStep(text: string, voice: string, options?: SubjectOptions): CacheStep<Uint8Array>;
}

export function createCacheIntegrationService(cache: MultiLayerCache): CacheIntegrationService {
  /** The recording's name: the caller's hash, else the SHA-256 of its bytes. */
  const audioName = (step: string, audioHash: string, audioData: Uint8Array | undefined): string => {
    const name = audioHash || (audioData ? sha256Hex(audioData) : '');
    if (!name) throw new TypeError(`${step} needs an audio hash or the audio data`);
    return name;
  };
  const value = async <T>(result: Promise<FetchResult<T>>): Promise<T> => (await result).value;
  // Without a subject the calls stay option-free: the cache's L1 fast path.
  const opts = (options: SubjectOptions | undefined): SubjectOptions | undefined => (options?.subject ? options : undefined);
  const step = <T>(key: string, type: ContentType, options: SubjectOptions | undefined): CacheStep<T> => {
    const o = opts(options);
    return { key, peek: () => cache.peek<T>(key, type, o), fetch: (computeFn) => cache.fetch(key, type, computeFn, o) };
  };
  const service: CacheIntegrationService = {
    cacheAudioTranscription: (audioHash, computeFn, audioData, options) => value(service.fetchAudioTranscription(audioHash, computeFn, audioData, options)),
    async fetchAudioTranscription(audioHash, computeFn, audioData, options) {
      return cache.fetch(transcriptionKey(audioName('cacheAudioTranscription', audioHash, audioData)), ContentType.AUDIO_TRANSCRIPTION, computeFn, opts(options));
    },
    cacheAiResponse: (context, computeFn, options) => value(service.fetchAiResponse(context, computeFn, options)),
    fetchAiResponse(context, computeFn, options) {
      return cache.fetch(aiResponseKey(context), ContentType.AI_RESPONSE, computeFn, opts(options));
    },
    cacheEmotionAnalysis: (audioHash, computeFn, audioData, options) => value(service.fetchEmotionAnalysis(audioHash, computeFn, audioData, options)),
    async fetchEmotionAnalysis(audioHash, computeFn, audioData, options) {
      return cache.fetch(emotionAnalysisKey(audioName('cacheEmotionAnalysis', audioHash, audioData)), ContentType.EMOTION_ANALYSIS, computeFn, opts(options));
    },
    cacheVoiceSynthesis(text, voice, computeFn, options) {
      return cache.getWithFallback(voiceSynthesisKey(text, voice), ContentType.VOICE_SYNTHESIS, computeFn, opts(options));
    },
    async voiceClip(text, voice, synthesize, options) {
      // One digest gives both names (the contract: the key is its hex, the clip id its first bytes).
      const digest = voiceSynthesisDigest(text, voice);
      const { value: bytes, source, blob } = await cache.fetch(Buffer.from(digest).toString('hex'), ContentType.VOICE_SYNTHESIS, synthesize, opts(options));
      return { bytes, source, sha256: blob?.sha256 ?? sha256Hex(bytes), clipId: digest.subarray(0, CLIP_ID_BYTES) };
    },
    transcriptionStep: (audioHash, options) => step(transcriptionKey(audioHash), ContentType.AUDIO_TRANSCRIPTION, options),
    aiResponseStep: (context, options) => step(aiResponseKey(context), ContentType.AI_RESPONSE, options),
    voiceSynthesisStep: (text, voice, options) => step(voiceSynthesisKey(text, voice), ContentType.VOICE_SYNTHESIS, options),
  };
  return service;
}
