import { describe, expect, it } from 'vitest';
import { createBearSessions } from '../../gateway/bear-sessions.js';
import { createClipCatalog, type NewClip } from '../../gateway/clip-catalog.js';
import { pino } from 'pino';
import { createClipUrls } from '../../gateway/clip-urls.js';
import { createGatewayMetrics } from '../../gateway/metrics.js';
import { createWarmPush } from '../../gateway/warm-push.js';
import { planWarm, sequencePlan } from '../../gateway/warm-planner.js';
import { decodeMessage, type Warm } from '../../protocol/index.js';
import { CacheMetrics } from '../../sdk/metrics.js';

const noCacheMetrics = () => new CacheMetrics().snapshot({ l1Bytes: 0, l1Entries: 0, breakerState: 'closed' });

const clip = (n: number, size: number, starter = false): NewClip => ({
  clipId: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, n]),
  sha256: n.toString(16).padStart(64, '0'),
  size,
  codec: 1,
  text: `line ${n}`,
  voice: 'teddy',
  starter,
});

// The firmware rule: ceil((size + 64) / 4096) blocks per clip; budget rounded down to whole blocks.
const blocks = (size: number): number => Math.ceil((size + 64) / 4096);

describe('warm planner', () => {
  it('puts starters first (pinned), then fleet popularity, within the block budget', () => {
    const catalog = createClipCatalog();
    catalog.record(clip(1, 4032, true)); // exactly 1 block
    const popular = catalog.record(clip(2, 4033)); // 2 blocks
    const lessPopular = catalog.record(clip(3, 100)); // 1 block
    catalog.record(clip(4, 100)); // never played: not planned
    for (let i = 0; i < 5; i++) catalog.countPlay(popular);
    catalog.countPlay(lessPopular);

    const plan = planWarm(catalog.all(), new Map(), 4 * 4096 + 4095);
    expect(plan.map((p) => [p.clip.clipIdHex.slice(-2), p.priority, p.pinned])).toEqual([
      ['01', 0, true],
      ['02', 1, false],
      ['03', 2, false],
    ]);
    expect(plan.reduce((n, p) => n + blocks(p.clip.size), 0)).toBe(4);
  });

  it('skips a clip that does not fit and takes smaller ones after it', () => {
    const catalog = createClipCatalog();
    const big = catalog.record(clip(1, 3 * 4096));
    const small = catalog.record(clip(2, 10));
    catalog.countPlay(big);
    catalog.countPlay(big);
    catalog.countPlay(small);
    const plan = planWarm(catalog.all(), new Map(), 3 * 4096);
    expect(plan.map((p) => p.clip.clipIdHex.slice(-2))).toEqual(['02']);
    expect(planWarm(catalog.all(), new Map(), 4095)).toEqual([]);
  });

  it("ranks the bear's own history above fleet popularity", () => {
    const catalog = createClipCatalog();
    const fleetFavourite = catalog.record(clip(1, 100));
    const mine = catalog.record(clip(2, 100));
    for (let i = 0; i < 10; i++) catalog.countPlay(fleetFavourite);
    catalog.countPlay(mine);
    const plan = planWarm(catalog.all(), new Map([[mine.clipIdHex, 3]]), 1 * 4096);
    expect(plan.map((p) => p.clip.clipIdHex.slice(-2))).toEqual(['02']);
  });

  it('numbers manifests: same plan same seq, changed plan next seq, above what the bear applied', async () => {
    const catalog = createClipCatalog();
    catalog.record(clip(1, 100, true));
    const sessions = createBearSessions();
    const bear = await sessions.hello('bear-1', '1.0.0', 65536, [], 7);
    const first = sequencePlan(bear, planWarm(catalog.all(), bear.history, bear.flashBudget));
    expect(first).toEqual({ seq: 8, due: true });
    bear.appliedSeq = 8;
    expect(sequencePlan(bear, planWarm(catalog.all(), bear.history, bear.flashBudget))).toEqual({ seq: 8, due: false });
    catalog.countPlay(catalog.record(clip(2, 100)));
    expect(sequencePlan(bear, planWarm(catalog.all(), bear.history, bear.flashBudget))).toEqual({ seq: 9, due: true });

    const last = await sessions.hello('bear-2', '1.0.0', 65536, [], 0xffff_ffff);
    expect(sequencePlan(last, planWarm(catalog.all(), last.history, last.flashBudget))).toEqual({ seq: 0xffff_ffff, due: false });
  });
});

