/**
 * The flash model against the firmware itself: the host build of the bear
 * (`teddy-bear`, with the real clip store) and a virtual bear with the same
 * budget connect to the same gateway child, get the same first warm manifest,
 * and are told the same phrases in lockstep. The clip store and the model must
 * agree on what was stored, on hits and misses, and on evictions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDeviceSecret } from '../../gateway/device-secret.js';
import { PROMPTS } from '../../gateway/providers/phrasebook.js';
import { UtteranceFormat } from '../../protocol/index.js';
import { createClipFetcher } from '../../simulator/clip-fetcher.js';
import { BLOCK_BYTES } from '../../protocol/index.js';
import { startGatewayProcess, type GatewayProcess } from '../../simulator/gateway-process.js';
import { createRng } from '../../simulator/rng.js';
import { createRunMetrics } from '../../simulator/run-metrics.js';
import { createVirtualBear, type VirtualBear } from '../../simulator/virtual-bear.js';
import { createZipf } from '../../simulator/zipf.js';
import { Bear, ensureBinary } from '../helpers/teddy-bear.js';

const fleetKey = 'flash-model-vs-firmware';
// Small enough that on-demand clips evict each other (on-demand limit: 1/8 = 8 blocks).
const budget = 256 * 1024;
const work = mkdtempSync(join(tmpdir(), 'teddy-fw-vs-model-'));

function startFirmwareBear(mqttUrl: string, id: string): Bear {
  return new Bear(['--gateway', mqttUrl, '--device', id, '--secret', deriveDeviceSecret(fleetKey, id), '--flash', join(work, `${id}.flash`), '--budget', String(budget)]);
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let gateway: GatewayProcess;
let firmware: Bear;
let model: VirtualBear;
const metrics = createRunMetrics(1000);
const plays = () => Object.values(metrics.counters.audio).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  ensureBinary();
  // A quick demo provider: the comparison is about flash, not AI latency.
  gateway = await startGatewayProcess({ dataDir: join(work, 'gateway'), fleetKey, providerLatencyMs: 20, logFile: join(work, 'gateway.log') });
  // Both bears connect and take the same first manifest before either says anything.
  firmware = startFirmwareBear(gateway.mqttUrl, 'fw-bear');
  model = createVirtualBear({
    id: 'model-bear', secret: deriveDeviceSecret(fleetKey, 'model-bear'), mqttUrl: () => gateway.mqttUrl, flashBudget: budget, fw: 'sim-model',
    audioFor: (rank) => Buffer.from(PROMPTS[rank]!), audioFormat: UtteranceFormat.text, metrics,
    fetcher: createClipFetcher({ metrics, edge: false, concurrency: 2, timeoutMs: 10_000 }), rng: createRng(1),
    requestTimeoutMs: 10_000, maxAttempts: 3, connectTimeoutMs: 10_000,
  });
  await model.connect();
  await firmware.next((e) => e.event === 'ready', 'ready');
}, 180_000);

afterAll(async () => {
  await firmware?.quit();
  await model?.close();
  await gateway?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('flash model vs the firmware clip store (teddy-bear host build)', () => {
  it('stores the same first warm manifest', async () => {
    const warm = await firmware.next((e) => e.event === 'warm', 'warm');
    await until('the model bear to apply its manifest', () => model.flash.warmSeq > 0);
    expect(model.flash.warmSeq).toBe(warm.seq);
    expect([...model.flash.ids()].sort()).toEqual([...(warm.stored as string[])].sort());
  });

  it('same phrases in the same order: same hits, misses and evictions', async () => {
    const zipf = createZipf(PROMPTS.length, 0.8);
    const rng = createRng(42);
    for (let n = 0; n < 60; n++) {
      const rank = zipf.sample(rng);
      firmware.send(`say ${PROMPTS[rank]}`);
      await firmware.next((e) => e.event === 'play', 'play');
      const before = plays();
      model.say(rank);
      await until(`the model bear to play phrase ${n}`, () => plays() > before);
    }
    firmware.send('stats');
    const stats = await firmware.next((e) => e.event === 'stats', 'stats');
    const ours = model.flash.stats();
    expect({ hits: ours.hits, misses: ours.misses, evictions: ours.evictions, clips: ours.clips, bytesUsed: ours.usedBlocks * BLOCK_BYTES }).toEqual({
      hits: stats.flashHits, misses: stats.flashMisses, evictions: stats.evictions, clips: stats.clipCount, bytesUsed: stats.bytesUsed,
    });
    // The run exercised the policy: both hits and evictions happened.
    expect(ours.hits).toBeGreaterThan(0);
    expect(ours.evictions).toBeGreaterThan(0);
  }, 240_000);
});
