/**
 * The end-of-run summary as a plain-text table for the terminal (the CLI and
 * `npm run bench:simulator` print the same one).
 */
import type { Report } from './report.js';

/** Formats rows as an aligned text table: first column left, values right; the first row is the header. */
export function formatTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  const line = (r: string[]): string => r.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const ms = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(1));
const mb = (bytes: number): string => (bytes / 1e6).toFixed(2);

export function summaryTable(r: Report): string {
  const lat = (name: string, s: Report['latency']['answer'] | undefined): string[] =>
    [name, s ? String(s.count) : '-', ms(s?.p50Ms), ms(s?.p90Ms), ms(s?.p99Ms), ms(s?.p999Ms)];
  const layers = formatTable([
    ['layer', 'hits', 'of', 'rate'],
    ...(['flash', 'l1', 'l2', 'l3', 'miss'] as const).map((k) => [k === 'miss' ? 'miss (provider)' : k, String(r.layers[k].hits), String(r.layers[k].of), pct(r.layers[k].rate)]),
  ]);
  const latency = formatTable([
    ['latency (ms)', 'count', 'p50', 'p90', 'p99', 'p99.9'],
    lat('answer', r.latency.answer), lat('play', r.latency.play),
    lat('no cache (idle gateway)', r.latency.noCache), lat('cached (idle gateway)', r.latency.cachedIdle),
    lat('transport floor', r.latency.transportFloor), lat('connect', r.latency.connect),
  ]);
  const g = r.gateway;
  const facts = formatTable([
    ['run', 'value'],
    ['bears connected', `${r.connections.connected}/${r.config.bears} at ${r.connections.connectRatePerS.toFixed(0)}/s`],
    ['utterances sent / answered', `${r.requests.sent} / ${r.requests.answered}`],
    ['errors / timeouts / unfinished', `${r.requests.errors} / ${r.requests.timeouts} / ${r.requests.unfinished}`],
    ['resent after reconnect / answered after retry / duplicates', `${r.requests.resent} / ${r.requests.answeredAfterRetry} / ${r.requests.duplicateAnswers}`],
    ['gateway restarts / crashes', `${g.restarts} / ${g.crashes.length}`],
    ['gateway peak RSS (MB)', g.peakRssMB === undefined ? '-' : g.peakRssMB.toFixed(1)],
    ['gateway CPU mean / max (%)', g.meanCpuPct === undefined ? '-' : `${g.meanCpuPct.toFixed(0)} / ${g.maxCpuPct!.toFixed(0)}`],
    ['MQTT MB out / in', `${mb(r.bytes.mqttOut)} / ${mb(r.bytes.mqttIn)}`],
    ['clip MB origin / edge / without flash', `${mb(r.bytes.origin)} / ${mb(r.bytes.edge)} / ${mb(r.bytes.withoutFlash)}`],
    ['provider calls avoided', `${r.provider.callsAvoided} of ${Object.values(r.provider.callsWithoutCache).reduce((a, b) => a + b, 0)} (${r.provider.callsSource}); $${r.provider.savedUsd.toFixed(2)} saved (modelled prices)`],
    ...Object.entries(r.gatewayCache ?? {}).map(([layer, l]) => [`gateway ${layer} hit rate (all lookups)`, `${pct(l.rate)} (${l.hits}/${l.of})`]),
    ...(r.tlsCost
      ? [[
          `TLS cost (${r.tlsCost.connections} connects, TLS / plaintext)`,
          `connect p50 ${ms(r.tlsCost.tls.connect.p50Ms)} / ${ms(r.tlsCost.plaintext.connect.p50Ms)} ms, ` +
            `CPU ${r.tlsCost.tls.cpuMsPerConnect.toFixed(2)} / ${r.tlsCost.plaintext.cpuMsPerConnect.toFixed(2)} ms per connect, ` +
            `RSS ${r.tlsCost.tls.rssKiBPerConnection.toFixed(0)} / ${r.tlsCost.plaintext.rssKiBPerConnection.toFixed(0)} KiB per connection`,
        ]]
      : []),
    ['flash: firmware / demand-only / Belady / LRU', [r.flashPolicies.rates.firmware, r.flashPolicies.rates.firmwareDemandOnly, r.flashPolicies.rates.belady, r.flashPolicies.rates.lru].map(pct).join(' / ')],
  ]);
  const tables = [layers, latency, facts];
  if (g.processes.length > 1) {
    tables.push(formatTable([
      ['gateway process', 'role', 'CPU mean/max %', 'peak RSS MB', 'most bears', 'requests', 'killed'],
      ...g.processes.map((p) => [`${p.gateway}:${p.pid}`, p.role, `${p.meanCpuPct.toFixed(0)}/${p.maxCpuPct.toFixed(0)}`, p.peakRssMB.toFixed(1), String(p.maxBears), String(p.requests), p.killed ? 'yes' : '']),
    ]));
  }
  const f = r.failovers;
  const kills = [
    ...f.gatewayKills.map((k) => ({ what: `gateway ${k.gateway} ${k.role} ${k.pid}`, w: k })),
    ...f.redisKills.map((k) => ({ what: `Redis master ${k.node}`, w: k })),
  ];
  if (kills.length > 0) {
    tables.push(formatTable([
      ['killed', 'at s', 'bears cut off', 'moved', 'back p50/max s', 'answers/errors/timeouts 10 s after'],
      ...kills.map(({ what, w }) => [what, w.t.toFixed(1), String(w.bearsDisconnected), String(w.movedGateway), `${w.backP50S.toFixed(2)}/${w.backMaxS.toFixed(2)}`, `${w.after.answers}/${w.after.errors}/${w.after.timeouts}`]),
    ]));
  }
  return tables.join('\n\n');
}
