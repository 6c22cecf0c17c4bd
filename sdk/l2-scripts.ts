/**
 * The Lua scripts that keep a miss at two Redis round trips: one to read the
 * value or take the compute lock, one to write the value, announce it and
 * drop the lock. Each touches only keys of one hash-tag bucket (and SPUBLISHes
 * on that bucket's channel), so each runs on one Redis Cluster slot
 * (./key-layout.ts). Redis 7.0 runs an SPUBLISH inside a script when the
 * channel hashes to the script's slot and refuses it otherwise ("non local
 * key"), which the cluster tests exercise. ioredis sends them as EVALSHA and
 * falls back to EVAL once per connection (per node) when Redis does not know
 * a script yet.
 *
 * The two scripts of a miss also come in a form for many entries: the
 * misses of one tick (many bears asking at once) share one call of each
 * (./tick-batch.ts). Each entry's Redis errors are its own (redis.pcall):
 * one entry's refused command is returned in its place and the others go on.
 *
 * The lock is a lease (SET NX PX) with a random token, so of all instances
 * missing a key at once one computes, a crashed holder blocks the others at
 * most one lease, and a holder whose lease ran out cannot free a successor's
 * lock (release compares the token).
 */
import { randomBytes } from 'node:crypto';
import type { CallDeadlines } from './call-deadlines.js';
import type { EntryKeys } from './key-layout.js';
import type { RedisClient } from './l2.js';
import { scriptBatcher, type ScriptArg, type ScriptBatcher } from './tick-batch.js';
import { RECORD_VERSION } from './value-codec.js';

/** True for what redis.pcall returns when Redis answered with an error. */
const FAILED_LUA = `local function failed(r) return type(r) == 'table' and r.err ~= nil end`;

/**
 * A multi-entry script's two forms around one `entry` function: for one entry (its keys and
 * arguments as they are; an entry's error is the call's), and for many (each entry's keys, then
 * each entry's arguments, `argc` each; one reply per entry, an error in its entry's place). A lone
 * entry takes the first: measured, the loop and the nested reply cost Redis ~2–3 µs a call.
 */
function scriptForms(entry: string, argc: number): { readonly one: string; readonly many: string } {
  const args = (arg: (n: number) => string) => Array.from({ length: argc }, (_, i) => arg(i + 1)).join(', ');
  const head = `${FAILED_LUA}\n${entry}`;
  return {
    one: `${head}\nreturn entry(KEYS[1], KEYS[2], ${args((n) => `ARGV[${n}]`)})`,
    many: `${head}
local out = {}
for i = 1, #KEYS / 2 do
  local a = (i - 1) * ${argc}
  out[i] = entry(KEYS[2 * i - 1], KEYS[2 * i], ${args((n) => `ARGV[a + ${n}]`)})
end
return out`,
  };
}

// Per entry, KEYS: value, lock. ARGV: now (ms), token, lease (ms).
// {record or nil, state}: state 2 = fresh record, 1 = lock taken (record, if any, is stale), 0 = lock held by another.
// (Exported, with WRITE, for `npm run bench:sdk`, which also runs a miss's two scripts through another client.)
export const READ_OR_LOCK = scriptForms(
  `local function entry(value, lock, now, token, lease)
  local rec = redis.pcall('GET', value)
  if failed(rec) then return rec end
  if rec and string.len(rec) >= 7 and math.floor(string.byte(rec, 1) / 16) == ${RECORD_VERSION} then
    local expires = 0
    for i = 2, 7 do expires = expires * 256 + string.byte(rec, i) end
    if expires > tonumber(now) then return {rec, 2} end
  end
  local taken = redis.pcall('SET', lock, token, 'PX', lease, 'NX')
  if failed(taken) then return taken end
  return {rec or false, taken and 1 or 0}
end`,
  3,
);

// Per entry, KEYS: value, lock. ARGV: record, keep (ms), token ('' = no lock), channel, message ('' = announce nothing).
// 1.
export const WRITE = scriptForms(
  `local function entry(value, lock, record, keep, token, channel, message)
  local r = redis.pcall('SET', value, record, 'PX', keep)
  if failed(r) then return r end
  if token ~= '' then
    r = redis.pcall('GET', lock)
    if failed(r) then return r end
    if r == token then redis.pcall('DEL', lock) end
  end
  if message ~= '' then
    r = redis.pcall('SPUBLISH', channel, message)
    if failed(r) then return r end
  end
  return 1
end`,
  5,
);

// KEYS: value keys of one bucket. ARGV: channel, message ('' = announce nothing).
const REMOVE = `
local n = redis.call('DEL', unpack(KEYS))
if ARGV[2] ~= '' then redis.call('SPUBLISH', ARGV[1], ARGV[2]) end
return n`;

// KEYS: lock. ARGV: token.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// KEYS: lock. ARGV: token, lease (ms). Extends the lease of a lock still held.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

