/**
 * Building and publishing warm manifests: the planner's choice for a bear,
 * numbered (./warm-planner.ts), as a `warm` message with signed clip URLs on
 * the bear's `warm` topic.
 *
 * Bears with the same plan, sequence number and URL variant get the same
 * bytes, so a manifest is encoded once per such group and the one buffer is
 * written to each of them: a warm push to a whole fleet holds a few distinct
 * manifests in memory, not one per bear.
 */
import { encodeMessage } from '../protocol/index.js';
import type { Logger } from 'pino';
import type { BearSession } from './bear-sessions.js';
import type { ClipCatalog } from './clip-catalog.js';
import type { ClipUrls } from './clip-urls.js';
import type { GatewayMetrics } from './metrics.js';
import { planWarm, sequencePlan, type PlannedClip } from './warm-planner.js';

export interface WarmPushOptions {
  catalog: ClipCatalog;
  clipUrls: ClipUrls;
  metrics: GatewayMetrics;
  log: Logger;
  send(deviceId: string, channel: 'warm', payload: Buffer): boolean;
}

export interface WarmPlan {
  seq: number;
  /** The bear has not applied this manifest yet. */
  due: boolean;
  clips: PlannedClip[];
}

/** Distinct manifests kept encoded; past this the memo starts over. */
const MAX_ENCODED = 256;

export function createWarmPush({ catalog, clipUrls, metrics, log, send }: WarmPushOptions) {
  const encoded = new Map<string, { payload: Buffer; clips: number; totalBytes: number }>();
  const encode = (session: BearSession, plan: WarmPlan) => {
    // The session's plan signature names what the plan lists and pins, in order (sequencePlan).
    const key = `${clipUrls.variant(session.deviceId)}|${plan.seq}|${session.planSignature}`;
    let made = encoded.get(key);
    if (made === undefined) {
      const clips = plan.clips.map((p) => clipUrls.ref(session.deviceId, p.clip, { priority: p.priority, pinned: p.pinned }));
      const totalBytes = clips.reduce((sum, c) => sum + c.size, 0);
      if (encoded.size >= MAX_ENCODED) encoded.clear();
      made = { payload: encodeMessage({ type: 'warm', seq: plan.seq, clips, totalBytes }), clips: clips.length, totalBytes };
      encoded.set(key, made);
    }
    return made;
  };
  return {
    plan(session: BearSession): WarmPlan {
      const clips = planWarm(catalog.all(), session.history, session.flashBudget);
      return { ...sequencePlan(session, clips), clips };
    },

    async send(session: BearSession, plan: WarmPlan): Promise<void> {
      const { payload, clips, totalBytes } = encode(session, plan);
      if (!send(session.deviceId, 'warm', payload)) return;
      metrics.warmPushes.inc();
      log.debug({ deviceId: session.deviceId, seq: plan.seq, clips, totalBytes, budget: session.flashBudget }, 'warm manifest pushed');
    },
  };
}
export type WarmPush = ReturnType<typeof createWarmPush>;
