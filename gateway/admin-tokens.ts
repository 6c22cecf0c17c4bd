/**
 * Admin tokens with roles. `read` may see stats, health, metrics and
 * reports; `admin` may also manage devices, push warm manifests and erase.
 * A token is `{id}.{secret}`: the id (printed at creation, safe to log and
 * to revoke by) finds the entry, and only the SHA-256 of the whole token is
 * kept, compared in constant time. Tokens live in the fleet's Redis (one
 * hash, next to the device registry), so every gateway process accepts a
 * new token and refuses a revoked one at its next request.
 *
 * The data dir's `admin-token` (made at first start, 0600) stays the local
 * operator's admin credential, id `local`: the CLI's `warm` and `stats` use it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FleetKeys } from './fleet-keys.js';
import type { FleetClient } from './fleet-redis.js';

export const ROLES = ['read', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** The id the data dir's own admin token is known by in the audit log. */
export const LOCAL_TOKEN_ID = 'local';

export interface TokenInfo {
  readonly id: string;
  readonly role: Role;
  readonly createdAt: string;
}

interface StoredToken {
  role: Role;
  /** hex SHA-256 of the whole token */
  sha256: string;
  createdAt: string;
}

export interface AdminTokens {
  /** Makes a token; the secret is in `token` only, shown once. */
  create(role: Role): Promise<TokenInfo & { token: string }>;
  /** Revokes by id or by the token itself; returns the id, or undefined if there was no such token. */
  revoke(idOrToken: string): Promise<string | undefined>;
  list(): Promise<TokenInfo[]>;
  /** The token's id and role if it is valid; undefined otherwise. */
  verify(token: string): Promise<{ id: string; role: Role } | undefined>;
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Whether a holder of `held` may do what needs `needed`. */
export function grants(held: Role, needed: Role): boolean {
  return held === 'admin' || needed === 'read';
}

const ID = /^tok_[0-9a-f]{12}$/;
const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

function parse(text: string | null): StoredToken | undefined {
  if (text === null) return undefined;
  try {
    const t = JSON.parse(text) as Partial<StoredToken>;
    return typeof t.sha256 === 'string' && /^[0-9a-f]{64}$/.test(t.sha256) && typeof t.role === 'string' && isRole(t.role) && typeof t.createdAt === 'string'
      ? { role: t.role, sha256: t.sha256, createdAt: t.createdAt }
      : undefined;
  } catch {
    return undefined;
  }
}

export interface AdminTokensOptions {
  client: FleetClient;
  keys: Pick<FleetKeys, 'adminTokens'>;
  /** The data dir's admin token, accepted as the admin `local`. */
  localToken?: string;
}

export function createAdminTokens({ client, keys, localToken }: AdminTokensOptions): AdminTokens {
  const local = localToken ? digest(localToken) : undefined;
  const matches = (token: string, stored: StoredToken): boolean => timingSafeEqual(digest(token), Buffer.from(stored.sha256, 'hex'));

  return {
    async create(role) {
      const id = `tok_${randomBytes(6).toString('hex')}`;
      const token = `${id}.${randomBytes(32).toString('base64url')}`;
      const createdAt = new Date().toISOString();
      await client.hset(keys.adminTokens, id, JSON.stringify({ role, sha256: digest(token).toString('hex'), createdAt } satisfies StoredToken));
      return { id, role, createdAt, token };
    },

    async revoke(idOrToken) {
      const id = idOrToken.split('.')[0]!;
      if (!ID.test(id)) return undefined;
      const stored = parse(await client.hget(keys.adminTokens, id));
      // Given the whole token, it must be that token, not just something that starts with its id.
      if (!stored || (idOrToken.includes('.') && !matches(idOrToken, stored))) return undefined;
      return (await client.hdel(keys.adminTokens, id)) === 1 ? id : undefined;
    },

    async list() {
      const all = await client.hgetall(keys.adminTokens);
      return Object.entries(all)
        .flatMap(([id, text]) => {
          const t = parse(text);
          return t ? [{ id, role: t.role, createdAt: t.createdAt }] : [];
        })
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },

    async verify(token) {
      if (local && timingSafeEqual(digest(token), local)) return { id: LOCAL_TOKEN_ID, role: 'admin' };
      const id = token.split('.')[0]!;
      if (!ID.test(id)) return undefined;
      const stored = parse(await client.hget(keys.adminTokens, id));
      return stored && matches(token, stored) ? { id, role: stored.role } : undefined;
    },
  };
}