interface ScriptCommands {
  teddyReadOrLockBuffer(...keysThenArgs: ScriptArg[]): Promise<unknown>;
  teddyReadOrLockManyBuffer(numKeys: number, ...keysThenArgs: ScriptArg[]): Promise<unknown[]>;
  teddyWrite(...keysThenArgs: ScriptArg[]): Promise<unknown>;
  teddyWriteMany(numKeys: number, ...keysThenArgs: ScriptArg[]): Promise<unknown[]>;
  teddyRemove(numKeys: number, ...keysThenArgs: string[]): Promise<number>;
  teddyRelease(lock: string, token: string): Promise<number>;
  teddyRenew(lock: string, token: string, leaseMs: number): Promise<number>;
}

/** Registers the scripts on a client (once, before first use). */
export function defineScripts(client: RedisClient): void {
  client.defineCommand('teddyReadOrLock', { numberOfKeys: 2, lua: READ_OR_LOCK.one });
  client.defineCommand('teddyReadOrLockMany', { lua: READ_OR_LOCK.many });
  client.defineCommand('teddyWrite', { numberOfKeys: 2, lua: WRITE.one });
  client.defineCommand('teddyWriteMany', { lua: WRITE.many });
  client.defineCommand('teddyRemove', { lua: REMOVE });
  client.defineCommand('teddyRelease', { numberOfKeys: 1, lua: RELEASE });
  client.defineCommand('teddyRenew', { numberOfKeys: 1, lua: RENEW });
}

const scripts = (client: RedisClient): ScriptCommands => client as unknown as ScriptCommands;

export type ReadOrLock =
  | { readonly state: 'fresh'; readonly record: Buffer }
  | { readonly state: 'locked'; readonly record: Buffer | null; readonly token: string }
  | { readonly state: 'held'; readonly record: Buffer | null };

/** This process's random part of every lock token; a counter makes each token unique. */
const TOKEN_PREFIX = randomBytes(12).toString('base64url');
let tokenCount = 0;

/**
 * A token no other lock holder has: random per process, counted within it. (It only has to
 * differ from every other holder's, not be unguessable; a fresh randomBytes per miss cost
 * ~6 µs, more than the rest of the miss's own work.)
 */
export function newLockToken(): string {
  tokenCount = (tokenCount + 1) % Number.MAX_SAFE_INTEGER;
  return `${TOKEN_PREFIX}${tokenCount.toString(36)}`;
}

/** A tick's entries of the two scripts of a miss, each sent as one call (see the header). */
export interface MissScripts {
  readonly readOrLock: ScriptBatcher;
  readonly write: ScriptBatcher;
}

/** `full`: a batch filled up (./tick-batch.ts); every call is bound by `deadlines`. */
export function missScripts(client: RedisClient, deadlines: CallDeadlines, full: () => void): MissScripts {
  const s = scripts(client);
  return {
    readOrLock: scriptBatcher(
      client,
      { one: (keysThenArgs) => s.teddyReadOrLockBuffer(...keysThenArgs), many: (numKeys, keysThenArgs) => s.teddyReadOrLockManyBuffer(numKeys, ...keysThenArgs) },
      deadlines,
      full,
    ),
    write: scriptBatcher(
      client,
      { one: (keysThenArgs) => s.teddyWrite(...keysThenArgs), many: (numKeys, keysThenArgs) => s.teddyWriteMany(numKeys, ...keysThenArgs) },
      deadlines,
      full,
    ),
  };
}

export async function readOrLock(batch: MissScripts, keys: EntryKeys, nowMs: number, leaseMs: number): Promise<ReadOrLock> {
  const token = newLockToken();
  const [record, state] = (await batch.readOrLock.add([keys.l2Key, keys.lockKey], [nowMs, token, leaseMs])) as [Buffer | null, number];
  if (state === 2) return { state: 'fresh', record: record! };
  return state === 1 ? { state: 'locked', record, token } : { state: 'held', record };
}

/** Writes a record, announces it on the bucket's channel (unless `message` is ''), and releases the lock if `token` still holds it. */
export async function writeRecord(batch: MissScripts, keys: EntryKeys, record: Buffer, keepMs: number, token: string, message: string): Promise<void> {
  await batch.write.add([keys.l2Key, keys.lockKey], [record, keepMs, token, keys.channel, message]);
}

/** Deletes value keys of one bucket and announces it (unless `message` is ''); returns how many existed. */
export function removeRecords(client: RedisClient, channel: string, l2Keys: readonly string[], message: string): Promise<number> {
  return scripts(client).teddyRemove(l2Keys.length, ...l2Keys, channel, message);
}

export async function releaseLock(client: RedisClient, lockKey: string, token: string): Promise<void> {
  await scripts(client).teddyRelease(lockKey, token);
}

/** Extends a lock's lease if `token` still holds it (a compute running longer than one lease keeps it). */
export async function renewLock(client: RedisClient, lockKey: string, token: string, leaseMs: number): Promise<void> {
  await scripts(client).teddyRenew(lockKey, token, leaseMs);
}
