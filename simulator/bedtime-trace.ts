/**
 * Long per-bear play traces for judging the flash policy: a simulated week of
 * bedtime sessions. The simulator's live runs give each bear a few requests,
 * too few to tell policies apart; a policy earns its keep over days of one
 * child's habits. Seeded: the same seed gives the same week.
 *
 * One catalogue for the fleet (the gateway caches answers by phrase, so bears
 * share clips): a greeting and a good-night line (starters), 240 short lines
 * (1–3 s of G.711 at 8 KB/s) and 24 stories of 4 segments (4–8 s each). Each
 * night, for each bear:
 * - the greeting first and good night last;
 * - 30 to 45 plays between them, each either
 *   - "again!" (25 %): the previous clip once more,
 *   - the next segment of the story being told, or a new story (20 %),
 *     stories chosen by Zipf(skew) over the bear's own story ranking,
 *   - a line (the rest), by Zipf(skew) over the bear's own line ranking;
 * - the rankings drift: every night three lines and one story the child has
 *   just discovered jump to the top (yesterday's favourite slips).
 * A bear's rankings start as the fleet's with a few neighbours swapped, so
 * fleet popularity (what the warm planner sees) predicts it, but not exactly.
 */
import { createHash } from 'node:crypto';
import type { Play } from './offline-policies.js';
import { createRng, type Rng } from './rng.js';
import { createZipf } from './zipf.js';

export interface CatalogueClip {
  id: string;
  size: number;
  starter: boolean;
  /** Fleet popularity weight (what the warm planner's fleet counts are proportional to). */
  weight: number;
}

export interface BedtimeWeek {
  plays: Play[];
  /** Index in `plays` where each night starts. */
  nightStarts: number[];
}

export interface BedtimeOptions {
  seed: number;
  /** Zipf exponent of the child's favourites (lines and stories). */
  skew: number;
  nights?: number;
}

const LINES = 240;
const STORIES = 24;
const SEGMENTS = 4;
const BYTES_PER_SECOND = 8000;

/** Clip ids look like the real ones (the first 8 bytes of a digest), so any byte of them tells clips apart. */
const hex = (kind: number, n: number) => createHash('sha256').update(`bedtime:${kind}:${n}`).digest('hex').slice(0, 16);
const lineId = (i: number) => hex(1, i);
const segmentId = (story: number, segment: number) => hex(2, story * SEGMENTS + segment);
const GREETING = hex(3, 0);
const GOOD_NIGHT = hex(3, 1);

/** The fleet's clips, the same for every seed: sizes from a fixed generator, Zipf(1) fleet weights. */
export function bedtimeCatalogue(): CatalogueClip[] {
  const rng = createRng(0x7edd1);
  const clips: CatalogueClip[] = [
    { id: GREETING, size: 2 * BYTES_PER_SECOND, starter: true, weight: 1 },
    { id: GOOD_NIGHT, size: 3 * BYTES_PER_SECOND, starter: true, weight: 1 },
  ];
  for (let i = 0; i < LINES; i++) {
    clips.push({ id: lineId(i), size: Math.round((1 + 2 * rng.next()) * BYTES_PER_SECOND), starter: false, weight: 1 / (i + 1) });
  }
  for (let s = 0; s < STORIES; s++) {
    for (let g = 0; g < SEGMENTS; g++) {
      clips.push({ id: segmentId(s, g), size: Math.round((4 + 4 * rng.next()) * BYTES_PER_SECOND), starter: false, weight: 0.5 / (s + 1) });
    }
  }
  return clips;
}

/** The fleet's order with `swaps` random neighbour swaps. */
function personalRanking(n: number, swaps: number, rng: Rng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < swaps; k++) {
    const i = rng.int(n - 1);
    [order[i], order[i + 1]] = [order[i + 1]!, order[i]!];
  }
  return order;
}

/** Moves `item` to the front of `ranking`. */
function promote(ranking: number[], item: number): void {
  ranking.splice(ranking.indexOf(item), 1);
  ranking.unshift(item);
}

export function bedtimeWeek({ seed, skew, nights = 7 }: BedtimeOptions): BedtimeWeek {
  const rng = createRng(seed);
  const sizes = new Map(bedtimeCatalogue().map((c) => [c.id, c.size]));
  const lines = personalRanking(LINES, LINES, rng);
  const stories = personalRanking(STORIES, STORIES, rng);
  const lineZipf = createZipf(LINES, skew);
  const storyZipf = createZipf(STORIES, skew);
  const plays: Play[] = [];
  const nightStarts: number[] = [];
  const play = (id: string) => plays.push({ id, size: sizes.get(id)! });

  for (let night = 0; night < nights; night++) {
    nightStarts.push(plays.length);
    play(GREETING);
    let story = -1;
    let segment = 0;
    const count = 30 + rng.int(16);
    for (let k = 0; k < count; k++) {
      const r = rng.next();
      if (r < 0.25 && k > 0) {
        play(plays[plays.length - 1]!.id);  // "again!"
      } else if (r < 0.45) {
        if (story < 0 || segment >= SEGMENTS) {
          story = stories[storyZipf.sample(rng)]!;
          segment = 0;
        }
        play(segmentId(story, segment++));
      } else {
        play(lineId(lines[lineZipf.sample(rng)]!));
      }
    }
    play(GOOD_NIGHT);
    // Tomorrow's discoveries: from the long tail to the top.
    for (let n = 0; n < 3; n++) promote(lines, lines[LINES / 2 + rng.int(LINES / 2)]!);
    promote(stories, stories[STORIES / 2 + rng.int(STORIES / 2)]!);
  }
  return { plays, nightStarts };
}
