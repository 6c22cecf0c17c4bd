/**
 * The admin API under `/admin/`, behind `Authorization: Bearer TOKEN`
 * (./admin-tokens.ts): each route names the role it needs — `read` for
 * stats and the operations views (live, health, report), `admin` for
 * devices, warm pushes and erase. No token or a bad one
 * is 401, a token without the role 403. Every request, allowed or not, is
 * one line in the audit log (./audit-log.ts) with the token id, the action,
 * the device id it was about (only a valid device id) and the outcome.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { isValidDeviceId } from '../protocol/index.js';
import { grants, type AdminTokens, type Role } from './admin-tokens.js';
import type { AuditLog, AuditOutcome } from './audit-log.js';
import type { EraseReport } from './erase.js';
import type { Operations } from './ops/operations.js';

export interface AdminReply {
  readonly status: number;
  readonly json?: unknown;
  readonly text?: string;
}

export interface AdminActions {
  warm(deviceId?: string): Promise<number>;
  /** Fleet statistics, or one bear's (undefined if it never said hello). */
  stats(deviceId?: string): Promise<unknown>;
  listDevices(): Promise<{ id: string; createdAt: string }[]>;
  /** The operations service (time series, alerts, report), once started. */
  ops(): Operations | undefined;
  addDevice(id: string): Promise<{ id: string; secret: string }>;
  removeDevice(id: string): Promise<boolean>;
  erase(id: string): Promise<EraseReport>;
}

export interface AdminApiOptions {
  tokens: AdminTokens;
  audit: AuditLog;
  log: Logger;
  actions: AdminActions;
}

/** Who a request is, by its bearer token: the token's id and role, or why not. */
export type Caller = { id: string; role: Role } | 'unauthorized';

interface Route {
  readonly method: string;
  /** Matches the path; group 1, when present, is a device id. */
  readonly path: RegExp;
  readonly action: string;
  readonly role: Role;
  run(device: string | undefined, query: URLSearchParams): Promise<AdminReply>;
}

const ok = (json: unknown): AdminReply => ({ status: 200, json });
const notFound = (text: string): AdminReply => ({ status: 404, text });

