/**
 * What the gateway knows about each voice clip it has handed out: clip id
 * (first 8 bytes of the SDK's voice-synthesis digest) -> the blob's SHA-256,
 * size, codec, and the line and voice it speaks, plus how often the fleet
 * has been answered with it. The bytes themselves live in the SDK cache and
 * its L3 blob store; this is the index the warm planner and clip lookups
 * read. Process memory: rebuilt as answers flow after a restart (the
 * starter set is re-registered at startup). Bounded: past `maxClips`, the
 * least-played tenth of the non-starter clips is forgotten (their bytes stay
 * in the SDK's layers; a later answer catalogues them again).
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
  /** Answers that named this clip, fleet-wide. */
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
  readonly size: number;
}

export function createClipCatalog(maxClips = 50_000): ClipCatalog {
  const byId = new Map<string, ClipInfo>();
  const bySha = new Map<string, ClipInfo>();

  const forgetLeastPlayed = (): void => {
    const candidates = [...byId.values()].filter((c) => !c.starter).sort((a, b) => a.plays - b.plays);
    for (const c of candidates.slice(0, Math.ceil(maxClips / 10))) {
      byId.delete(c.clipIdHex);
      bySha.delete(c.sha256);
    }
  };

  return {
    record(clip) {
      const clipIdHex = Buffer.from(clip.clipId).toString('hex');
      const existing = byId.get(clipIdHex);
      if (existing && existing.sha256 === clip.sha256) return existing;
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
      return info;
    },
    get: (clipIdHex) => byId.get(clipIdHex),
    bySha256: (sha256) => bySha.get(sha256),
    countPlay(clip) {
      clip.plays++;
    },
    all: () => byId.values(),
    get size() {
      return byId.size;
    },
  };
}
