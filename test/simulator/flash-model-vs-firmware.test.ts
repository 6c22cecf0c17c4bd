/**
 * The flash model against the firmware itself: the host build of the bear
 * (`teddy-bear`, with the real clip store) and a virtual bear with the same
 * budget connect to the same gateway child, get the same first warm manifest,
 * and are told the same phrases in lockstep. The clip store and the model must
 * agree on what was stored, on hits and misses, and on evictions.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDeviceSecret } from '../../gateway/device-secret.js';
import { PROMPTS } from '../../gateway/providers/phrasebook.js';
import { UtteranceFormat } from '../../sdk/protocol/index.js';
import { createClipFetcher } from '../../simulator/clip-fetcher.js';
import { BLOCK_BYTES } from '../../simulator/flash-model.js';
import { startGatewayProcess, type GatewayProcess } from '../../simulator/gateway-process.js';
import { createRng } from '../../simulator/rng.js';
import { createRunMetrics } from '../../simulator/run-metrics.js';
import { createVirtualBear, type VirtualBear } from '../../simulator/virtual-bear.js';
import { createZipf } from '../../simulator/zipf.js';

const root = resolve(import.meta.dirname, '../..');
const buildDir = join(root, 'firmware/build');
const binary = join(buildDir, 'teddy-bear');
const fleetKey = 'flash-model-vs-firmware';
// Small enough that on-demand clips evict each other (on-demand limit: 1/8 = 8 blocks).
const budget = 256 * 1024;
const work = mkdtempSync(join(tmpdir(), 'teddy-fw-vs-model-'));

type BearEvent = { event: string } & Record<string, unknown>;

/** The firmware's host build: commands on stdin, one JSON event per line on stdout. */
function startFirmwareBear(mqttUrl: string, id: string) {
  const child: ChildProcessWithoutNullStreams = spawn(binary, [
    '--gateway', mqttUrl, '--device', id, '--secret', deriveDeviceSecret(fleetKey, id), '--flash', join(work, `${id}.flash`), '--budget', String(budget),
  ]);
  const events: BearEvent[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => events.push(JSON.parse(line) as BearEvent));
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  let seen = 0;
  return {
    send: (command: string) => child.stdin.write(`${command}\n`),
    /** The next event of this kind after the last one waited for. */
    async next(kind: string, timeoutMs = 20_000): Promise<BearEvent> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex((e, n) => n >= seen && e.event === kind);
        if (i >= 0) {
          seen = i + 1;
          return events[i]!;
        }
        if (Date.now() > until) throw new Error(`no ${kind} event; events ${JSON.stringify(events)}; stderr ${stderr.join('\n')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () => new Promise<void>((done) => {
      child.once('exit', () => done());
      child.stdin.end('quit\n');
    }),
  };
}

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let gateway: GatewayProcess;
let firmware: ReturnType<typeof startFirmwareBear>;
let model: VirtualBear;
const metrics = createRunMetrics(1000);
const plays = () => Object.values(metrics.counters.audio).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  if (!existsSync(join(buildDir, 'CMakeCache.txt'))) execFileSync('cmake', ['-S', join(root, 'firmware'), '-B', buildDir], { stdio: 'inherit' });
  execFileSync('cmake', ['--build', buildDir, '--target', 'teddy-bear', '-j2'], { stdio: 'inherit' });
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
  await firmware.next('ready');
}, 180_000);

afterAll(async () => {
  await firmware?.stop();
  await model?.close();
  await gateway?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('flash model vs the firmware clip store (teddy-bear host build)', () => {
  it('stores the same first warm manifest', async () => {
    const warm = await firmware.next('warm');
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
      await firmware.next('play');
      const before = plays();
      model.say(rank);
      await until(`the model bear to play phrase ${n}`, () => plays() > before);
    }
    firmware.send('stats');
    const stats = await firmware.next('stats');
    const ours = model.flash.stats();
    expect({ hits: ours.hits, misses: ours.misses, evictions: ours.evictions, clips: ours.clips, bytesUsed: ours.usedBlocks * BLOCK_BYTES }).toEqual({
      hits: stats.flashHits, misses: stats.flashMisses, evictions: stats.evictions, clips: stats.clipCount, bytesUsed: stats.bytesUsed,
    });
    // The run exercised the policy: both hits and evictions happened.
    expect(ours.hits).toBeGreaterThan(0);
    expect(ours.evictions).toBeGreaterThan(0);
  }, 240_000);
});
