/**
 * What the gateway remembers about each bear that said hello: its flash
 * budget, the clips it holds (from hello and warm acks), which clips it has
 * been answered with (its history, for warm planning), warm sequence
 * numbers, and its last reported flash statistics. Process memory, bounded
 * per bear; a bear re-sends what matters in every hello.
 */
import type { Stats } from '../protocol/index.js';

export interface BearSession {
  readonly deviceId: string;
  fw: string;
  flashBudget: number;
  /** Clip ids (hex) the bear reported holding. */
  held: Set<string>;
  /** Clip id (hex) -> answers this bear got with it. */
  history: Map<string, number>;
  /** Newest manifest sequence the bear reported applying. */
  appliedSeq: number;
  /** Newest manifest sequence the gateway built for this bear, and what it listed. */
  planSeq: number;
  planSignature: string;
  lastStats?: Omit<Stats, 'type'>;
  /** When it last said hello (ms since the epoch). */
  lastHelloAt: number;
}

/** At most this many clips of history per bear; the least played are dropped. */
const MAX_HISTORY = 512;

export interface BearSessions {
  hello(deviceId: string, fw: string, flashBudget: number, held: Iterable<string>, appliedSeq: number): BearSession;
  get(deviceId: string): BearSession | undefined;
  recordPlay(deviceId: string, clipIdHex: string): void;
  all(): Iterable<BearSession>;
  readonly size: number;
}

/** One bear as the `stats --device` CLI shows it. */
export function describeSession(s: BearSession, connected: boolean) {
  return {
    deviceId: s.deviceId, connected, fw: s.fw, flashBudget: s.flashBudget, clipsHeld: s.held.size,
    clipsInHistory: s.history.size, appliedWarmSeq: s.appliedSeq, newestWarmSeq: s.planSeq, lastStats: s.lastStats ?? null,
    lastHelloAt: new Date(s.lastHelloAt).toISOString(),
  };
}

/** Fleet totals of the flash statistics bears reported (`stats` events). */
export function fleetFlashStats(sessions: Iterable<BearSession>) {
  let reporting = 0;
  let hits = 0;
  let misses = 0;
  for (const s of sessions) {
    if (!s.lastStats) continue;
    reporting++;
    hits += s.lastStats.flashHits;
    misses += s.lastStats.flashMisses;
  }
  return { bearsReporting: reporting, flashHits: hits, flashMisses: misses, flashHitRate: hits + misses === 0 ? null : hits / (hits + misses) };
}

export function createBearSessions(): BearSessions {
  const sessions = new Map<string, BearSession>();
  return {
    hello(deviceId, fw, flashBudget, held, appliedSeq) {
      const session = sessions.get(deviceId) ?? {
        deviceId, fw, flashBudget, held: new Set(), history: new Map(), appliedSeq, planSeq: 0, planSignature: '', lastHelloAt: 0,
      };
      session.fw = fw;
      session.flashBudget = flashBudget;
      session.held = new Set(held);
      session.appliedSeq = appliedSeq;
      session.lastHelloAt = Date.now();
      sessions.set(deviceId, session);
      return session;
    },
    get: (deviceId) => sessions.get(deviceId),
    recordPlay(deviceId, clipIdHex) {
      const session = sessions.get(deviceId);
      if (!session) return;
      session.history.set(clipIdHex, (session.history.get(clipIdHex) ?? 0) + 1);
      if (session.history.size <= MAX_HISTORY) return;
      // Make room by the least played clip other than the one just played, which would always lose.
      let least: string | undefined;
      let leastPlays = Infinity;
      for (const [id, plays] of session.history) {
        if (id !== clipIdHex && plays < leastPlays) [least, leastPlays] = [id, plays];
      }
      if (least) session.history.delete(least);
    },
    all: () => sessions.values(),
    get size() {
      return sessions.size;
    },
  };
}
