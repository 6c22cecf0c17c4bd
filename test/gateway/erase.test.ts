/**
 * Erasing a bear on a fleet of two gateways on one Redis: bear A (enrolled
 * with a client certificate) and bear B talk to the gateways, then A is
 * erased through the admin API. Afterwards raw dumps of Redis and of both
 * data dirs (their audit logs aside) hold nothing of A — its id, hashed
 * id, audio, words, answers' keys, certificate — while B's data is intact
 * and B keeps being answered; the other gateway's L1 no longer answers A's
 * words; the audit log records the erasure by id only; a second erasure
 * finds nothing; a read token cannot erase; the CLI erases too and says
 * what it removed per layer; an unknown or malformed id is refused.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerSource, UtteranceFormat, type Message } from '../../protocol/index.js';
import { aiResponseKey, ContentType, sha256Hex, transcriptionKey } from '../../sdk/index.js';
import { createKeyLayout } from '../../sdk/key-layout.js';
import { dirDump, redisDump } from '../helpers/raw-dump.js';
import { startTestFleet, textUtterance, type TestBear, type TestFleet } from './harness.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', ...args], { cwd: process.cwd() });
const layout = createKeyLayout('teddy:');
const hashOf = (type: ContentType, key: string): string => layout.entry(type, key).l2Key.split(':').at(-1)!;

const A = 'erase-bear-a';
const B = 'erase-bear-b';
const ZOE = 'my name is Zoe Quill and I live at 12 Oak Street';
const REX = 'my dog is called Rex Tumbleweed';
const audioA = randomBytes(3200);
const audioB = randomBytes(3200);

let fleet: TestFleet;
let adminToken: string;
let readToken: string;
let bearB: TestBear;
let answerClipA = '';
let saved: string | undefined;

const [g1, g2] = [() => fleet.gateways[0]!, () => fleet.gateways[1]!];
const where = (g = g1()) => ['--data-dir', g.dataDir, '--redis-url', fleet.redis!.url];
const admin = (path: string, token: string, method = 'POST') => fetch(`${g1().gateway.httpUrl}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
const mulaw = (id: number, audio: Uint8Array): Message & { id: number } => ({ type: 'utterance', id, audio, format: UtteranceFormat.mulaw8k });

beforeAll(async () => {
  saved = process.env.TEDDY_CACHE_KEYS;
  process.env.TEDDY_CACHE_KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
  fleet = await startTestFleet(2);
  adminToken = (JSON.parse((await cli('token', 'create', '--role', 'admin', '--json', ...where())).stdout) as { token: string }).token;
  readToken = (JSON.parse((await cli('token', 'create', '--role', 'read', '--json', ...where())).stdout) as { token: string }).token;

  // Bear A: enrolled with a certificate (files in the data dir) and a known secret on the fleet.
  await cli('device', 'add', A, '--cert', ...where());
  const a1 = await g1().connectFleetBear(A);
  const story = await a1.request(textUtterance(1, 'tell me a story'));
  expect(story).toMatchObject({ type: 'answer' });
  expect(await a1.request(textUtterance(2, ZOE))).toMatchObject({ type: 'answer' });
  expect(await a1.request(mulaw(3, audioA))).toMatchObject({ type: 'answer' });
  // A line no other bear is answered with: its clip is A's alone.
  const cow = await a1.request(textUtterance(6, 'what sound does a cow make'));
  answerClipA = cow.type === 'answer' ? cow.clip.url : '';
  await a1.request({ type: 'hello', id: 4, fw: '1.0.0', flashBudget: 1 << 20, clips: [], warmSeq: 0 });
  await a1.close();
  // A again on the other gateway: its L1 now holds A's answers too.
  const a2 = await g2().connectFleetBear(A);
  expect(await a2.request(textUtterance(5, ZOE))).toMatchObject({ type: 'answer', source: AnswerSource.l2 });
  await a2.close();

  bearB = await g2().connectFleetBear(B);
  expect(await bearB.request(textUtterance(1, 'tell me a story'))).toMatchObject({ type: 'answer' });
  expect(await bearB.request(textUtterance(2, REX))).toMatchObject({ type: 'answer' });
  expect(await bearB.request(mulaw(3, audioB))).toMatchObject({ type: 'answer' });
  await bearB.request({ type: 'hello', id: 4, fw: '1.0.0', flashBudget: 1 << 20, clips: [], warmSeq: 0 });
  // Let both gateways write their batches (history, plays) to Redis.
  await new Promise((r) => setTimeout(r, 2500));
}, 120_000);

afterAll(async () => {
  await bearB?.close();
  await fleet?.stop();
  if (saved === undefined) delete process.env.TEDDY_CACHE_KEYS;
  else process.env.TEDDY_CACHE_KEYS = saved;
});

describe('erase', () => {
  it('is refused to a read token, and the refusal is audited', async () => {
    const res = await admin(`/admin/devices/${A}/erase`, readToken);
    expect(res.status).toBe(403);
    expect(readFileSync(join(g1().dataDir, 'audit.log'), 'utf8')).toMatch(new RegExp(`"what":"device.erase","target":"${A}","outcome":"denied"`));
  });

  it('removes everything of bear A from Redis and both data dirs, keeps bear B, and says what it removed per layer', async () => {
    const before = await redisDump(fleet.redis!.url);
    expect(before.includes(A)).toBe(true);
    expect(before.includes(hashOf(ContentType.AI_RESPONSE, aiResponseKey(ZOE)))).toBe(true);

    const res = await admin(`/admin/devices/${A}/erase`, adminToken);
    expect(res.status).toBe(200);
    const report = (await res.json()) as { found: boolean; device: boolean; bearState: number; files: number; cache: { l2: number; l3Blobs: number; shared: number } };
    expect(report).toMatchObject({ found: true, device: true });
    expect(report.cache.l2).toBeGreaterThanOrEqual(3);
    expect(report.cache.shared).toBeGreaterThanOrEqual(1);
    expect(report.bearState).toBeGreaterThanOrEqual(1);
    expect(report.files).toBeGreaterThanOrEqual(2);

    const traces = [
      A, sha256Hex(A), sha256Hex(`subject\0${A}`), ZOE, 'Zoe Quill', audioA, Buffer.from(sha256Hex(audioA)),
      hashOf(ContentType.AI_RESPONSE, aiResponseKey(ZOE)),
      hashOf(ContentType.AUDIO_TRANSCRIPTION, transcriptionKey(sha256Hex(audioA))),
    ];
    const dumps = {
      redis: await redisDump(fleet.redis!.url),
      dataDir1: await dirDump(g1().dataDir, ['audit.log']),
      dataDir2: await dirDump(g2().dataDir, ['audit.log']),
    };
    for (const [name, dump] of Object.entries(dumps)) {
      for (const trace of traces) expect(dump.includes(trace), `${name} holds ${String(trace).slice(0, 40)}`).toBe(false);
    }
    // The clip of the line only A was answered with is gone from the origin.
    expect((await fetch(answerClipA.replace(/^https?:\/\/[^/]+/, g1().gateway.httpUrl))).status).toBe(404);

    // Bear B's data is intact, and B is still answered.
    expect(dumps.redis.includes(B)).toBe(true);
    expect(dumps.redis.includes(hashOf(ContentType.AI_RESPONSE, aiResponseKey(REX)))).toBe(true);
    expect(dumps.redis.includes(hashOf(ContentType.AUDIO_TRANSCRIPTION, transcriptionKey(sha256Hex(audioB))))).toBe(true);
    expect(dumps.redis.includes(hashOf(ContentType.AI_RESPONSE, aiResponseKey('tell me a story')))).toBe(true);
    expect(await bearB.request(textUtterance(9, REX))).toMatchObject({ type: 'answer', source: AnswerSource.l1 });

    // The other gateway's L1 no longer answers A's words: a new bear asking them gets a computed answer.
    const c = await g2().connectFleetBear('erase-bear-c');
    expect(await c.request(textUtterance(1, ZOE))).toMatchObject({ type: 'answer', source: AnswerSource.provider });
    await c.close();

    // The audit log says the erasure of that id happened, and nothing else of the bear.
    const audit = readFileSync(join(g1().dataDir, 'audit.log'), 'utf8');
    expect(audit).toMatch(new RegExp(`"what":"device.erase","target":"${A}","outcome":"ok"`));
    for (const trace of [ZOE, 'Zoe', sha256Hex(A)]) expect(audit.includes(trace)).toBe(false);
  }, 60_000);

  it('finds nothing the second time, and refuses an unknown or malformed id', async () => {
    const again = await admin(`/admin/devices/${A}/erase`, adminToken);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ found: false, alreadyErased: true, device: false, cache: { l2: 0 } });
    expect((await admin('/admin/devices/never-seen-bear/erase', adminToken)).status).toBe(404);
    expect((await admin('/admin/devices/bad%20id/erase', adminToken)).status).toBe(400);
  });

  it('the CLI erases too, printing each layer; a second run finds nothing', async () => {
    const d = await g1().connectFleetBear('erase-bear-d');
    expect(await d.request(textUtterance(1, 'a secret only bear d knows'))).toMatchObject({ type: 'answer' });
    await d.close();
    await new Promise((r) => setTimeout(r, 1500));
    const { stdout } = await cli('erase', 'erase-bear-d', ...where());
    expect(stdout).toMatch(/^erased erase-bear-d\n {2}L1 .*\n {2}L2 +\d+ values.*\n {2}L3 .*\n {2}clips .*\n {2}bear .*\n {2}device .*\n {2}files .*/);
    expect(stdout).toMatch(/L2 +[1-9]\d* values/);
    const second = await cli('erase', 'erase-bear-d', ...where());
    expect(second.stdout).toMatch(/nothing of it was found[\s\S]*erased before/);
    await expect(cli('erase', 'never-seen-bear', ...where())).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/no such device/) });
    await expect(cli('erase', '../x', ...where())).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/device id/) });
    expect(readFileSync(join(g1().dataDir, 'audit.log'), 'utf8')).toMatch(/"who":"cli","what":"device.erase","target":"erase-bear-d","outcome":"ok"/);
  }, 60_000);
});
