/**
 * Everything a run counts, as it happens: per-layer outcomes, bytes, latency
 * histograms and a timeline in fixed buckets. The virtual bears write here;
 * report.ts turns it into the JSON report. Counters only go up, so the
 * report's sums can be checked (hits + misses = requests).
 */
import { createLatencyHistogram, type Histogram } from '../sdk/index.js';
import { recordMs } from './histograms.js';

/** Which layer answered an utterance, from the answer's source field. */
export type AnswerLayer = 'l1' | 'l2' | 'provider' | 'other';
/** Where the audio of an answer came from on the bear. */
export type AudioSource = 'flash' | 'inline' | 'origin' | 'edge' | 'failed';

export interface Counters {
  utterances: number;
  /** The bear was offline when the child spoke: nothing was sent. */
  offline: number;
  retries: number;
  answers: Record<AnswerLayer, number>;
  /** Requests answered with an error message. */
  errors: number;
  /** Messages from the gateway that did not decode (protocol violations). */
  malformedFromGateway: number;
  /** Requests abandoned after the last retry. */
  timeouts: number;
  /** Requests sent again, same correlation id, after the bear came back from a lost connection. */
  resent: number;
  /** Requests answered after a retry or a resend (in flight when something failed, yet answered). */
  answeredAfterRetry: number;
  /** Second answers to a request sent twice: the bear plays the first only. */
  duplicateAnswers: number;
  audio: Record<AudioSource, number>;
  connects: number;
  connectFailures: number;
  drops: number;
  warmManifests: number;
  warmClipsStored: number;
  warmClipsFailed: number;
  /** MQTT payload plus topic bytes, bear to gateway and back. */
  mqttBytesOut: number;
  mqttBytesIn: number;
  /** Clip bytes downloaded from the L3 origin over HTTP, and served by the modelled CDN edge. */
  originBytes: number;
  edgeBytes: number;
  /** Of those, bytes fetched for warm manifests (the rest were on-demand plays). */
  warmBytes: number;
}

export interface Bucket extends Counters {
  /** Seconds from the start of the run. */
  t: number;
  latencySumMs: number;
  latencyCount: number;
}

/** A bear without a connection: from losing an established one to the next welcome. */
export interface Outage {
  lostAt: number;
  backAt: number;
  /** Indices of the gateway URL it was on and came back on. */
  from: number;
  to: number;
}

export interface RunMetrics {
  counters: Counters;
  /** Every outage a bear recovered from, in the order they ended. */
  outages: Outage[];
  /** utterance sent -> answer received */
  answerLatency: Histogram;
  /** utterance sent -> audio ready to play (flash, inline or downloaded) */
  playLatency: Histogram;
  /** connect -> welcome */
  connectLatency: Histogram;
  timeline: Bucket[];
  bucketMs: number;
  readonly startedAt: number;
  /** Adds to a counter, in the totals and the current timeline bucket. */
  add(field: NumericCounter, n?: number): void;
  answer(layer: AnswerLayer, latencyMs: number): void;
  audio(source: AudioSource, playLatencyMs: number): void;
  outage(o: Outage): void;
}

export type NumericCounter = Exclude<keyof Counters, 'answers' | 'audio'>;

export function emptyCounters(): Counters {
  return {
    utterances: 0, offline: 0, retries: 0,
    answers: { l1: 0, l2: 0, provider: 0, other: 0 },
    errors: 0, malformedFromGateway: 0, timeouts: 0, resent: 0, answeredAfterRetry: 0, duplicateAnswers: 0,
    audio: { flash: 0, inline: 0, origin: 0, edge: 0, failed: 0 },
    connects: 0, connectFailures: 0, drops: 0,
    warmManifests: 0, warmClipsStored: 0, warmClipsFailed: 0,
    mqttBytesOut: 0, mqttBytesIn: 0, originBytes: 0, edgeBytes: 0, warmBytes: 0,
  };
}

export function createRunMetrics(bucketMs: number, now = Date.now): RunMetrics {
  const startedAt = now();
  const counters = emptyCounters();
  const timeline: Bucket[] = [];
  const bucket = (): Bucket => {
    const i = Math.max(0, Math.floor((now() - startedAt) / bucketMs));
    while (timeline.length <= i) timeline.push({ ...emptyCounters(), t: (timeline.length * bucketMs) / 1000, latencySumMs: 0, latencyCount: 0 });
    return timeline[i]!;
  };
  const answerLatency = createLatencyHistogram();
  const playLatency = createLatencyHistogram();
  const outages: Outage[] = [];
  return {
    counters,
    outages,
    outage: (o) => void outages.push(o),
    answerLatency,
    playLatency,
    connectLatency: createLatencyHistogram(),
    timeline,
    bucketMs,
    startedAt,
    add(field, n = 1) {
      counters[field] += n;
      bucket()[field] += n;
    },
    answer(layer, latencyMs) {
      counters.answers[layer]++;
      const b = bucket();
      b.answers[layer]++;
      b.latencySumMs += latencyMs;
      b.latencyCount++;
      recordMs(answerLatency, latencyMs);
    },
    audio(source, playLatencyMs) {
      counters.audio[source]++;
      bucket().audio[source]++;
      if (source !== 'failed') recordMs(playLatency, playLatencyMs);
    },
  };
}
