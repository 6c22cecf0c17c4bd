/**
 * The operations configuration: SLO targets, health rules, provider price and
 * webhook delivery, in one schema that holds every field's default and its
 * check. A JSON file (`--slo-config FILE`, env TEDDY_SLO_CONFIG) overrides any
 * subset; a field that is unknown, of the wrong type or out of range is
 * refused at start with its path (`slos.l2Latency.thresholdMs: must be …`),
 * so a typo never silently leaves a default in force.
 *
 * The defaults are the seed's targets: L1 hit rate above 70 %, L2 latency p99
 * under 50 ms, gateway memory under 256 MB, a miss answered within 100 ms,
 * availability above 99.9 %.
 */
import { readFile } from 'node:fs/promises';
import { OptionError } from '../errors.js';

interface Leaf<T> {
  readonly default: T;
  /** Returns the value or throws with what it expected. */
  readonly check: (value: unknown) => T;
}
type Schema = { readonly [key: string]: Schema | Leaf<unknown> };
type Resolved<S> = S extends Leaf<infer T> ? T : { readonly [K in keyof S]: Resolved<S[K]> };

const leaf = <T>(value: T, check: (value: unknown) => T): Leaf<T> => ({ default: value, check });
const isLeaf = (s: Schema | Leaf<unknown>): s is Leaf<unknown> => typeof (s as Leaf<unknown>).check === 'function';
const shown = (v: unknown): string => JSON.stringify(v) ?? String(v);

function numberIn(min: number, max: number, { minExclusive = false, integer = false } = {}): (v: unknown) => number {
  const range = `${minExclusive ? '>' : '≥'} ${min}${max === Infinity ? '' : ` and ≤ ${max}`}`;
  return (v) => {
    const ok = typeof v === 'number' && Number.isFinite(v) && (minExclusive ? v > min : v >= min) && v <= max && (!integer || Number.isInteger(v));
    if (!ok) throw new Error(`must be ${integer ? 'an integer' : 'a number'} ${range}, got ${shown(v)}`);
    return v as number;
  };
}
/** An SLO objective: the fraction of events that must be good, strictly between 0 and 1. */
function objective(v: unknown): number {
  if (typeof v !== 'number' || !(v > 0 && v < 1)) throw new Error(`must be a fraction between 0 and 1 (0.999 = 99.9 %), got ${shown(v)}`);
  return v;
}
function boolean(v: unknown): boolean {
  if (typeof v !== 'boolean') throw new Error(`must be true or false, got ${shown(v)}`);
  return v;
}
export type Severity = 'warning' | 'critical';
function severity(v: unknown): Severity {
  if (v !== 'warning' && v !== 'critical') throw new Error(`must be "warning" or "critical", got ${shown(v)}`);
  return v;
}
function text(v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new Error(`must be a non-empty string, got ${shown(v)}`);
  return v;
}

const positive = numberIn(0, Infinity, { minExclusive: true });
const nonNegative = numberIn(0, Infinity);
const fraction = numberIn(0, 1);
const seconds = numberIn(0, 86_400);
const count = numberIn(0, Number.MAX_SAFE_INTEGER, { integer: true });

/** Every rule: on or off, its severity, and how long its condition must hold before it fires. */
const rule = (sev: Severity, forSeconds: number) => ({ enabled: leaf(true, boolean), severity: leaf(sev, severity), forSeconds: leaf(forSeconds, seconds) });

