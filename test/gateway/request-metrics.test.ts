/**
 * The request path records into plain numbers and /metrics reads them at
 * scrape time: the exposition must be what prom-client's own counters and
 * histograms would print for the same observations.
 */
import { describe, expect, it } from 'vitest';
import { createGatewayMetrics } from '../../gateway/metrics.js';
import { CacheMetrics } from '../../sdk/metrics.js';

const noCache = () => new CacheMetrics().snapshot({ l1Bytes: 0, l1Entries: 0, breakerState: 'closed' });

const sample = (text: string, line: string): number => {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  if (found === undefined) throw new Error(`no sample ${line}`);
  return Number(found.slice(line.length + 1));
};

describe('request metrics', () => {
  it('exports counts and a cumulative duration histogram at scrape time', async () => {
    const m = createGatewayMetrics({ connectedBears: () => 0, cache: noCache });
    for (const s of [0.0001, 0.002, 0.002, 0.3, 9]) m.observeRequestSeconds('utterance', s);
    m.observeRequestSeconds('hello', 0.01);
    for (let i = 0; i < 3; i++) m.countRequest('utterance', 'ok');
    m.countRequest('utterance', 'rateLimited');
    m.countAnswer(1);
    m.countAnswer(1);
    const text = await m.registry.metrics();
    expect(sample(text, 'teddy_gateway_requests_total{type="utterance",outcome="ok"}')).toBe(3);
    expect(sample(text, 'teddy_gateway_requests_total{type="utterance",outcome="rateLimited"}')).toBe(1);
    expect(sample(text, 'teddy_gateway_answers_total{source="1"}')).toBe(2);
    const bucket = (le: string) => sample(text, `teddy_gateway_request_duration_seconds_bucket{le="${le}",type="utterance"}`);
    expect([bucket('0.0005'), bucket('0.0025'), bucket('0.25'), bucket('0.5'), bucket('5'), bucket('+Inf')]).toEqual([1, 3, 3, 4, 4, 5]);
    expect(sample(text, 'teddy_gateway_request_duration_seconds_count{type="utterance"}')).toBe(5);
    expect(sample(text, 'teddy_gateway_request_duration_seconds_sum{type="utterance"}')).toBeCloseTo(9.3041, 6);
    expect(sample(text, 'teddy_gateway_request_duration_seconds_count{type="hello"}')).toBe(1);
    expect(text).toMatch(/# TYPE teddy_gateway_request_duration_seconds histogram/);
    // A second scrape reports the same totals (collect resets and refills, it does not add up).
    expect(sample(await m.registry.metrics(), 'teddy_gateway_requests_total{type="utterance",outcome="ok"}')).toBe(3);
  });
});
