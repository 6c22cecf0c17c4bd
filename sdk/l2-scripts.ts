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
 * The lock is a lease (SET NX PX) with a random token, so of all instances
 * missing a key at once one computes, a crashed holder blocks the others at
 * most one lease, and a holder whose lease ran out cannot free a successor's
 * lock (release compares the token).
 */
import { randomBytes } from 'node:crypto';
import type { EntryKeys } from './key-layout.js';
import type { RedisClient } from './l2.js';
import { RECORD_VERSION } from './value-codec.js';

// KEYS: value, lock. ARGV: now (ms), token, lease (ms).
// Returns {record or nil, state}: state 2 = fresh record, 1 = lock taken (record, if any, is stale), 0 = lock held by another.
// (Exported, with WRITE, for `npm run bench:sdk`, which also runs a miss's two scripts through another client.)
export const READ_OR_LOCK = `
local rec = redis.call('GET', KEYS[1])
if rec and string.len(rec) >= 7 and math.floor(string.byte(rec, 1) / 16) == ${RECORD_VERSION} then
  local expires = 0
  for i = 2, 7 do expires = expires * 256 + string.byte(rec, i) end
  if expires > tonumber(ARGV[1]) then return {rec, 2} end
end
if redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3], 'NX') then return {rec or false, 1} end
return {rec or false, 0}`;

// KEYS: value, lock. ARGV: record, keep (ms), token ('' = no lock), channel, message ('' = announce nothing).
export const WRITE = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
if ARGV[5] ~= '' then redis.call('SPUBLISH', ARGV[4], ARGV[5]) end
return 1`;

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
  teddyReadOrLockBuffer(value: string, lock: string, now: number, token: string, leaseMs: number): Promise<[Buffer | null, number]>;
  teddyWrite(value: string, lock: string, record: Buffer, keepMs: number, token: string, channel: string, message: string): Promise<number>;
  teddyRemove(numKeys: number, ...keysThenArgs: string[]): Promise<number>;
  teddyRelease(lock: string, token: string): Promise<number>;
  teddyRenew(lock: string, token: string, leaseMs: number): Promise<number>;
}

/** Registers the scripts on a client (once, before first use). */
export function defineScripts(client: RedisClient): void {
  client.defineCommand('teddyReadOrLock', { numberOfKeys: 2, lua: READ_OR_LOCK });
  client.defineCommand('teddyWrite', { numberOfKeys: 2, lua: WRITE });
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

export async function readOrLock(client: RedisClient, keys: EntryKeys, nowMs: number, leaseMs: number): Promise<ReadOrLock> {
  const token = newLockToken();
  const [record, state] = await scripts(client).teddyReadOrLockBuffer(keys.l2Key, keys.lockKey, nowMs, token, leaseMs);
  if (state === 2) return { state: 'fresh', record: record! };
  return state === 1 ? { state: 'locked', record, token } : { state: 'held', record };
}

/** Writes a record, announces it on the bucket's channel (unless `message` is ''), and releases the lock if `token` still holds it. */
export async function writeRecord(client: RedisClient, keys: EntryKeys, record: Buffer, keepMs: number, token: string, message: string): Promise<void> {
  await scripts(client).teddyWrite(keys.l2Key, keys.lockKey, record, keepMs, token, keys.channel, message);
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
