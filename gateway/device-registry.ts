/**
 * The device registry: which bears may connect, each with the scrypt hash of
 * its secret (never the secret). It lives in the fleet's Redis, one hash
 * field per bear, so every gateway process — and the CLI, running or not
 * running next to one — sees the same fleet. It is durable state, not cache:
 * the Redis must persist it and must not evict it (docs/scale-out.md).
 *
 * A change is announced on the control channel so gateways drop what they
 * hold about the bear (and disconnect a removed one). Lookups read Redis
 * (one HGET per CONNECT, never per request); each record read is also kept
 * in process memory, bounded, and used only while Redis is unreachable, so
 * bears this gateway has seen can reconnect during an outage.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { isValidDeviceId } from '../protocol/index.js';
import type { FleetKeys } from './fleet-keys.js';
import type { FleetClient } from './fleet-redis.js';

export interface DeviceRecord {
  /** `scrypt$N$r$p$salt$hash`, salt and hash base64url. */
  readonly hash: string;
  readonly createdAt: string;
  /** SHA-256 (hex) of the one client certificate this bear may log in with instead of its secret. */
  readonly certSha256?: string;
}

export interface AddOptions {
  /** Pin this client certificate (./tls-certificates.ts issueDeviceCertificate). */
  readonly certSha256?: string;
}

export interface DeviceRegistry {
  /**
   * Enrols (or re-keys) a bear; generates a secret when none is given. Returns the secret once.
   * Re-keying drops a pinned certificate unless `options` pins one again.
   */
  add(id: string, secret?: string, options?: AddOptions): Promise<{ id: string; secret: string }>;
  /** True if the bear was enrolled. */
  remove(id: string): Promise<boolean>;
  list(): Promise<{ id: string; createdAt: string }[]>;
  lookup(id: string): Promise<DeviceRecord | undefined>;
  /** Recomputes scrypt: slow on purpose (tens of ms). Callers cache successes. */
  verify(record: DeviceRecord, secret: Uint8Array): Promise<boolean>;
}

/** What the registry tells the other gateways after a change (the control bus's `device` message). */
export interface DeviceChange {
  readonly deviceId: string;
  readonly removed: boolean;
}

export interface FleetDeviceRegistry extends DeviceRegistry {
  /** Adds records that are not enrolled yet (a migrated devices.json); resolves to how many were new. */
  importRecords(records: Readonly<Record<string, DeviceRecord>>): Promise<number>;
  /** Drops this process's copy of a bear's record (another process changed it). */
  forget(id: string): void;
}

export interface DeviceRegistryOptions {
  client: FleetClient;
  keys: FleetKeys;
  /** Tells the other gateways; a failure is the caller's (the change itself is already stored). */
  announce(change: DeviceChange): Promise<void>;
}

// OWASP's minimum for scrypt: N=2^14 (about 16 MiB, tens of ms per check).
const SCRYPT = { N: 16384, r: 8, p: 1 };
const KEY_BYTES = 32;
const MIN_SECRET = 8;
const MAX_SECRET = 256;
/** Records kept for Redis outages: ~150 bytes each. */
const MAX_REMEMBERED = 100_000;

export function createDeviceRegistry({ client, keys, announce }: DeviceRegistryOptions): FleetDeviceRegistry {
  const remembered = new LRUCache<string, DeviceRecord>({ max: MAX_REMEMBERED });

  return {
    async add(id, secret = randomBytes(24).toString('base64url'), options = {}) {
      if (!isValidDeviceId(id)) throw new RangeError('device id must be 1-64 characters of [A-Za-z0-9_-]');
      const length = Buffer.byteLength(secret);
      if (length < MIN_SECRET || length > MAX_SECRET) throw new RangeError(`secret must be ${MIN_SECRET}-${MAX_SECRET} bytes`);
      const record: DeviceRecord = {
        hash: await hashSecret(Buffer.from(secret)), createdAt: new Date().toISOString(), ...(options.certSha256 ? { certSha256: options.certSha256 } : {}),
      };
      await client.hset(keys.devices, id, JSON.stringify(record));
      remembered.delete(id);
      await announce({ deviceId: id, removed: false });
      return { id, secret };
    },

    async remove(id) {
      const removed = (await client.hdel(keys.devices, id)) === 1;
      remembered.delete(id);
      await announce({ deviceId: id, removed: true });
      return removed;
    },

    async list() {
      const all = await client.hgetall(keys.devices);
      return Object.entries(all)
        .map(([id, text]) => ({ id, createdAt: parseRecord(text)?.createdAt ?? '' }))
        .sort((a, b) => a.id.localeCompare(b.id));
    },

    async lookup(id) {
      let text: string | null;
      try {
        text = await client.hget(keys.devices, id);
      } catch (err) {
        const known = remembered.get(id);
        if (known) return known;
        throw err;
      }
      const record = text === null ? undefined : parseRecord(text);
      if (record) remembered.set(id, record);
      else remembered.delete(id);
      return record;
    },

    async verify(record, secret) {
      const [scheme, n, r, p, salt, hash] = record.hash.split('$');
      if (scheme !== 'scrypt' || !salt || !hash) return false;
      const expected = Buffer.from(hash, 'base64url');
      const actual = await scryptAsync(secret, Buffer.from(salt, 'base64url'), expected.length, {
        N: Number(n), r: Number(r), p: Number(p),
      });
      return timingSafeEqual(actual, expected);
    },

    async importRecords(records) {
      const entries = Object.entries(records).filter(([id, r]) => isValidDeviceId(id) && typeof r?.hash === 'string');
      const added = await Promise.all(entries.map(([id, r]) => client.hsetnx(keys.devices, id, JSON.stringify({ hash: r.hash, createdAt: r.createdAt, certSha256: r.certSha256 }))));
      return added.filter((n) => n === 1).length;
    },

    forget: (id) => void remembered.delete(id),
  };
}

/** A stored record, or undefined if the field does not hold one (never trusted blindly). */
function parseRecord(text: string): DeviceRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<DeviceRecord>;
    if (typeof r.hash !== 'string' || typeof r.createdAt !== 'string') return undefined;
    return { hash: r.hash, createdAt: r.createdAt, ...(typeof r.certSha256 === 'string' ? { certSha256: r.certSha256 } : {}) };
  } catch {
    return undefined;
  }
}

async function hashSecret(secret: Uint8Array): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, KEY_BYTES, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

function scryptAsync(secret: Uint8Array, salt: Uint8Array, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}
