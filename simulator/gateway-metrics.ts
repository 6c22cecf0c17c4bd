/**
 * The gateway's own counters, scraped from its Prometheus endpoint
 * (`{httpUrl}/metrics`, gateway/metrics.ts): provider calls by operation,
 * answers by source, and the SDK's hits and misses per cache layer across all
 * content types. They turn the report's provider calls from modelled into
 * measured, and give L1/L2/L3 hit rates as the gateway saw them.
 */

export interface GatewayCounters {
  /** teddy_gateway_provider_calls_total by op (transcribe, respond, synthesize, ...). */
  providerCalls: Record<string, number>;
  /** teddy_gateway_answers_total by source. */
  answers: Record<string, number>;
  /** teddy_cache_hits_total / teddy_cache_misses_total by layer. */
  cacheHits: Record<string, number>;
  cacheMisses: Record<string, number>;
}

const SERIES = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;

/** Parses the families the report uses out of Prometheus text exposition format. */
export function parseGatewayMetrics(text: string): GatewayCounters {
  const out: GatewayCounters = { providerCalls: {}, answers: {}, cacheHits: {}, cacheMisses: {} };
  const families: Record<string, [Record<string, number>, string]> = {
    teddy_gateway_provider_calls_total: [out.providerCalls, 'op'],
    teddy_gateway_answers_total: [out.answers, 'source'],
    teddy_cache_hits_total: [out.cacheHits, 'layer'],
    teddy_cache_misses_total: [out.cacheMisses, 'layer'],
  };
  for (const line of text.split('\n')) {
    const m = SERIES.exec(line);
    const family = m && families[m[1]!];
    if (!family) continue;
    const [target, labelName] = family;
    const label = new RegExp(`${labelName}="([^"]*)"`).exec(m[2] ?? '')?.[1];
    const value = Number(m[3]);
    if (label !== undefined && Number.isFinite(value)) target[label] = (target[label] ?? 0) + value;
  }
  return out;
}

export async function scrapeGatewayMetrics(httpUrl: string): Promise<GatewayCounters | undefined> {
  try {
    const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    return parseGatewayMetrics(await res.text());
  } catch {
    return undefined;
  }
}

/**
 * a + sign * b, per series. Sums carry counters across a gateway restart (they
 * start again from zero); differences turn two scrapes into "during the run".
 */
export function combineGatewayCounters(a: GatewayCounters, b: GatewayCounters, sign: 1 | -1): GatewayCounters {
  const combine = (x: Record<string, number>, y: Record<string, number>): Record<string, number> => {
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + sign * v;
    return out;
  };
  return {
    providerCalls: combine(a.providerCalls, b.providerCalls),
    answers: combine(a.answers, b.answers),
    cacheHits: combine(a.cacheHits, b.cacheHits),
    cacheMisses: combine(a.cacheMisses, b.cacheMisses),
  };
}

export const NO_GATEWAY_COUNTERS: GatewayCounters = { providerCalls: {}, answers: {}, cacheHits: {}, cacheMisses: {} };
