/**
 * Building and publishing warm manifests: the planner's choice for a bear,
 * numbered (./warm-planner.ts), as a `warm` message with signed clip URLs on
 * the bear's `warm` topic.
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

export function createWarmPush({ catalog, clipUrls, metrics, log, send }: WarmPushOptions) {
  return {
    plan(session: BearSession): WarmPlan {
      const clips = planWarm(catalog.all(), session.history, session.flashBudget);
      return { ...sequencePlan(session, clips), clips };
    },

    async send(session: BearSession, plan: WarmPlan): Promise<void> {
      const clips = plan.clips.map((p) => clipUrls.ref(session.deviceId, p.clip, { priority: p.priority, pinned: p.pinned }));
      const totalBytes = clips.reduce((sum, c) => sum + c.size, 0);
      if (!send(session.deviceId, 'warm', encodeMessage({ type: 'warm', seq: plan.seq, clips, totalBytes }))) return;
      metrics.warmPushes.inc();
      log.info({ deviceId: session.deviceId, seq: plan.seq, clips: clips.length, totalBytes, budget: session.flashBudget }, 'warm manifest pushed');
    },
  };
}
export type WarmPush = ReturnType<typeof createWarmPush>;