export function createAdminApi(o: AdminApiOptions) {
  const opsView = async (view: (ops: Operations) => Promise<unknown>): Promise<AdminReply> => {
    const ops = o.actions.ops();
    return ops ? ok(await view(ops)) : { status: 503, text: 'operations not started yet\n' };
  };
  const routes: Route[] = [
    {
      method: 'GET', path: /^\/admin\/stats$/, action: 'stats', role: 'read',
      async run(_d, q) {
        const stats = await o.actions.stats(q.get('device') ?? undefined);
        return stats === undefined ? notFound('no such bear\n') : ok(stats);
      },
    },
    {
      method: 'POST', path: /^\/admin\/warm$/, action: 'warm', role: 'admin',
      run: async (_d, q) => ok({ pushed: await o.actions.warm(q.get('device') ?? undefined) }),
    },
    // The operations views `top`, `health` and `report` read (health is 200 either way: the CLI judges it).
    { method: 'GET', path: /^\/admin\/ops\/live$/, action: 'ops.live', role: 'read', run: () => opsView((ops) => ops.live()) },
    { method: 'GET', path: /^\/admin\/ops\/health$/, action: 'ops.health', role: 'read', run: () => opsView((ops) => ops.health()) },
    { method: 'GET', path: /^\/admin\/ops\/report$/, action: 'ops.report', role: 'read', run: () => opsView((ops) => ops.report()) },
    { method: 'GET', path: /^\/admin\/devices$/, action: 'device.list', role: 'admin', run: async () => ok(await o.actions.listDevices()) },
    { method: 'POST', path: /^\/admin\/devices\/([^/]+)$/, action: 'device.add', role: 'admin', run: async (d) => ok(await o.actions.addDevice(d!)) },
    {
      method: 'DELETE', path: /^\/admin\/devices\/([^/]+)$/, action: 'device.remove', role: 'admin',
      run: async (d) => ((await o.actions.removeDevice(d!)) ? ok({ removed: d }) : notFound('no such device\n')),
    },
    {
      method: 'POST', path: /^\/admin\/devices\/([^/]+)\/erase$/, action: 'device.erase', role: 'admin',
      async run(d) {
        const report = await o.actions.erase(d!);
        if (report.found) return ok(report);
        // Nothing of it anywhere: erased before (this data dir's audit log says so), or never known.
        return (await o.audit.happened('device.erase', d!)) ? ok({ ...report, alreadyErased: true }) : { status: 404, json: report };
      },
    },
  ];

  const caller = async (req: IncomingMessage): Promise<Caller> => {
    // The scheme is case-insensitive (RFC 9110, 11.1).
    const token = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(req.headers.authorization ?? '')?.[1];
    return (token && (await o.tokens.verify(token))) || 'unauthorized';
  };

  const outcomeOf = (status: number): AuditOutcome =>
    status < 300 ? 'ok' : status === 401 ? 'unauthorized' : status === 403 ? 'denied' : status === 404 ? 'not-found' : status === 400 ? 'invalid' : 'failed';

  const audit = async (who: Caller, action: string, target: string | undefined, status: number, req: IncomingMessage): Promise<void> => {
    const name = who === 'unauthorized' ? 'anonymous' : who.id;
    if (status === 401 || status === 403) o.log.warn({ action, status, who: name }, 'admin request refused');
    await o.audit
      .record({ who: name, what: action, target, outcome: outcomeOf(status), address: req.socket.remoteAddress })
      .catch((err: unknown) => o.log.error({ err }, 'audit log write failed'));
  };

  return {
    caller,

    /**
     * Whether this request may do `action`, which needs `role`, outside /admin/ (/metrics): the caller,
     * or the refusal to send (audited; a scrape that is let through is not, or it would fill the log).
     */
    async authorize(req: IncomingMessage, action: string, role: Role): Promise<{ id: string; role: Role } | AdminReply> {
      const who = await caller(req);
      const refusal: AdminReply | undefined =
        who === 'unauthorized' ? { status: 401, text: 'unauthorized\n' } : !grants(who.role, role) ? { status: 403, text: `forbidden: needs the ${role} role\n` } : undefined;
      if (!refusal) return who as { id: string; role: Role };
      await audit(who, action, undefined, refusal.status, req);
      return refusal;
    },

    /** Answers an `/admin/` request; every request is audited. */
    async handle(req: IncomingMessage, url: URL): Promise<AdminReply> {
      let match: RegExpExecArray | null = null;
      const route = routes.find((r) => r.method === req.method && (match = r.path.exec(url.pathname)) !== null);
      const who = await caller(req);
      const raw = match?.[1];
      let device: string | undefined;
      try {
        device = raw === undefined ? undefined : decodeURIComponent(raw);
      } catch {
        device = undefined;
      }
      const target = device !== undefined && isValidDeviceId(device) ? device : undefined;
      let reply: AdminReply;
      if (who === 'unauthorized') reply = { status: 401, text: 'unauthorized\n' };
      else if (!route) reply = { status: 404, text: 'not found\n' };
      else if (!grants(who.role, route.role)) reply = { status: 403, text: `forbidden: ${route.action} needs the ${route.role} role\n` };
      else if (raw !== undefined && !target) reply = { status: 400, text: 'device id must be 1-64 characters of [A-Za-z0-9_-]\n' };
      else {
        try {
          reply = await route.run(target, url.searchParams);
        } catch (err) {
          o.log.error({ err, action: route.action }, 'admin action failed');
          reply = { status: 500, text: 'internal error\n' };
        }
      }
      await audit(who, route?.action ?? 'unknown', target, reply.status, req);
      return reply;
    },
  };
}
export type AdminApi = ReturnType<typeof createAdminApi>;
