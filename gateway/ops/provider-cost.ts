/**
 * What the AI provider cost and what the cache saved: every SDK lookup at the
 * gateway stands for one provider call (a transcription, a reply, a voice
 * line); the lookups that did not compute are the calls avoided. Both at the
 * configured price per call.
 */
import type { OpsConfig } from './ops-config.js';
import type { Sample } from './sample.js';

export interface ProviderCost {
  readonly windowHours: number;
  readonly calls: Readonly<Record<string, number>>;
  readonly callsTotal: number;
  readonly callsAvoided: number;
  readonly pricePerCall: number;
  readonly currency: string;
  readonly spent: number;
  readonly saved: number;
  /** saved / (spent + saved): the share of the no-cache bill the cache took off. */
  readonly savedShare: number | undefined;
}

export function providerCost(window: Sample, cost: OpsConfig['cost']): ProviderCost {
  const callsTotal = Object.values(window.providerCalls).reduce((a, b) => a + b, 0);
  const callsAvoided = Math.max(0, window.lookups - window.computes);
  const spent = callsTotal * cost.pricePerCall;
  const saved = callsAvoided * cost.pricePerCall;
  return {
    windowHours: window.dtMs / 3_600_000,
    calls: window.providerCalls,
    callsTotal,
    callsAvoided,
    pricePerCall: cost.pricePerCall,
    currency: cost.currency,
    spent,
    saved,
    savedShare: spent + saved > 0 ? saved / (spent + saved) : undefined,
  };
}
