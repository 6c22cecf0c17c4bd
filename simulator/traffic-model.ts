/**
 * What the children do, as a deterministic trace: for each bear, when it is
 * spoken to and which phrasebook line; for the fleet, when connections drop,
 * when the gateway restarts and when a warm push goes out.
 *
 * The model (docs/simulator.md has the numbers):
 * - Sessions: a child picks the bear up, says a few things with think times in
 *   between, puts it down; silences between sessions.
 * - Bedtime peak: the traffic phase stands for an evening, 17:00 to 21:00,
 *   compressed into the run. Session starts follow a non-homogeneous Poisson
 *   process whose rate peaks around 19:45 (drawn by thinning).
 * - Phrase choice: Zipf over the phrasebook's ranks with a configurable skew.
 * - Reconnect storms and warm pushes at configured points of the run.
 *
 * Everything is drawn from one seeded generator, forked per bear, so the same
 * config and seed always give the same trace.
 */
import { createRng, type Rng } from './rng.js';
import { createZipf } from './zipf.js';

export interface TrafficConfig {
  bears: number;
  /** Length of the traffic phase (after every bear has connected), ms. */
  durationMs: number;
  seed: number;
  /** Number of phrasebook lines to draw from. */
  phrases: number;
  /** Zipf exponent of phrase popularity. */
  skew: number;
  /** Mean silence between one bear's sessions at peak intensity, ms. */
  meanSilenceMs: number;
  /** Mean utterances in a session (at least one). */
  meanUtterances: number;
  /** Mean think time between utterances of one session, ms. */
  meanThinkMs: number;
  storms: StormSpec[];
  /** Fractions of the traffic phase (0..1) at which the fleet is sent a warm push. */
  warmPushes: number[];
}

export interface StormSpec {
  /**
   * drop: the bears' connections break (Wi-Fi); restart: the gateway process restarts;
   * kill-gateway: one gateway process is SIGKILLed; kill-redis-master: a Redis Cluster master is.
   */
  kind: 'drop' | 'restart' | 'kill-gateway' | 'kill-redis-master';
  /** Fraction of the traffic phase (0..1) at which it happens. */
  at: number;
  /** For drop: the fraction of bears whose connection breaks. */
  fraction: number;
}

export interface Utterance {
  /** Offset from the start of the traffic phase, ms. */
  atMs: number;
  /** 0-based phrasebook rank. */
  rank: number;
}

export type FleetEvent =
  | { atMs: number; kind: 'drop'; bears: number[] }
  | { atMs: number; kind: 'restart' }
  /** The n-th kill of the run (which process it hits rotates with n). */
  | { atMs: number; kind: 'kill-gateway'; n: number }
  | { atMs: number; kind: 'kill-redis-master' }
  | { atMs: number; kind: 'warmPush' };

export interface Trace {
  config: TrafficConfig;
  /** Utterances of each bear, in time order. */
  bears: Utterance[][];
  /** Fleet-wide events, in time order. */
  fleet: FleetEvent[];
}

export const DEFAULT_TRAFFIC: Omit<TrafficConfig, 'bears' | 'durationMs' | 'seed' | 'phrases'> = {
  skew: 1.1,
  meanSilenceMs: 20_000,
  meanUtterances: 4,
  meanThinkMs: 4_000,
  storms: [{ kind: 'drop', at: 0.5, fraction: 0.2 }],
  warmPushes: [0.4],
};

/** The evening compressed into the run: 17:00 at the start, 21:00 at the end. */
const EVENING_START_HOUR = 17;
const EVENING_HOURS = 4;
const BEDTIME_HOUR = 19.75;
const BEDTIME_SPREAD_HOURS = 0.6;
const BASELINE_INTENSITY = 0.2;

/** Relative session-start intensity (0..1] at a fraction 0..1 of the traffic phase. */
export function bedtimeIntensity(fraction: number): number {
  const hour = EVENING_START_HOUR + EVENING_HOURS * fraction;
  const z = (hour - BEDTIME_HOUR) / BEDTIME_SPREAD_HOURS;
  return BASELINE_INTENSITY + (1 - BASELINE_INTENSITY) * Math.exp(-0.5 * z * z);
}

export function generateTrace(config: TrafficConfig): Trace {
  const root = createRng(config.seed);
  const zipf = createZipf(config.phrases, config.skew);
  const bears: Utterance[][] = [];
  for (let i = 0; i < config.bears; i++) bears.push(bearUtterances(root.fork(), config, (rng) => zipf.sample(rng)));
  return { config, bears, fleet: fleetEvents(root.fork(), config) };
}

function bearUtterances(rng: Rng, config: TrafficConfig, pickRank: (rng: Rng) => number): Utterance[] {
  const out: Utterance[] = [];
  let t = 0;
  for (;;) {
    // Thinning: candidates at the peak rate, kept with probability intensity(t).
    t += rng.exponential(config.meanSilenceMs);
    if (t >= config.durationMs) return out;
    if (rng.next() >= bedtimeIntensity(t / config.durationMs)) continue;
    // Geometric count with the configured mean, at least one utterance.
    const more = 1 - 1 / config.meanUtterances;
    do {
      out.push({ atMs: Math.round(t), rank: pickRank(rng) });
      t += rng.exponential(config.meanThinkMs);
    } while (t < config.durationMs && rng.next() < more);
  }
}

function fleetEvents(rng: Rng, config: TrafficConfig): FleetEvent[] {
  const events: FleetEvent[] = [];
  let kills = 0;
  for (const storm of config.storms) {
    const atMs = Math.round(storm.at * config.durationMs);
    if (storm.kind === 'restart' || storm.kind === 'kill-redis-master') {
      events.push({ atMs, kind: storm.kind });
      continue;
    }
    if (storm.kind === 'kill-gateway') {
      events.push({ atMs, kind: 'kill-gateway', n: kills++ });
      continue;
    }
    const bears = Array.from({ length: config.bears }, (_, i) => i).filter(() => rng.next() < storm.fraction);
    events.push({ atMs, kind: 'drop', bears });
  }
  for (const at of config.warmPushes) events.push({ atMs: Math.round(at * config.durationMs), kind: 'warmPush' });
  return events.sort((a, b) => a.atMs - b.atMs);
}

/** Total number of utterances in a trace. */
export function utteranceCount(trace: Trace): number {
  return trace.bears.reduce((n, u) => n + u.length, 0);
}
