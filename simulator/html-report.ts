/**
 * The report as one self-contained HTML file: Chart.js is inlined from
 * node_modules, the data is embedded as JSON, nothing is fetched, so it opens
 * offline and can be attached to an issue as is.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Report } from './report.js';

const chartJsPath = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js');

/** Ids of the chart canvases, in page order (the render test checks each one drew). */
export const CHART_IDS = ['latency', 'layers', 'traffic', 'provider', 'gateway'] as const;

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;
const ms = (x: number | undefined): string => (x === undefined ? '–' : `${x.toFixed(1)} ms`);
const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** Every process that served bears: its load. */
function processesSection(report: Report): string {
  const ps = report.gateway.processes;
  if (ps.length === 0) return '';
  const head = '<tr><th>gateway</th><th>pid</th><th>role</th><th>CPU mean / max (% of a core)</th><th>peak RSS</th><th>most bears</th><th>requests handled</th><th>killed</th></tr>';
  const row = (p: Report['gateway']['processes'][number]): string =>
    `<tr><td>${p.gateway}</td><td>${p.pid}</td><td>${p.role}</td><td>${p.meanCpuPct.toFixed(0)} / ${p.maxCpuPct.toFixed(0)}</td><td>${p.peakRssMB.toFixed(1)} MB</td><td>${p.maxBears}</td><td>${p.requests}</td><td>${p.killed ? 'yes' : ''}</td></tr>`;
  return `<h2>Gateway processes (${report.config.gateways} gateway${report.config.gateways === 1 ? '' : 's'} × ${report.config.workers} worker${report.config.workers === 1 ? '' : 's'}, fleet state: ${report.config.store})</h2><table>${head}${ps.map(row).join('')}</table>`;
}

/** Kills during the run and what the bears saw around each. */
function failoversSection(report: Report): string {
  const f = report.failovers;
  const q = report.requests;
  const windowCells = (w: Report['failovers']['gatewayKills'][number] | Report['failovers']['redisKills'][number]): string =>
    `<td>${w.t.toFixed(1)} s</td><td>${w.bearsDisconnected}</td><td>${w.movedGateway}</td><td>${w.backP50S.toFixed(2)} / ${w.backMaxS.toFixed(2)} s</td>` +
    `<td>${w.before.answers} / ${w.before.errors} / ${w.before.timeouts} · ${w.before.meanLatencyMs.toFixed(0)} ms</td>` +
    `<td>${w.after.answers} / ${w.after.errors} / ${w.after.timeouts} · ${w.after.meanLatencyMs.toFixed(0)} ms</td>`;
  const head = (what: string): string =>
    `<tr><th>${what}</th><th>at</th><th>bears cut off</th><th>came back elsewhere</th><th>back after p50 / max</th><th>10 s before: answers / errors / timeouts · mean latency</th><th>10 s after</th></tr>`;
  const kills = f.gatewayKills.map((k) => `<tr><td>gateway ${k.gateway} ${k.role} ${k.pid}</td>${windowCells(k)}</tr>`).join('');
  const masters = f.redisKills.map((k) => `<tr><td>Redis master ${escapeHtml(k.node)}</td>${windowCells(k)}</tr>`).join('');
  return `<h2>Failovers</h2>
${kills || masters ? `<table>${head('killed')}${kills}${masters}</table>` : '<p>No process was killed in this run.</p>'}
<table>${rows([
    ['outages bears recovered from (drops included)', `${f.outages.count}, ${f.outages.movedGateway} onto another gateway; back after p50 ${f.outages.p50S.toFixed(2)} s, p95 ${f.outages.p95S.toFixed(2)} s, max ${f.outages.maxS.toFixed(2)} s`],
    ['bears offline at the end', String(f.bearsOfflineAtEnd)],
    ['requests resent after a reconnect (same id)', String(q.resent)],
    ['answered after a retry or resend', String(q.answeredAfterRetry)],
    ['duplicate answers (bear kept the first)', String(q.duplicateAnswers)],
  ])}</table>`;
}

const rows = (cells: [string, string][]): string => cells.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');

