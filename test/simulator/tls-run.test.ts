/**
 * The simulator with --tls: bears on MQTTS and clip downloads over HTTPS,
 * both trusting the child gateway's CA, and the report's TLS cost section.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LAUNCH, launchSimulation } from '../../simulator/launch.js';
import { checkReport } from '../../simulator/report.js';

const outDir = mkdtempSync(join(tmpdir(), 'teddy-sim-tls-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('simulate --tls', () => {
  it('drives bears over MQTTS and HTTPS and reports what TLS costs', async () => {
    const { report } = await launchSimulation({
      ...DEFAULT_LAUNCH, bears: 10, durationMs: 3_000, seed: 11, meanSilenceMs: 500, meanThinkMs: 200,
      storms: [], warmPushes: [], baselines: false, cdnEdge: false, requestTimeoutMs: 5_000, tls: true, outDir,
    });
    expect(report.config.transport).toBe('tls');
    expect(report.connections.connected).toBe(10);
    expect(report.requests.answered).toBeGreaterThan(0);
    expect(checkReport(report)).toEqual([]);
    // Clips came from the origin over HTTPS (no edge model: every download is real).
    expect(report.bytes.origin).toBeGreaterThan(0);
    const cost = report.tlsCost!;
    expect(cost.connections).toBe(20);
    expect(cost.tls.connect.count).toBe(20);
    expect(cost.plaintext.connect.count).toBe(20);
    expect(cost.ratios.connectP50).toBeGreaterThan(0);
  }, 120_000);
});