const SCHEMA = {
  slos: {
    /** Share of lookups that reaching L1 were answered by it. */
    l1HitRate: { objective: leaf(0.7, objective) },
    /** Share of L2 reads answered within thresholdMs (objective 0.99 = "p99 under thresholdMs"). */
    l2Latency: { thresholdMs: leaf(50, positive), objective: leaf(0.99, objective) },
    /** Share of time the gateway's resident memory stays under maxMb. */
    memory: { maxMb: leaf(256, positive), objective: leaf(0.99, objective) },
    /** Share of utterances the cache missed (the provider answered) that were answered within thresholdMs. */
    missRecovery: { thresholdMs: leaf(100, positive), objective: leaf(0.99, objective) },
    /** Share of bear messages not failed by the gateway (internal or upstream errors). */
    availability: { objective: leaf(0.999, objective) },
  },
  rules: {
    /** L1 hit rate over windowSeconds below max(floor, its baselineSeconds rate − maxDrop). */
    hitRateDrop: {
      ...rule('warning', 10),
      windowSeconds: leaf(60, positive), baselineSeconds: leaf(3600, positive), maxDrop: leaf(0.2, fraction), floor: leaf(0.5, fraction), minLookups: leaf(20, count),
    },
    /** More than maxErrors failed L2 calls within windowSeconds. */
    l2Errors: { ...rule('warning', 0), windowSeconds: leaf(60, positive), maxErrors: leaf(0, count) },
    /** The L2 breaker is not closed, or the gateway's connection to Redis is down. */
    l2Down: rule('critical', 0),
    /** Resident memory at or above fraction × slos.memory.maxMb. */
    memoryNearLimit: { ...rule('warning', 0), fraction: leaf(0.9, positive) },
    /** Failed provider calls above maxErrorRatio of at least minCalls within windowSeconds. */
    providerErrors: { ...rule('critical', 0), windowSeconds: leaf(60, positive), maxErrorRatio: leaf(0.05, fraction), minCalls: leaf(5, count) },
    /** Event-loop delay p99 above maxLagMs in any sample within windowSeconds. */
    eventLoopLag: { ...rule('warning', 10), windowSeconds: leaf(30, positive), maxLagMs: leaf(200, positive) },
    /** An SLO's error budget burning above burnRate over both 5 min and 1 h (the budget gone in about 2 days at 14.4). */
    sloBurnFast: { ...rule('critical', 0), burnRate: leaf(14.4, positive), minEvents: leaf(10, count) },
    /** An SLO's error budget burning above burnRate over both 1 h and 24 h. */
    sloBurnSlow: { ...rule('warning', 0), burnRate: leaf(1, positive), minEvents: leaf(100, count) },
  },
  cost: {
    /** What one provider call costs (each call the cache avoids saves it). */
    pricePerCall: leaf(0.002, nonNegative),
    currency: leaf('USD', text),
  },
  alerting: {
    /** Alert changes waiting for the webhook; past this the oldest waiting one is dropped (and counted). */
    webhookQueueSize: leaf(100, numberIn(1, 10_000, { integer: true })),
    /** Tries per alert change before it is dropped (and counted). */
    webhookMaxAttempts: leaf(5, numberIn(1, 20, { integer: true })),
    /** First pause between tries; it doubles each time, up to 30 s. */
    webhookBackoffMs: leaf(500, numberIn(10, 60_000, { integer: true })),
    webhookTimeoutMs: leaf(5000, numberIn(100, 60_000, { integer: true })),
  },
} satisfies Schema;

export type OpsConfig = Resolved<typeof SCHEMA>;
export type SloTargets = OpsConfig['slos'];
export type SloName = keyof SloTargets;
export type RuleName = keyof OpsConfig['rules'];
export const SLO_NAMES = Object.keys(SCHEMA.slos) as SloName[];

function resolve(schema: Schema, given: unknown, path: string): unknown {
  const out: Record<string, unknown> = {};
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new Error(`${path || 'the configuration'}: must be an object, got ${shown(given)}`);
  }
  const fields = (given ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!Object.hasOwn(schema, key)) throw new Error(`${path ? `${path}.` : ''}${key}: unknown field (known: ${Object.keys(schema).join(', ')})`);
  }
  for (const [key, sub] of Object.entries(schema)) {
    const at = path ? `${path}.${key}` : key;
    const value = Object.hasOwn(fields, key) ? fields[key] : undefined;
    if (!isLeaf(sub)) out[key] = resolve(sub, value, at);
    else if (value === undefined) out[key] = sub.default;
    else {
      try {
        out[key] = sub.check(value);
      } catch (err) {
        throw new Error(`${at}: ${(err as Error).message}`);
      }
    }
  }
  return out;
}

/** The defaults with `given` (parsed JSON) over them; throws an Error naming the first bad field. */
export function resolveOpsConfig(given: unknown = {}): OpsConfig {
  return resolve(SCHEMA, given, '') as OpsConfig;
}

export const DEFAULT_OPS_CONFIG: OpsConfig = resolveOpsConfig();

/** Reads and checks a configuration file; an OptionError names the option, the file and the field. */
export async function loadOpsConfig(file: string | undefined, option = '--slo-config'): Promise<OpsConfig> {
  if (file === undefined) return DEFAULT_OPS_CONFIG;
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    throw new OptionError(option, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new OptionError(option, `${file} is not JSON: ${(err as Error).message}`);
  }
  try {
    return resolveOpsConfig(parsed);
  } catch (err) {
    throw new OptionError(option, `${file}: ${(err as Error).message}`);
  }
}
