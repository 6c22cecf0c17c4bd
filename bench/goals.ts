/**
 * A benchmark's goals, declared in its result file next to its ratios
 * (`goals: { ratioName: { min?, max? } }`): whether a measured ratio meets
 * its goal and how the goal reads in a table. bench/sdk.ts writes them and
 * bench/index.ts judges every bench's ratios with them.
 */

export interface Goal {
  readonly min?: number;
  readonly max?: number;
}

export type Verdict = 'met' | 'NOT met' | 'not measured' | '';

export function verdict(value: number | null | undefined, goal: Goal | undefined): Verdict {
  if (!goal) return '';
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'not measured';
  return (goal.min === undefined || value >= goal.min) && (goal.max === undefined || value <= goal.max) ? 'met' : 'NOT met';
}

const num = (x: number) => String(Number(x.toPrecision(3)));

export function goalText(goal: Goal | undefined): string {
  if (!goal) return '';
  return [goal.min !== undefined ? `≥ ${num(goal.min)}` : '', goal.max !== undefined ? `≤ ${num(goal.max)}` : ''].filter(Boolean).join(', ');
}