describe('clip catalog', () => {
  it('stays bounded, forgetting the least played non-starter clips first', () => {
    const catalog = createClipCatalog(20);
    catalog.record(clip(0, 100, true));
    for (let n = 1; n < 20; n++) {
      const c = catalog.record(clip(n, 100));
      for (let i = 0; i < n; i++) catalog.countPlay(c);
    }
    expect(catalog.size).toBe(20);
    catalog.record(clip(200, 100));
    // Two (a tenth of 20) least-played clips went: 1 and 2; the starter stays.
    expect(catalog.size).toBe(19);
    expect(catalog.get('0000000000000001')).toBeUndefined();
    expect(catalog.get('0000000000000002')).toBeUndefined();
    expect(catalog.get('0000000000000003')).toBeDefined();
    expect(catalog.get('0000000000000000')?.starter).toBe(true);
    expect(catalog.bySha256(clip(1, 100).sha256)).toBeUndefined();
  });
});

describe('warm push', () => {
  it('encodes one manifest per distinct plan and URL variant, and writes those same bytes to each bear', async () => {
    const catalog = createClipCatalog();
    for (const n of [1, 2, 3]) catalog.countPlay(catalog.record(clip(n, 1000, n === 1)));
    const sessions = createBearSessions();
    const sent = new Map<string, Buffer>();
    const clipUrls = createClipUrls({ origin: (tls) => (tls ? 'https://cdn' : 'http://cdn'), overTls: (id) => id.startsWith('tls-'), urlKey: 'k', ttlSeconds: 3600 });
    const warmPush = createWarmPush({
      catalog, clipUrls, metrics: createGatewayMetrics({ connectedBears: () => 0, cache: noCacheMetrics }), log: pino({ level: 'silent' }),
      send: (deviceId, _channel, payload) => (sent.set(deviceId, payload), true),
    });
    for (const id of ['a', 'b', 'tls-c', 'tls-d']) {
      const session = await sessions.hello(id, '1.0', 1 << 20, [], 0);
      await warmPush.send(session, warmPush.plan(session));
    }
    expect(sent.get('a')).toBe(sent.get('b')); // the same buffer, not a copy
    expect(sent.get('tls-c')).toBe(sent.get('tls-d'));
    expect(sent.get('a')).not.toBe(sent.get('tls-c'));
    const plain = decodeMessage(sent.get('a')!) as Warm;
    const tls = decodeMessage(sent.get('tls-c')!) as Warm;
    expect(plain.clips.map((c) => c.url.slice(0, 11))).toEqual(['http://cdn/', 'http://cdn/', 'http://cdn/']);
    expect(tls.clips.map((c) => c.url.slice(0, 12))).toEqual(['https://cdn/', 'https://cdn/', 'https://cdn/']);
    // A bear whose own plays reorder its plan gets its own manifest.
    const e = await sessions.hello('e', '1.0', 1 << 20, [], 0);
    for (let i = 0; i < 5; i++) sessions.recordPlay('e', catalog.get('0000000000000003')!.clipIdHex);
    await warmPush.send(e, warmPush.plan(e));
    expect(sent.get('e')).not.toBe(sent.get('a'));
    expect(Buffer.from((decodeMessage(sent.get('e')!) as Warm).clips[1]!.clipId).toString('hex')).toBe('0000000000000003');
  });
});
