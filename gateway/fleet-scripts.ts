/**
 * The Lua scripts of the fleet state. Each touches the keys of one hash tag
 * (one bear's, or the fleet's), so each runs on one Redis Cluster slot
 * (./fleet-keys.ts); ioredis sends them as EVALSHA.
 */
import type { FleetClient } from './fleet-redis.js';

// KEYS: history, bear. ARGV: max history, ttl ms, plan seq, plan signature, then clip id, plays pairs.
// Adds the plays, keeps the history within the bound (dropping the least played, this batch's clips
// last), raises the plan sequence (never lowers it) and keeps both keys alive for `ttl`.
const RECORD_BEAR = `
local max = tonumber(ARGV[1])
local batch = {}
for i = 5, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  batch[ARGV[i]] = true
end
local n = redis.call('HLEN', KEYS[1])
if n > max then
  local all = redis.call('HGETALL', KEYS[1])
  local entries = {}
  for i = 1, #all, 2 do
    entries[#entries + 1] = { id = all[i], plays = tonumber(all[i + 1]), kept = batch[all[i]] and 1 or 0 }
  end
  table.sort(entries, function(a, b)
    if a.kept ~= b.kept then return a.kept < b.kept end
    return a.plays < b.plays
  end)
  for i = 1, n - max do redis.call('HDEL', KEYS[1], entries[i].id) end
end
local seq = tonumber(ARGV[3])
if seq > 0 and seq > tonumber(redis.call('HGET', KEYS[2], 'seq') or '0') then
  redis.call('HSET', KEYS[2], 'seq', ARGV[3], 'sig', ARGV[4])
end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return n`;

// KEYS: bear. ARGV: instance id, connected at (ms), ttl ms. Returns the previous owner (or false).
const CLAIM_BEAR = `
local previous = redis.call('HGET', KEYS[1], 'owner')
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'since', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return previous`;

// KEYS: bear. ARGV: instance id. Clears the owner if it is still this instance.
const RELEASE_BEAR = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then return redis.call('HDEL', KEYS[1], 'owner', 'since') end
return 0`;

// KEYS: popularity, clips. ARGV: max clips. Forgets the least played clips beyond the bound, at most
// 1,000 a call (Lua's unpack limit; the next call takes the rest).
const PRUNE_CLIPS = `
local excess = math.min(redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1]), 1000)
if excess <= 0 then return 0 end
local gone = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
redis.call('ZREM', KEYS[1], unpack(gone))
redis.call('HDEL', KEYS[2], unpack(gone))
return #gone`;

export interface FleetScripts {
  teddyRecordBear(history: string, bear: string, maxHistory: number, ttlMs: number, planSeq: number, planSignature: string, ...clipPlays: (string | number)[]): Promise<number>;
  teddyClaimBear(bear: string, instanceId: string, at: number, ttlMs: number): Promise<string | null>;
  teddyReleaseBear(bear: string, instanceId: string): Promise<number>;
  teddyPruneClips(popularity: string, clips: string, maxClips: number): Promise<number>;
}

/** Registers the scripts on a client (once, before first use) and returns it typed with them. */
export function withFleetScripts(client: FleetClient): FleetClient & FleetScripts {
  client.defineCommand('teddyRecordBear', { numberOfKeys: 2, lua: RECORD_BEAR });
  client.defineCommand('teddyClaimBear', { numberOfKeys: 1, lua: CLAIM_BEAR });
  client.defineCommand('teddyReleaseBear', { numberOfKeys: 1, lua: RELEASE_BEAR });
  client.defineCommand('teddyPruneClips', { numberOfKeys: 2, lua: PRUNE_CLIPS });
  return client as FleetClient & FleetScripts;
}
