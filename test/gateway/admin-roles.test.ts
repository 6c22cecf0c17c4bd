/**
 * Admin tokens and roles against a real gateway: tokens made and revoked
 * with the CLI (kept in the fleet's Redis), `read` sees stats but cannot
 * add a device or push warm manifests, `admin` can; every request and every
 * refusal is a line in the data dir's audit.log, which never holds a token;
 * /metrics behind a read token with --metrics-auth; the audit log rotates
 * by size.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../gateway/audit-log.js';
import { startTestGateway, type TestGateway } from './harness.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', ...args], { cwd: process.cwd() });

let t: TestGateway;
let read: { id: string; token: string };
let adminToken: { id: string; token: string };

const where = (): string[] => ['--data-dir', t.dataDir, '--redis-url', t.redis!.url];
const call = (method: string, path: string, token?: string) =>
  fetch(`${t.gateway.httpUrl}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
const auditLines = (): { who: string; what: string; target?: string; outcome: string; when: string }[] =>
  readFileSync(join(t.dataDir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as never);

beforeAll(async () => {
  t = await startTestGateway();
  read = JSON.parse((await cli('token', 'create', '--role', 'read', '--json', ...where())).stdout) as typeof read;
  adminToken = JSON.parse((await cli('token', 'create', '--role', 'admin', '--json', ...where())).stdout) as typeof adminToken;
}, 60_000);
afterAll(() => t?.stop());

describe('admin tokens and roles', () => {
  it('the admin commands reach a gateway by --gateway-url with a token from TEDDY_ADMIN_TOKEN, over HTTPS with --ca', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'teddy-remote-cli-')); // no gateway.json, no admin-token
    const remote = (token: string, ...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', ...args, '--data-dir', elsewhere, '--gateway-url', t.gateway.httpsUrl, '--ca', t.gateway.caFile], {
        cwd: process.cwd(), env: { ...process.env, TEDDY_ADMIN_TOKEN: token },
      });
    try {
      const stats = JSON.parse((await remote(read.token, 'stats')).stdout) as { bears: unknown };
      expect(stats).toHaveProperty('bears');
      expect(JSON.parse((await remote(read.token, 'health', '--json')).stdout)).toHaveProperty('firing');
      // The role still decides: read may look, not push.
      await expect(remote(read.token, 'warm')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/403.*needs the admin role/) });
      expect((await remote(adminToken.token, 'warm')).stdout).toMatch(/^pushed \d+ warm manifests?\n$/);
      await expect(remote('tok_000000000000.wrong', 'stats')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/401/) });
      // Without the CA the gateway's certificate is not trusted.
      await expect(run(process.execPath, ['--import', 'tsx', 'gateway/cli.ts', 'stats', '--data-dir', elsewhere, '--gateway-url', t.gateway.httpsUrl, '--token', read.token], { cwd: process.cwd() }))
        .rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/certificate/i) });
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  }, 60_000);

  it('prints a token once with its id, and lists ids and roles only', async () => {
    expect(read.id).toMatch(/^tok_[0-9a-f]{12}$/);
    expect(read.token.startsWith(`${read.id}.`)).toBe(true);
    const { stdout } = await cli('token', 'list', '--json', ...where());
    const listed = JSON.parse(stdout) as { id: string; role: string }[];
    expect(listed).toEqual(expect.arrayContaining([expect.objectContaining({ id: read.id, role: 'read' }), expect.objectContaining({ id: adminToken.id, role: 'admin' })]));
    expect(stdout).not.toContain(read.token.split('.')[1]);
    const human = await cli('token', 'create', '--role', 'read', ...where());
    expect(human.stdout).toMatch(/^id: tok_[0-9a-f]{12}\nrole: read\ntoken \(shown once\): tok_/);
    await expect(cli('token', 'create', '--role', 'root', ...where())).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/Allowed choices are read, admin/) });
  });

  it('read sees stats; it cannot add a device or push warm manifests, and each refusal is audited', async () => {
    expect((await call('GET', '/admin/stats', read.token)).status).toBe(200);
    // The scheme is case-insensitive (RFC 9110, 11.1); the token is not.
    const lower = await fetch(`${t.gateway.httpUrl}/admin/stats`, { headers: { authorization: `bearer ${read.token}` } });
    expect(lower.status).toBe(200);
    expect((await call('GET', '/admin/stats', read.token.toUpperCase())).status).toBe(401);
    const add = await call('POST', '/admin/devices/role-bear', read.token);
    expect(add.status).toBe(403);
    expect(await add.text()).toMatch(/needs the admin role/);
    expect((await call('POST', '/admin/warm', read.token)).status).toBe(403);
    expect((await call('DELETE', '/admin/devices/role-bear', read.token)).status).toBe(403);
    expect(await t.gateway.devices.list()).not.toContainEqual(expect.objectContaining({ id: 'role-bear' }));

    const lines = auditLines();
    expect(lines).toContainEqual(expect.objectContaining({ who: read.id, what: 'stats', outcome: 'ok' }));
    expect(lines).toContainEqual(expect.objectContaining({ who: read.id, what: 'device.add', target: 'role-bear', outcome: 'denied' }));
    expect(lines).toContainEqual(expect.objectContaining({ who: read.id, what: 'warm', outcome: 'denied' }));
    // who, what, when, outcome: the names for the fields.
    for (const line of lines) expect(Date.parse(line.when)).toBeGreaterThan(Date.now() - 600_000);
    expect(t.logs.some((l) => l.includes('admin request refused') && l.includes(read.id))).toBe(true);
  });

  it('admin adds, lists and removes devices; the audit log names the token and the device, never a secret', async () => {
    const added = await call('POST', '/admin/devices/admin-bear', adminToken.token);
    expect(added.status).toBe(200);
    const { secret } = (await added.json()) as { id: string; secret: string };
    expect(((await (await call('GET', '/admin/devices', adminToken.token)).json()) as { id: string }[]).map((d) => d.id)).toContain('admin-bear');
    expect((await call('DELETE', '/admin/devices/admin-bear', adminToken.token)).status).toBe(200);
    expect((await call('DELETE', '/admin/devices/admin-bear', adminToken.token)).status).toBe(404);
    expect((await call('POST', '/admin/devices/bad%20id!', adminToken.token)).status).toBe(400);
    const lines = auditLines();
    expect(lines).toContainEqual(expect.objectContaining({ who: adminToken.id, what: 'device.add', target: 'admin-bear', outcome: 'ok' }));
    expect(lines).toContainEqual(expect.objectContaining({ who: adminToken.id, what: 'device.remove', target: 'admin-bear', outcome: 'not-found' }));
    expect(lines).toContainEqual(expect.objectContaining({ who: adminToken.id, what: 'device.add', outcome: 'invalid' }));
    const text = readFileSync(join(t.dataDir, 'audit.log'), 'utf8');
    for (const secretText of [secret, read.token, adminToken.token, adminToken.token.split('.')[1]!, 'bad id']) expect(text).not.toContain(secretText);
  });

  it('refuses no token, a wrong one and a revoked one (by id or by the token itself) with 401', async () => {
    expect((await call('GET', '/admin/stats')).status).toBe(401);
    expect((await call('GET', '/admin/stats', `${read.id}.wrong`)).status).toBe(401);
    expect((await call('GET', '/admin/stats', 'x'.repeat(600))).status).toBe(401);
    const other = JSON.parse((await cli('token', 'create', '--role', 'admin', '--json', ...where())).stdout) as typeof read;
    expect((await call('GET', '/admin/stats', other.token)).status).toBe(200);
    await expect(cli('token', 'revoke', `${other.id}.not-it`, ...where())).rejects.toMatchObject({ code: 1 });
    expect((await cli('token', 'revoke', other.token, ...where())).stdout).toBe(`revoked ${other.id}\n`);
    expect((await call('GET', '/admin/stats', other.token)).status).toBe(401);
    expect((await cli('token', 'revoke', read.id, ...where())).stdout).toBe(`revoked ${read.id}\n`);
    expect((await call('GET', '/admin/stats', read.token)).status).toBe(401);
    expect(auditLines()).toContainEqual(expect.objectContaining({ who: 'anonymous', what: 'stats', outcome: 'unauthorized' }));
    expect(auditLines()).toContainEqual(expect.objectContaining({ who: 'cli', what: 'token.revoke', target: read.id, outcome: 'ok' }));
  });
});

describe('--metrics-auth', () => {
  it('puts /metrics behind a read token, and audits refusals', async () => {
    const m = await startTestGateway({ metricsAuth: true });
    try {
      const token = JSON.parse((await cli('token', 'create', '--role', 'read', '--json', '--data-dir', m.dataDir, '--redis-url', m.redis!.url)).stdout) as { token: string };
      expect((await fetch(`${m.gateway.httpUrl}/metrics`)).status).toBe(401);
      const ok = await fetch(`${m.gateway.httpUrl}/metrics`, { headers: { authorization: `Bearer ${token.token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('teddy_gateway_connected_bears');
      const lines = readFileSync(join(m.dataDir, 'audit.log'), 'utf8');
      expect(lines).toContain('"what":"metrics","outcome":"unauthorized"');
    } finally {
      await m.stop();
    }
    // Without the flag, /metrics is open (a scraper on a private network).
    expect((await fetch(`${t.gateway.httpUrl}/metrics`)).status).toBe(200);
  });
});

describe('audit log', () => {
  it('rotates by size, keeping the newest files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'teddy-audit-'));
    try {
      const audit = createAuditLog(dir, { maxBytes: 500, keep: 2 });
      for (let i = 0; i < 40; i++) await audit.record({ who: 'cli', what: 'device.add', target: `bear-${i}`, outcome: 'ok' });
      expect(existsSync(join(dir, 'audit.log.1'))).toBe(true);
      expect(existsSync(join(dir, 'audit.log.2'))).toBe(true);
      expect(existsSync(join(dir, 'audit.log.3'))).toBe(false);
      expect(readFileSync(join(dir, 'audit.log'), 'utf8').length).toBeLessThanOrEqual(500 + 200);
      expect(readFileSync(join(dir, 'audit.log'), 'utf8')).toContain('bear-39');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
