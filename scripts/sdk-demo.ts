/**
 * `npm run demo`: the SDK on its embedded defaults. A slow "AI" answers a
 * child's question once; the repeats come from L1, and a second cache
 * instance (another gateway) gets it from L2. Prints the metrics and advice.
 */
import { createCache, createCacheIntegrationService } from '../sdk/index.js';

const slowAi = async (question: string): Promise<string> => {
  await new Promise((r) => setTimeout(r, 400)); // a cloud round trip
  return `You asked "${question}". Bears sleep all winter long!`;
};

const time = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
  const t0 = performance.now();
  const value = await fn();
  process.stdout.write(`${label.padEnd(34)} ${(performance.now() - t0).toFixed(2).padStart(8)} ms\n`);
  return value;
};

const cache = await createCache();
// A second instance on the same Redis, as a second gateway would be.
const other = await createCache({ l2RedisUrl: (await cache.health()).l2.url });
try {
  const service = createCacheIntegrationService(cache);
  const question = 'why do bears sleep in winter?';
  await time('first ask (AI computes)', () => service.cacheAiResponse(question, () => slowAi(question)));
  await time('second ask (L1)', () => service.cacheAiResponse(question, () => slowAi(question)));
  const viaOther = await time('another instance (L2)', () => createCacheIntegrationService(other).cacheAiResponse(question, () => slowAi(question)));
  process.stdout.write(`answer: ${viaOther}\n\n`);
  const m = cache.getPerformanceMetrics();
  process.stdout.write(
    `hit rate ${(m.hitRate * 100).toFixed(0)}% · L1 ${m.layers.l1.hits} hits · computes ${m.computes} · L2 ${(await cache.health()).l2.embedded ? 'embedded redis-server' : 'configured Redis'}\n`,
  );
  for (const a of cache.advise()) process.stdout.write(`advice: ${a.message}\n`);
} finally {
  await other.close();
  await cache.close();
}
