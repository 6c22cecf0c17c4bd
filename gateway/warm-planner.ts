/**
 * Which clips a bear should hold before it is asked for them: the starter
 * lines first (pinned), then clips ranked by fleet popularity plus the bear's
 * own history, packed into the flash budget it announced using the
 * firmware's block arithmetic (protocol/flash-budget.ts). Manifests are
 * numbered per bear: the sequence moves only when the chosen set changes, so
 * re-sending is idempotent.
 */
import { createHash } from 'node:crypto';
import { budgetBlocks, clipBlocks, MAX_LISTED_CLIPS, MAX_UINT } from '../protocol/index.js';
import type { BearSession } from './bear-sessions.js';
import type { ClipInfo } from './clip-catalog.js';

export interface PlannedClip {
  readonly clip: ClipInfo;
  /** 0 first. */
  readonly priority: number;
  readonly pinned: boolean;
}

/** A bear's own plays weigh this much more than the fleet's (both as shares of their totals). */
const OWN_HISTORY_WEIGHT = 2;

export function planWarm(clips: Iterable<ClipInfo>, history: ReadonlyMap<string, number>, budgetBytes: number): PlannedClip[] {
  const all = [...clips];
  const fleetPlays = all.reduce((sum, c) => sum + c.plays, 0) || 1;
  let ownPlays = 0;
  for (const n of history.values()) ownPlays += n;
  ownPlays ||= 1;
  const score = (c: ClipInfo): number =>
    c.starter ? Infinity : c.plays / fleetPlays + (OWN_HISTORY_WEIGHT * (history.get(c.clipIdHex) ?? 0)) / ownPlays;
  const ranked = all
    .filter((c) => c.starter || score(c) > 0)
    .map((c) => ({ c, s: score(c) }))
    // Stable: starters keep their registration order; ties break on clip id for determinism.
    .sort((a, b) => (a.s === b.s ? (a.c.starter ? 0 : a.c.clipIdHex.localeCompare(b.c.clipIdHex)) : b.s - a.s));

  let freeBlocks = budgetBlocks(budgetBytes);
  const plan: PlannedClip[] = [];
  for (const { c } of ranked) {
    if (plan.length === MAX_LISTED_CLIPS) break;
    const blocks = clipBlocks(c.size);
    if (blocks > freeBlocks) continue;
    freeBlocks -= blocks;
    plan.push({ clip: c, priority: plan.length, pinned: c.starter });
  }
  return plan;
}

/**
 * Gives the plan its sequence number for this bear: unchanged plan, same
 * number; changed plan, one more than anything the bear or gateway has seen.
 * `due` says whether the bear has not applied it yet.
 */
export function sequencePlan(session: BearSession, plan: readonly PlannedClip[]): { seq: number; due: boolean } {
  // A digest of what is listed (and pinned): it is kept per bear in the fleet's Redis.
  const signature = createHash('sha256').update(plan.map((p) => `${p.clip.sha256}${p.pinned ? '!' : ''}`).join(',')).digest('base64url');
  if (signature !== session.planSignature) {
    // Sequences are uint32 on the wire; a bear claiming the last one simply gets no newer manifest.
    session.planSeq = Math.min(Math.max(session.planSeq, session.appliedSeq) + 1, MAX_UINT);
    session.planSignature = signature;
  }
  return { seq: session.planSeq, due: session.planSeq > session.appliedSeq };
}
