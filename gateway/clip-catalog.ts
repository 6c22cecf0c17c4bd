/**
 * What the gateway knows about each voice clip it has handed out: clip id
 * (first 8 bytes of the SDK's voice-synthesis digest) -> the blob's SHA-256,
 * size, codec, and the line and voice it speaks, plus how often the fleet
 * has been answered with it. The bytes themselves live in the SDK cache and
 * its L3 blob store; this is the index the warm planner and clip lookups
 * read, held in process memory so a request never waits for Redis.
 *
 * It is one fleet's catalog: new clips and play counts are collected here
 * and written to the fleet's Redis in batches (./clip-catalog-sync.ts), and
 * what other gateways catalogued and counted comes back the same way
 * (`learn`, `applyFleetPlays`). Bounded: past `maxClips`, the least-played
 * tenth of the non-starter clips is forgotten (their bytes stay in the SDK's
 * layers; a later answer catalogues them again).
 */
export interface ClipInfo {
  readonly clipId: Uint8Array;
  /** Hex of clipId: the map key. */
  readonly clipIdHex: string;
  /** Hex SHA-256 of the audio bytes (the L3 blob name). */
  readonly sha256: string;
  readonly size: number;
  readonly codec: number;
  /** The bear's line (never a child's words) and voice, so the clip can be re-synthesized. */
  readonly text: string;
  readonly voice: string;
  /** Starter clips go first in every manifest, pinned. */
  readonly starter: boolean;
  /** Answers that named this clip, fleet-wide (as last read from the fleet, plus this process's since). */
  plays: number;
}

export type NewClip = Omit<ClipInfo, 'clipIdHex' | 'plays'>;

export interface ClipCatalog {
  /** Adds or refreshes a clip; keeps its play count and starter flag. */
  record(clip: NewClip): ClipInfo;
  get(clipIdHex: string): ClipInfo | undefined;
  bySha256(sha256: string): ClipInfo | undefined;
  countPlay(clip: ClipInfo): void;
  all(): Iterable<ClipInfo>;
  /** Forgets a clip here, pending writes included (an erasure: ./erase.ts removes it from Redis). */
  erase(clipIdHex: string): boolean;
  readonly size: number;
}

/** What this process added to the catalog since the changes were last taken. */
export interface CatalogChanges {
  readonly clips: ClipInfo[];
  /** Clip id (hex) -> plays counted here. */
  readonly plays: Map<string, number>;
}

export interface FleetClipCatalog extends ClipCatalog {
  /** New clips and play counts since the last call, for the fleet's Redis. */
  takeChanges(): CatalogChanges;
  /** Puts changes back that could not be written (Redis away), so nothing is lost. */
  restore(changes: CatalogChanges): void;
  /** A clip another gateway catalogued (not announced again). */
  learn(clip: NewClip): void;
  /** The fleet's play counts as Redis has them: each listed clip's count becomes that plus what is not written yet. */
  applyFleetPlays(plays: ReadonlyMap<string, number>): void;
}

/** Changes held for Redis at most: past it (a long outage) the oldest new clips are not announced. */
const MAX_PENDING_CLIPS = 10_000;

export function createClipCatalog(maxClips = 50_000): FleetClipCatalog {
  const byId = new Map<string, ClipInfo>();
  const bySha = new Map<string, ClipInfo>();
  let newClips = new Map<string, ClipInfo>();
  let unwritten = new Map<string, number>();

  const forgetLeastPlayed = (): void => {
    const candidates = [...byId.values()].filter((c) => !c.starter).sort((a, b) => a.plays - b.plays);
    for (const c of candidates.slice(0, Math.ceil(maxClips / 10))) {
      byId.delete(c.clipIdHex);
      bySha.delete(c.sha256);
      unwritten.delete(c.clipIdHex);
    }
  };

  const add = (clip: NewClip): { info: ClipInfo; added: boolean } => {
    const clipIdHex = Buffer.from(clip.clipId).toString('hex');
    const existing = byId.get(clipIdHex);
    if (existing && existing.sha256 === clip.sha256) return { info: existing, added: false };
    const info: ClipInfo = {
      ...clip,
      clipIdHex,
      starter: clip.starter || (existing?.starter ?? false),
      plays: existing?.plays ?? 0,
    };
    if (existing) bySha.delete(existing.sha256);
    else if (byId.size >= maxClips) forgetLeastPlayed();
    byId.set(clipIdHex, info);
    bySha.set(info.sha256, info);
    return { info, added: true };
  };

  return {
    record(clip) {
      const { info, added } = add(clip);
      if (added && newClips.size < MAX_PENDING_CLIPS) newClips.set(info.clipIdHex, info);
      return info;
    },
    get: (clipIdHex) => byId.get(clipIdHex),
    bySha256: (sha256) => bySha.get(sha256),
    countPlay(clip) {
      clip.plays++;
      unwritten.set(clip.clipIdHex, (unwritten.get(clip.clipIdHex) ?? 0) + 1);
    },
    all: () => byId.values(),
    erase(clipIdHex) {
      const clip = byId.get(clipIdHex);
      if (!clip) return false;
      byId.delete(clipIdHex);
      bySha.delete(clip.sha256);
      newClips.delete(clipIdHex);
      unwritten.delete(clipIdHex);
      return true;
    },
    get size() {
      return byId.size;
    },

    takeChanges() {
      const changes = { clips: [...newClips.values()], plays: unwritten };
      newClips = new Map();
      unwritten = new Map();
      return changes;
    },
    restore(changes) {
      for (const c of changes.clips) if (newClips.size < MAX_PENDING_CLIPS && byId.get(c.clipIdHex) === c) newClips.set(c.clipIdHex, c);
      for (const [id, n] of changes.plays) if (byId.has(id)) unwritten.set(id, (unwritten.get(id) ?? 0) + n);
    },
    learn: (clip) => void add(clip),
    applyFleetPlays(plays) {
      for (const [id, n] of plays) {
        const clip = byId.get(id);
        if (clip) clip.plays = n + (unwritten.get(id) ?? 0);
      }
    },
  };
}
