/**
 * Parsers for the simulator CLI's option values; each throws commander's
 * InvalidArgumentError, which the CLI reports as a usage error (exit 2).
 */
import { InvalidArgumentError } from 'commander';
import { commanderParser, nonNegativeInteger, nonNegativeNumber, positiveInteger } from '../gateway/options.js';
import type { StormSpec } from './traffic-model.js';

export const positiveInt = commanderParser(positiveInteger);
export const nonNegativeInt = commanderParser(nonNegativeInteger);
export const nonNegative = commanderParser(nonNegativeNumber);

/** "60s", "2m", "500ms", or plain seconds. */
export function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError('must look like 60s, 2m or 500ms');
  const ms = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm'];
  if (ms <= 0) throw new InvalidArgumentError('must be longer than 0');
  return ms;
}

/** "drop@50%", "drop:20%@50%", "restart@70%", "kill-gateway@30%", "kill-redis-master@60%". */
export function parseStorm(v: string, previous: StormSpec[] = []): StormSpec[] {
  const m = /^(drop|restart|kill-gateway|kill-redis-master)(?::(\d+(?:\.\d+)?)%)?@(\d+(?:\.\d+)?)%$/.exec(v.trim());
  if (!m || (m[2] !== undefined && m[1] !== 'drop')) {
    throw new InvalidArgumentError('must look like drop@50%, drop:20%@50%, restart@70%, kill-gateway@30% or kill-redis-master@60%');
  }
  const at = Number(m[3]) / 100;
  const fraction = m[2] === undefined ? 1 : Number(m[2]) / 100;
  if (at > 1 || fraction > 1) throw new InvalidArgumentError('percentages must be at most 100%');
  return [...previous, { kind: m[1] as StormSpec['kind'], at, fraction }];
}

export function parsePercentList(v: string, previous: number[] = []): number[] {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(v.trim());
  if (!m || Number(m[1]) > 100) throw new InvalidArgumentError('must be a percentage of the run, e.g. 40%');
  return [...previous, Number(m[1]) / 100];
}
