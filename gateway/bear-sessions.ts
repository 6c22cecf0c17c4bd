/**
 * What the gateway remembers about each bear that said hello: its flash
 * budget, the clips it holds (from hello and warm acks), which clips it has
 * been answered with (its history, for warm planning), warm sequence
 * numbers, and its last reported flash statistics.
 *
 * The bear re-sends what it holds in every hello; what only the fleet can
 * know — history and warm sequence, wherever the bear was connected before —
 * is read from the fleet's Redis once, at hello (one round trip: the store's
 * `load`), merged with what this process has not written yet, and kept in
 * process memory, so requests never wait for Redis. New plays and sequence
 * numbers are collected here and written in batches (./bear-sessions-sync.ts).
 * Bounded per bear (MAX_HISTORY).
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
  /** Newest manifest sequence the gateway built for this bear, and a digest of what it listed. */
  planSeq: number;
  planSignature: string;
  lastStats?: Omit<Stats, 'type'>;
  /** When it last said hello (ms since the epoch). */
  lastHelloAt: number;
}

/** At most this many clips of history per bear; the least played are dropped. */
export const MAX_HISTORY = 512;

export interface BearSessions {
  hello(deviceId: string, fw: string, flashBudget: number, held: Iterable<string>, appliedSeq: number): Promise<BearSession>;
  get(deviceId: string): BearSession | undefined;
  recordPlay(deviceId: string, clipIdHex: string): void;
  all(): Iterable<BearSession>;
  /** Forgets the bear here, unwritten changes included; true if this process held it (an erasure: ./erase.ts). */
  erase(deviceId: string): boolean;
  readonly size: number;
}

/** A bear's state as the fleet's Redis holds it. */
export interface StoredBear {
  readonly planSeq: number;
  readonly planSignature: string;
  readonly history: ReadonlyMap<string, number>;
}

export interface BearStore {
  /** The bear's stored state; undefined if it has none or Redis cannot say (the gateway goes on with what it holds). */
  load(deviceId: string): Promise<StoredBear | undefined>;
  /** Deletes the bear's stored state (warm sequence, plan, history, where it is connected); resolves to the keys deleted. */
  erase(deviceId: string): Promise<number>;
}

/** One bear's changes not yet written to the fleet's Redis. */
export interface BearChanges {
  readonly deviceId: string;
  /** Clip id (hex) -> plays counted here. */
  readonly plays: Map<string, number>;
  readonly planSeq: number;
  readonly planSignature: string;
}

export interface FleetBearSessions extends BearSessions {
  /** Changes since the last call, for the fleet's Redis. */
  takeChanges(): BearChanges[];
  /** Puts back changes that could not be written (Redis away). */
  restore(changes: readonly BearChanges[]): void;
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

/** Keeps a history within MAX_HISTORY by dropping its least played clip other than `keep` (which would always lose). */
function bound(history: Map<string, number>, keep?: string): void {
  while (history.size > MAX_HISTORY) {
    let least: string | undefined;
    let leastPlays = Infinity;
    for (const [id, plays] of history) {
      if (id !== keep && plays < leastPlays) [least, leastPlays] = [id, plays];
    }
    if (!least) return;
    history.delete(least);
  }
}

export function createBearSessions(store?: BearStore): FleetBearSessions {
  const sessions = new Map<string, BearSession>();
  /** Plays not yet written, per bear. */
  let unwritten = new Map<string, Map<string, number>>();
  /** The plan sequence last written (or read) per bear: a session whose planSeq moved past it has news. */
  const writtenSeq = new Map<string, number>();

  return {
    async hello(deviceId, fw, flashBudget, held, appliedSeq) {
      const stored = await store?.load(deviceId);
      const session = sessions.get(deviceId) ?? {
        deviceId, fw, flashBudget, held: new Set(), history: new Map(), appliedSeq, planSeq: 0, planSignature: '', lastHelloAt: 0,
      };
      if (stored) {
        // The fleet's history is the truth; add what this process counted and has not written yet.
        const history = new Map(stored.history);
        for (const [id, n] of unwritten.get(deviceId) ?? []) history.set(id, (history.get(id) ?? 0) + n);
        bound(history);
        session.history = history;
        if (stored.planSeq > session.planSeq) {
          session.planSeq = stored.planSeq;
          session.planSignature = stored.planSignature;
        }
        writtenSeq.set(deviceId, Math.max(writtenSeq.get(deviceId) ?? 0, stored.planSeq));
      }
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
      bound(session.history, clipIdHex);
      let plays = unwritten.get(deviceId);
      if (!plays) unwritten.set(deviceId, (plays = new Map()));
      plays.set(clipIdHex, (plays.get(clipIdHex) ?? 0) + 1);
    },
    all: () => sessions.values(),
    erase(deviceId) {
      unwritten.delete(deviceId);
      writtenSeq.delete(deviceId);
      return sessions.delete(deviceId);
    },
    get size() {
      return sessions.size;
    },

    takeChanges() {
      const changes: BearChanges[] = [];
      const plays = unwritten;
      unwritten = new Map();
      for (const session of sessions.values()) {
        const bearPlays = plays.get(session.deviceId);
        const seqMoved = session.planSeq > (writtenSeq.get(session.deviceId) ?? 0);
        if (!bearPlays && !seqMoved) continue;
        if (seqMoved) writtenSeq.set(session.deviceId, session.planSeq);
        changes.push({ deviceId: session.deviceId, plays: bearPlays ?? new Map(), planSeq: session.planSeq, planSignature: session.planSignature });
      }
      return changes;
    },
    restore(changes) {
      for (const c of changes) {
        const plays = unwritten.get(c.deviceId) ?? new Map<string, number>();
        for (const [id, n] of c.plays) plays.set(id, (plays.get(id) ?? 0) + n);
        if (plays.size > 0) unwritten.set(c.deviceId, plays);
        // Not known to be written: the next batch writes the sequence again (the store only ever raises it).
        writtenSeq.delete(c.deviceId);
      }
    },
  };
}
