/**
 * npm run bench:handler [-- --requests N] — what the gateway's own code costs
 * per cached utterance, apart from Aedes and the kernel: the request handler,
 * conversation and answer encoder wired as startGateway wires them, on an
 * L1-only cache, fed the benchmark's eight phrasebook utterances in a loop,
 * its responses counted instead of sent. Prints ns per request (and writes
 * nothing: bench:gateway holds the end-to-end figures). Under
 * `valgrind --tool=callgrind node …` its instruction count per request is a
 * measure no other load on the machine can disturb.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createBearSessions } from '../gateway/bear-sessions.js';
import { createClipCatalog } from '../gateway/clip-catalog.js';
import { createClipUrls } from '../gateway/clip-urls.js';
import { createConversation } from '../gateway/conversation.js';
import { createGatewayMetrics } from '../gateway/metrics.js';
import { createDemoProvider } from '../gateway/providers/demo-provider.js';
import { PROMPTS, promptAudio } from '../gateway/providers/phrasebook.js';
import { createRateLimiter } from '../gateway/rate-limit.js';
import { createRequestHandler } from '../gateway/request-handler.js';
import { createVoiceClips } from '../gateway/voice-clips.js';
import { createWarmPush } from '../gateway/warm-push.js';
import { encodeMessage, UtteranceFormat } from '../protocol/index.js';
import { createCache, createCacheIntegrationService } from '../sdk/index.js';

const { values: args } = parseArgs({ options: { requests: { type: 'string', default: '200000' } } });
const REQUESTS = Number(args.requests);
if (!Number.isInteger(REQUESTS) || REQUESTS <= 0) {
  process.stderr.write('usage: npm run bench:handler [-- --requests N]\n');
  process.exit(2);
}

const log = pino({ level: 'silent' });
const dataDir = mkdtempSync(join(tmpdir(), 'teddy-bench-handler-'));
const cache = await createCache({ l2Enabled: false, dataDir, logger: log });
const metrics = createGatewayMetrics({ connectedBears: () => 1, cache: () => cache.getPerformanceMetrics() });
const provider = createDemoProvider({ latencyMs: 0, log, useEspeak: false });
const catalog = createClipCatalog();
const sessions = createBearSessions();
const clipUrls = createClipUrls({ origin: () => 'https://cdn.example.com', overTls: () => true, urlKey: 'bench-url-key', ttlSeconds: 24 * 3600 });
const service = createCacheIntegrationService(cache);
const voiceClips = createVoiceClips({ service, provider, catalog });
const conversation = createConversation({ service, provider, voiceClips });
let responses = 0;
const send = (): boolean => {
  responses++;
  return true;
};
const handler = createRequestHandler({
  conversation, voiceClips, catalog, sessions, clipUrls, metrics, log, send, voices: ['teddy'], maxRequestBytes: 64 * 1024,
  warmPush: createWarmPush({ catalog, clipUrls, metrics, log, send }),
  rateLimiter: createRateLimiter({ burst: Number.MAX_SAFE_INTEGER, perSecond: Number.MAX_SAFE_INTEGER }),
});
const payloads = PROMPTS.slice(0, 8).map((p, i) => encodeMessage({ type: 'utterance', id: i + 1, audio: promptAudio(p), format: UtteranceFormat.mulaw8k }));

try {
  // First pass computes and caches every answer; the rest are what a repeated question costs.
  for (const p of payloads) await handler.handle('bench-bear', 'req', p);
  const started = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) {
    const waiting = handler.handle('bench-bear', 'req', payloads[i & 7]!);
    if (waiting) await waiting;
  }
  const ns = Number(process.hrtime.bigint() - started) / REQUESTS;
  if (responses !== REQUESTS + payloads.length) throw new Error(`${responses} responses for ${REQUESTS + payloads.length} requests`);
  process.stdout.write(`gateway request handler, cached utterance: ${ns.toFixed(0)} ns per request (${REQUESTS} requests)\n`);
} finally {
  await cache.close();
  rmSync(dataDir, { recursive: true, force: true });
}