export function renderHtmlReport(report: Report): string {
  const { layers: l, latency: lat, gateway: g, provider: p, flashPolicies: f, requests: q } = report;
  const latencyRow = (name: string, s: Report['latency']['answer'] | undefined): string =>
    s ? `<tr><th>${name}</th><td>${s.count}</td><td>${ms(s.p50Ms)}</td><td>${ms(s.p90Ms)}</td><td>${ms(s.p99Ms)}</td><td>${ms(s.p999Ms)}</td><td>${ms(s.maxMs)}</td></tr>` : '';
  // JSON inside <script>: "</" must not close the element.
  const data = JSON.stringify(report).replace(/<\//g, '<\\/');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>teddycache simulation: ${report.config.bears} bears</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 10px;text-align:right}th{text-align:left;background:#f6f6f6}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:24px}.chart{height:320px}
.notice{color:#a40}
</style></head><body>
<h1>teddycache simulation — ${report.config.bears} bears, ${report.config.durationS} s, skew ${report.config.skew}, seed ${report.config.seed}</h1>
<p>Generated ${escapeHtml(report.generatedAt)}. Gateway: ${report.config.gateway}. Flash budget ${report.config.flashBudgetBytes} bytes per bear.</p>
${report.notices.map((n) => `<p class="notice">${escapeHtml(n)}</p>`).join('')}
<div class="grid"><div>
<h2>Hit rate per layer</h2><table>${rows([
    ['bear flash (of plays)', `${pct(l.flash.rate)} (${l.flash.hits}/${l.flash.of})`],
    ['L1 (of answers)', `${pct(l.l1.rate)} (${l.l1.hits}/${l.l1.of})`],
    ['L2 (of answers)', `${pct(l.l2.rate)} (${l.l2.hits}/${l.l2.of})`],
    ['L3 (of downloads)', `${pct(l.l3.rate)} (${l.l3.hits}/${l.l3.of})`],
    ['miss: provider (of answers)', `${pct(l.miss.rate)} (${l.miss.hits}/${l.miss.of})`],
  ])}</table>
${report.gatewayCache ? `<h2>Gateway cache layers (all lookups, as the SDK counted them)</h2><table>${rows(Object.entries(report.gatewayCache).map(([layer, x]) => [layer, `${pct(x.rate)} (${x.hits}/${x.of})`]))}</table>` : ''}
<h2>Requests</h2><table>${rows([
    ['utterances', String(q.utterances)], ['sent', String(q.sent)], ['answered', String(q.answered)],
    ['errors', String(q.errors)], ['timeouts', String(q.timeouts)], ['offline (not sent)', String(q.offline)], ['retries', String(q.retries)],
  ])}</table>
</div><div>
<h2>Gateway</h2><table>${rows([
    ['peak RSS', g.peakRssMB === undefined ? '–' : `${g.peakRssMB.toFixed(1)} MB`],
    ['CPU mean / max (% of a core)', g.meanCpuPct === undefined ? '–' : `${g.meanCpuPct.toFixed(0)} / ${g.maxCpuPct!.toFixed(0)}`],
    ['restarts / crashes', `${g.restarts} / ${g.crashes.length}`],
    ['connected bears', `${report.connections.connected} at ${report.connections.connectRatePerS.toFixed(0)}/s`],
    ['MQTT bytes out / in', `${mb(report.bytes.mqttOut)} / ${mb(report.bytes.mqttIn)}`],
    ['clip bytes origin / edge', `${mb(report.bytes.origin)} / ${mb(report.bytes.edge)}`],
    ['clip bytes without flash', mb(report.bytes.withoutFlash)],
  ])}</table>
<h2>Provider calls (${p.callsSource === 'gateway' ? 'counted by the gateway' : 'modelled'})</h2><table>${rows([
    ['made / without cache', `${Object.values(p.calls).reduce((a, b) => a + b, 0)} / ${Object.values(p.callsWithoutCache).reduce((a, b) => a + b, 0)}`],
    ['avoided', String(p.callsAvoided)],
    ['modelled cost / without cache', `$${p.costUsd.toFixed(4)} / $${p.costWithoutCacheUsd.toFixed(4)}`],
    ['saved', `$${p.savedUsd.toFixed(4)}`],
  ])}</table>
<h2>Flash policy vs. yardsticks (same plays, same budget)</h2><table>${rows([
    ['firmware policy (with warm pushes)', pct(f.rates.firmware)], ['firmware policy, on demand only', pct(f.rates.firmwareDemandOnly)],
    ["Belady's optimal", pct(f.rates.belady)], ['LRU', pct(f.rates.lru)],
  ])}</table>
</div></div>
<h2>Latency</h2><table><tr><th></th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>
${latencyRow('answer (utterance → answer)', lat.answer)}${latencyRow('play (utterance → audio ready)', lat.play)}
${latencyRow('no cache (idle gateway, new text each time)', lat.noCache)}${latencyRow('cached (idle gateway, same text each time)', lat.cachedIdle)}${latencyRow('transport floor (bare broker echo)', lat.transportFloor)}
${latencyRow('connect (→ welcome)', lat.connect)}</table>
${processesSection(report)}
${failoversSection(report)}
<div class="grid">
${CHART_IDS.map((id) => `<div class="chart"><canvas id="${id}"></canvas></div>`).join('\n')}
</div>
<script>${readFileSync(chartJsPath, 'utf8')}</script>
<script type="application/json" id="report-data">${data}</script>
<script>${CLIENT_SCRIPT}</script>
</body></html>
`;
}

/** Runs in the browser: draws the charts from the embedded report. */
const CLIENT_SCRIPT = String.raw`
(function () {
  var r = JSON.parse(document.getElementById('report-data').textContent);
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  var b = r.timeline.buckets;
  var t = b.map(function (x) { return x.t; });
  var title = function (text) { return { title: { display: true, text: text } }; };
  var curve = function (label, points, color) {
    return { label: label, data: points.map(function (p) { return { x: p[0], y: p[1] }; }), borderColor: color, backgroundColor: color, showLine: true };
  };
  new Chart(document.getElementById('latency'), {
    type: 'scatter',
    data: { datasets: [
      curve('answer', r.latency.curves.answer, '#1f77b4'),
      curve('play', r.latency.curves.play, '#2ca02c'),
      curve('no cache', r.latency.curves.noCache, '#d62728'),
      curve('transport floor', r.latency.curves.transportFloor, '#7f7f7f')
    ] },
    options: { plugins: title('Latency distribution (ms by percentile)'), scales: { x: { title: { display: true, text: 'percentile' } }, y: { type: 'logarithmic', title: { display: true, text: 'ms' } } } }
  });
  var share = function (f) { return b.map(function (x) { return x.answers ? 100 * f(x) / x.answers : null; }); };
  new Chart(document.getElementById('layers'), {
    type: 'line',
    data: { labels: t, datasets: [
      { label: 'bear flash (of plays)', data: b.map(function (x) { return x.plays ? 100 * x.flash / x.plays : null; }), borderColor: '#9467bd' },
      { label: 'L1', data: share(function (x) { return x.l1; }), borderColor: '#1f77b4' },
      { label: 'L2', data: share(function (x) { return x.l2; }), borderColor: '#ff7f0e' },
      { label: 'miss', data: share(function (x) { return x.miss; }), borderColor: '#d62728' }
    ] },
    options: { plugins: title('Hit rate per layer over time (%)'), scales: { y: { min: 0, max: 100 }, x: { title: { display: true, text: 's' } } } }
  });
  new Chart(document.getElementById('traffic'), {
    data: { labels: t, datasets: [
      { type: 'bar', label: 'requests', data: b.map(function (x) { return x.requests; }), backgroundColor: '#aec7e8', yAxisID: 'y' },
      { type: 'line', label: 'MQTT bytes', data: b.map(function (x) { return x.mqttBytes; }), borderColor: '#1f77b4', yAxisID: 'bytes' },
      { type: 'line', label: 'clip bytes', data: b.map(function (x) { return x.clipBytes; }), borderColor: '#2ca02c', yAxisID: 'bytes' }
    ] },
    options: { plugins: title('Requests and bytes on the wire per bucket'), scales: { y: { position: 'left' }, bytes: { position: 'right', grid: { drawOnChartArea: false } } } }
  });
  var avoided = 0, made = 0;
  new Chart(document.getElementById('provider'), {
    type: 'line',
    data: { labels: t, datasets: [
      { label: 'provider calls avoided (cumulative)', data: b.map(function (x) { return (avoided += x.providerCallsAvoided); }), borderColor: '#2ca02c', fill: true, backgroundColor: 'rgba(44,160,44,0.15)' },
      { label: 'provider calls made (cumulative)', data: b.map(function (x) { return (made += 3 * x.miss); }), borderColor: '#d62728' }
    ] },
    options: { plugins: title('Provider calls avoided over time (3 calls per answer, by its source; the table holds the gateway\'s own count)') }
  });
  var s = r.gateway.samples;
  new Chart(document.getElementById('gateway'), {
    type: 'line',
    data: { labels: s.map(function (x) { return x.t.toFixed(0); }), datasets: [
      { label: 'gateway CPU (% of a core)', data: s.map(function (x) { return x.cpuPct; }), borderColor: '#ff7f0e', yAxisID: 'y' },
      { label: 'gateway RSS (MB)', data: s.map(function (x) { return x.rssMB; }), borderColor: '#8c564b', yAxisID: 'mb' }
    ] },
    options: { plugins: title('Gateway CPU and RSS'), scales: { y: { position: 'left', min: 0 }, mb: { position: 'right', min: 0, grid: { drawOnChartArea: false } } } }
  });
  window.__chartsReady = true;
})();
`;
