#!/usr/bin/env node
/**
 * teddycache: the gateway's command line.
 *   start            run the gateway (embedded defaults: MQTTS 8883, HTTPS 8443, plaintext MQTT 1883 and
 *                    HTTP 8080 on loopback, data dir .teddycache)
 *   device add|remove|list   manage the device registry (in the fleet's Redis); add --cert issues a client certificate
 *   token create|revoke|list admin tokens with roles (read, admin) for the HTTP admin API
 *   erase ID         erase everything derived from a bear's input (every layer, every gateway)
 *   warm, stats      talk to a running gateway through its admin endpoints
 *   report, health, top   the fleet's operations views (docs/operations.md), through the same endpoints
 * Results go to stdout, logs and errors to stderr; exit 0 on success, 1 on failure
 * (`health`: 1 when the fleet is unhealthy, so it serves as a probe), 2 on a usage error
 * (unknown command or option, a missing or bad argument), as the simulator and teddy-bear do.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { pino } from 'pino';
import { readSecret } from '../infra/data-dir-secret.js';
import { createCache, resolveConfig } from '../sdk/index.js';
import { isValidDeviceId } from '../protocol/index.js';
import { DEVICE_CERT_DIR, issueDeviceCertificate } from './tls-certificates.js';
import { withDeviceRegistry, withFleetRedis } from './registry-client.js';
import { createAdminTokens, ROLES, type AdminTokens, type Role } from './admin-tokens.js';
import { createBearStore } from './bear-sessions-sync.js';
import { publishControl } from './control-bus.js';
import { createDeviceRegistry, type DeviceRegistry } from './device-registry.js';
import { createEraser, describeErasure, InvalidDeviceIdError } from './erase.js';
import { createTextCipher } from './fleet-text-cipher.js';
import { createAuditLog, type AuditOutcome } from './audit-log.js';
import { exitWhenClosed, holdStopSignals } from './process-exit.js';
import { isWorker, runPrimary, runWorker } from './workers.js';
import { ADMIN_TOKEN_FILE, RUNTIME_FILE, startGateway } from './index.js';
import { commanderParser, DEFAULT_OPTIONS, httpUrl, integerIn, nonNegativeInteger, OPTION_SPECS, optionSource, resolveOptions, type GatewayOptions } from './options.js';
import type { HealthView, LiveView } from './ops/operations.js';
import type { OpsReport } from './ops/ops-report.js';
import { renderAlertRules } from './ops/alert-rules.js';
import { loadOpsConfig } from './ops/ops-config.js';
import { renderReportHtml } from './ops/report-html.js';
import { renderTop } from './ops/top-view.js';

/** A start flag from the options table, with its environment variable and default in the help. */
function optionFor(key: keyof GatewayOptions): Option {
  const spec = OPTION_SPECS.find((s) => s.key === key && s.flag)!;
  const fallback = (DEFAULT_OPTIONS as Partial<Record<keyof GatewayOptions, unknown>>)[key];
  const notes = [spec.env && `env ${spec.env}`, fallback !== undefined && `default ${String(fallback)}`].filter(Boolean).join(', ');
  const option = new Option(spec.flag!, notes ? `${spec.help} (${notes})` : spec.help);
  // A switch (no <value>) is simply present; only valued flags are parsed.
  return spec.flag!.includes('<') ? option.argParser(commanderParser(spec.parse)) : option;
}

/** The data dir as the SDK resolves it: the flag, else TEDDY_DATA_DIR, else .teddycache. */
const dataDir = (given: string | undefined): string => resolveConfig({ dataDir: given }).dataDir;
interface RegistryFlags {
  dataDir?: string;
  redisUrl?: string;
  redisClusterNodes?: string[];
}
/** Runs a registry command against the fleet's Redis (or the data dir's embedded one). */
const cliLog = () => pino({ name: 'teddycache', level: 'warn' }, pino.destination(2));
const withRegistry = <T>(flags: RegistryFlags, use: (registry: DeviceRegistry) => Promise<T>): Promise<T> =>
  withDeviceRegistry(flags, cliLog(), use);
/** Runs a token command against the fleet's Redis. */
const withTokens = <T>(flags: RegistryFlags, use: (tokens: AdminTokens) => Promise<T>): Promise<T> =>
  withFleetRedis(flags, cliLog(), ({ client, keys }) => use(createAdminTokens({ client, keys })));

/** Exit code of a usage error: commander's parse errors, which it has already printed with the usage. */
const EXIT_USAGE = 2;

/** The package's version: the package.json above this file (gateway/ in the source tree, dist/gateway/ compiled). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    let pkg: { name?: string; version?: string };
    try {
      pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof pkg;
    } catch {
      continue; // none here: look one level up
    }
    if (pkg.name === 'teddycache' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

// Subcommands inherit exitOverride: commander throws its parse errors (and help) instead of exiting 1.
const program = new Command('teddycache')
  .description('The teddycache gateway: the bear\'s CBOR-over-MQTT server with device auth, L3 clip origin and warm pushes.')
  .version(packageVersion(), '-V, --version', 'print the version')
  .showHelpAfterError()
  .exitOverride();

const start = program.command('start').description('start the gateway (SIGINT/SIGTERM shut it down gracefully; SIGHUP reloads the TLS certificate)');
// Commander names a flag's value after the flag (--rate-limit -> rateLimit); the table after the option.
const startFlags = OPTION_SPECS.filter((s) => s.flag).map((s) => ({ key: s.key, option: optionFor(s.key) }));
for (const { option } of startFlags) start.addOption(option);
start
  .option('--ready-json', 'print one JSON line {"event":"ready",...} to stdout when listening; logs go to stderr')
  .action(async (flags: Record<string, unknown> & { readyJson?: boolean }) => {
    const { readyJson } = flags;
    const options = Object.fromEntries(startFlags.map(({ key, option }) => [key, flags[option.attributeName()]])) as Partial<GatewayOptions>;
    const resolved = resolveOptions(options);
    const logger = pino({ name: 'teddy-gateway', level: resolved.logLevel }, pino.destination(readyJson ? 2 : 1));
    if (isWorker()) return runWorker(options, logger.child({ worker: process.pid }));
    if (resolved.workers > 1) {
      return runPrimary({
        given: options,
        count: resolved.workers,
        logger: logger.child({ primary: process.pid }),
        onReady: ({ mqttWsUrl, mqttWssUrl, ...ready }) =>
          process.stdout.write(readyJson
            ? `${JSON.stringify({ ...ready, mqttWsUrl, mqttWssUrl })}
`
            : `teddycache gateway: ${ready.workers.length} workers, MQTT ${ready.mqttsUrl} and ${mqttWssUrl}, HTTPS ${ready.httpsUrl} (CA ${ready.caFile}); ` +
              `plaintext MQTT ${ready.mqttUrl} and ${mqttWsUrl}, HTTP ${ready.httpUrl} (Ctrl-C to stop)
`),
      });
    }
    const signals = holdStopSignals(logger);
    const gateway = await startGateway({ ...options, logger });
    signals.handOver(exitWhenClosed(() => gateway.close(), logger, 'shutting down'));
    // A failed reload is logged and the previous certificate kept.
    process.on('SIGHUP', () => void gateway.reloadTls().catch(() => undefined));
    if (readyJson) {
      const { mqttUrl, httpUrl, mqttWsUrl, mqttsUrl, httpsUrl, mqttWssUrl, caFile } = gateway;
      process.stdout.write(`${JSON.stringify({ event: 'ready', mqttUrl, httpUrl, pid: process.pid, mqttsUrl, httpsUrl, caFile, mqttWsUrl, mqttWssUrl })}\n`);
    } else {
      process.stdout.write(
        `teddycache gateway: MQTT ${gateway.mqttsUrl} and ${gateway.mqttWssUrl}, HTTPS ${gateway.httpsUrl} (CA ${gateway.caFile}); ` +
          `plaintext MQTT ${gateway.mqttUrl} and ${gateway.mqttWsUrl}, HTTP ${gateway.httpUrl} (Ctrl-C to stop)\n`,
      );
    }
  });

const dataDirOption = () => optionFor('dataDir');
const redisUrlOption = () => optionFor('redisUrl');
const redisClusterOption = () => optionFor('redisClusterNodes');

/** Where the admin commands reach a gateway: the data dir's running one, or one named by URL, with any token. */
interface GatewayTarget {
  dataDir?: string;
  gatewayUrl?: string;
  token?: string;
  ca?: string;
}
/** --gateway-url, --token and --ca, for the commands that call a running gateway's admin API. */
function addTargetOptions(command: Command): Command {
  return command
    .addOption(dataDirOption())
    .addOption(new Option('--gateway-url <url>', 'a gateway\'s HTTP(S) origin, e.g. https://gw.example:8443 (default: the one running on the data dir)').env('TEDDY_GATEWAY_URL').argParser(commanderParser(httpUrl)))
    .addOption(new Option('--token <token>', 'admin token (role read, or admin for warm); prefer the variable, a flag shows in `ps` (default: the data dir\'s admin-token)').env('TEDDY_ADMIN_TOKEN'))
    .addOption(new Option('--ca <file>', 'CA file to trust for an https --gateway-url (default: the system\'s)'));
}

const device = program.command('device').description('manage the device registry (secrets are stored as scrypt hashes)');
device
  .command('add <id>')
  .description('enrol a bear (or re-key it); prints its secret once, or with --cert issues its client certificate')
  .option('--secret <secret>', 'use this secret instead of generating one')
  .option('--cert', 'log in with a client certificate from the fleet CA instead of a secret (mutual TLS); writes its cert and key files')
  .option('--out <dir>', 'where --cert writes ID.pem and ID-key.pem (default: the data dir\'s device-certs/)')
  .option('--json', 'print {"id","secret"} (with --cert: {"id","certFile","keyFile","caFile"}) as JSON')
  .addOption(dataDirOption())
  .addOption(redisUrlOption())
  .addOption(redisClusterOption())
  .action(async (id: string, flags: { secret?: string; cert?: boolean; out?: string; json?: boolean } & RegistryFlags) => {
    if (!flags.cert) {
      const added = await withRegistry(flags, (registry) => registry.add(id, flags.secret));
      await cliAudit(flags.dataDir, 'device.add', id);
      process.stdout.write(flags.json ? `${JSON.stringify(added)}\n` : `added ${added.id}\nsecret (shown once): ${added.secret}\n`);
      return;
    }
    if (flags.secret) throw new Error('--cert and --secret exclude each other: a certificate bear has no usable secret');
    if (!isValidDeviceId(id)) throw new RangeError('device id must be 1-64 characters of [A-Za-z0-9_-]');
    const dir = dataDir(flags.dataDir);
    const issued = await issueDeviceCertificate(dir, id, flags.out ?? join(dir, DEVICE_CERT_DIR));
    // A random secret nobody sees: this bear logs in with its certificate only.
    await withRegistry(flags, (registry) => registry.add(id, undefined, { certSha256: issued.sha256 }));
    await cliAudit(flags.dataDir, 'device.add', id);
    const { certFile, keyFile, caFile } = issued;
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ id, certFile, keyFile, caFile })}\n`
        : `added ${id} (logs in with its certificate, no secret)\ncertificate: ${certFile}\nkey (keep secret, copy to the bear): ${keyFile}\nCA the bear trusts: ${caFile}\n`,
    );
  });
device
  .command('remove <id>')
  .description('remove a bear from the registry (and disconnect it from every gateway)')
  .addOption(dataDirOption())
  .addOption(redisUrlOption())
  .addOption(redisClusterOption())
  .action(async (id: string, flags: RegistryFlags) => {
    const removed = await withRegistry(flags, (registry) => registry.remove(id));
    const valid = isValidDeviceId(id);
    await cliAudit(flags.dataDir, 'device.remove', valid ? id : undefined, removed ? 'ok' : 'not-found');
    if (!removed) throw new Error(valid ? `no device ${id}` : 'no such device');
    // Its certificate files, where `device add --cert` put them by default (the registry no longer accepts it anyway).
    const certs = join(dataDir(flags.dataDir), DEVICE_CERT_DIR);
    await Promise.all([`${id}.pem`, `${id}-key.pem`].map((f) => rm(join(certs, f), { force: true })));
    process.stdout.write(`removed ${id}\n`);
  });
device
  .command('list')
  .description('list enrolled bears')
  .option('--json', 'print JSON')
  .addOption(dataDirOption())
  .addOption(redisUrlOption())
  .addOption(redisClusterOption())
  .action(async (flags: { json?: boolean } & RegistryFlags) => {
    const devices = await withRegistry(flags, (registry) => registry.list());
    if (flags.json) process.stdout.write(`${JSON.stringify(devices)}\n`);
    else for (const d of devices) process.stdout.write(`${d.id}\t${d.createdAt}\n`);
  });

const token = program.command('token').description('admin tokens for the HTTP admin API (Authorization: Bearer TOKEN), kept in the fleet\'s Redis');
token
  .command('create')
  .description('make a token; prints it once, with its id')
  .addOption(new Option('--role <role>', 'read: stats, health, metrics, report; admin: also devices, warm, erase').choices([...ROLES]).makeOptionMandatory())
  .option('--json', 'print {"id","role","token"} as JSON')
  .addOption(dataDirOption())
  .addOption(redisUrlOption())
  .addOption(redisClusterOption())
  .action(async (flags: { role: Role; json?: boolean } & RegistryFlags) => {
    const made = await withTokens(flags, (tokens) => tokens.create(flags.role));
    await cliAudit(flags.dataDir, 'token.create', made.id);
    process.stdout.write(
      flags.json
        ? `${JSON.stringify({ id: made.id, role: made.role, token: made.token })}\n`
        : `id: ${made.id}\nrole: ${made.role}\ntoken (shown once): ${made.token}\n`,
    );
  });
token
  .command('revoke <idOrToken>')
  .description('revoke a token by the id printed at creation, or by the token itself')
  .addOption(dataDirOption())
  .addOption(redisUrlOption())
  .addOption(redisClusterOption())
  .action(async (idOrToken: string, flags: RegistryFlags) => {
    const id = await withTokens(flags, (tokens) => tokens.revoke(idOrToken));
    await cliAudit(flags.dataDir, 'token.revoke', id, id ? 'ok' : 'not-found');
    if (!id) throw new Error('no such token');
    process.stdout.write(`revoked ${id}\n`);
  });
token
  .command('list')
  .description('list tokens (ids and roles, never the tokens)')
  .option('--json', 'print JSON')
  .addOption(dataDirOption())
  .addOption(redisUrlOption())
  .addOption(redisClusterOption())
  .action(async (flags: { json?: boolean } & RegistryFlags) => {
    const tokens = await withTokens(flags, (t) => t.list());
    if (flags.json) process.stdout.write(`${JSON.stringify(tokens)}\n`);
    else for (const t of tokens) process.stdout.write(`${t.id}\t${t.role}\t${t.createdAt}\n`);
  });

program
  .command('erase <deviceId>')
  .description('erase everything derived from a bear\'s input, from every layer and gateway (COPPA, GDPR-K); prints what it removed per layer')
  .option('--json', 'print the report as JSON')
  .addOption(dataDirOption())
  .addOption(redisUrlOption())
  .addOption(redisClusterOption())
  .action(async (deviceId: string, flags: { json?: boolean } & RegistryFlags) => {
    const dir = dataDir(flags.dataDir);
    if (!isValidDeviceId(deviceId)) {
      await cliAudit(flags.dataDir, 'device.erase', undefined, 'invalid');
      throw new InvalidDeviceIdError();
    }
    const log = cliLog();
    const report = await withFleetRedis(flags, log, async ({ client, keys, cacheConfig }) => {
      const cache = await createCache({ ...cacheConfig, logger: log });
      try {
        const announce = (kind: string, body: unknown) => publishControl(client, keys.broadcast, { kind, from: 'cli', body });
        const urlKey = process.env.TEDDY_URL_KEY || (await readSecret(dir, 'url-key'));
        return await createEraser({
          cache, client, keys, dataDir: dir, log,
          registry: createDeviceRegistry({ client, keys, announce: (change) => announce('device', change) }),
          store: createBearStore(client, keys, log),
          cipher: urlKey ? createTextCipher(urlKey) : undefined,
          forgetEverywhere: (id, clips) => announce('erase', { deviceId: id, clips }),
        }).erase(deviceId);
      } finally {
        await cache.close();
      }
    });
    const erasedBefore = !report.found && (await createAuditLog(dir).happened('device.erase', deviceId));
    await cliAudit(flags.dataDir, 'device.erase', deviceId, report.found || erasedBefore ? 'ok' : 'not-found');
    process.stdout.write(flags.json ? `${JSON.stringify({ ...report, ...(erasedBefore ? { alreadyErased: true } : {}) })}\n` : `${describeErasure(report)}\n`);
    if (!report.found && !erasedBefore) throw new Error(`nothing of ${deviceId} was found anywhere: no such device`);
    if (erasedBefore && !flags.json) process.stdout.write('(erased before: nothing left)\n');
  });

/** Records a command run on the data dir in its audit log (who: cli). */
async function cliAudit(given: string | undefined, action: string, target: string | undefined, outcome: AuditOutcome = 'ok'): Promise<void> {
  await createAuditLog(dataDir(given)).record({ who: 'cli', what: action, target, outcome });
}

addTargetOptions(program
  .command('warm')
  .description('push warm manifests now, through the running gateway')
  .option('--device <id>', 'only this bear (default: every connected bear)'))
  .action(async (flags: { device?: string } & GatewayTarget) => {
    const { pushed } = (await admin(flags, 'POST', '/admin/warm', flags.device)) as { pushed: number };
    process.stdout.write(`pushed ${pushed} warm manifest${pushed === 1 ? '' : 's'}\n`);
  });

addTargetOptions(program
  .command('stats')
  .description('print the running gateway\'s bear, flash, clip and cache statistics as JSON')
  .option('--device <id>', 'one bear: its budget, held clips, warm sequence and last flash stats'))
  .action(async (flags: { device?: string } & GatewayTarget) => {
    process.stdout.write(`${JSON.stringify(await admin(flags, 'GET', '/admin/stats', flags.device), null, 2)}\n`);
  });

addTargetOptions(program
  .command('report')
  .description('write the fleet\'s operations report (SLOs, alerts, recommendations, trends, capacity, cost, charts) as self-contained HTML and JSON')
  .option('--out <dir>', 'directory for report.html and report.json', 'reports'))
  .action(async (flags: { out: string } & GatewayTarget) => {
    const report = (await admin(flags, 'GET', '/admin/ops/report')) as OpsReport;
    const out = resolve(flags.out);
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(join(out, 'report.html'), renderReportHtml(report));
    process.stdout.write(`${join(out, 'report.html')}\n${join(out, 'report.json')}\n`);
  });

program
  .command('alert-rules')
  .description('print the Prometheus alerting rules for an operations config (its thresholds, windows and severities; disabled rules left out)')
  .addOption(optionFor('sloConfig'))
  .option('--out <file>', 'write them to this file instead of stdout')
  .action(async (flags: { sloConfig?: string; out?: string }) => {
    const given = { sloConfig: flags.sloConfig };
    const rules = renderAlertRules(await loadOpsConfig(resolveOptions(given).sloConfig, optionSource('sloConfig', given)));
    if (flags.out) {
      await writeFile(flags.out, rules);
      process.stdout.write(`${resolve(flags.out)}\n`);
    } else {
      process.stdout.write(rules);
    }
  });

const SEVERITIES = ['warning', 'critical'] as const;
addTargetOptions(program
  .command('health')
  .description('print the fleet\'s health and firing alerts; exit 1 when unhealthy (a critical alert fires), for use as a probe')
  .option('--json', 'print the health view as JSON')
  .addOption(new Option('--fail-on <severity>', 'lowest alert severity that makes the exit code 1').choices(SEVERITIES).default('critical')))
  .action(async (flags: { json?: boolean; failOn: (typeof SEVERITIES)[number] } & GatewayTarget) => {
    const h = (await admin(flags, 'GET', '/admin/ops/health')) as HealthView;
    const failing = h.firing.some((a) => flags.failOn === 'warning' || a.severity === 'critical');
    if (flags.json) process.stdout.write(`${JSON.stringify(h, null, 2)}\n`);
    else {
      const lines = [
        `${failing ? 'UNHEALTHY' : 'healthy'}: ${h.status} — ${h.fleet.live} live process${h.fleet.live === 1 ? '' : 'es'}, ${h.fleet.bears} bears; cache ${h.cache.status}, L2 ${h.cache.l2.enabled ? `${h.cache.l2.connected ? 'connected' : 'disconnected'}, breaker ${h.cache.l2.breaker}` : 'off'}`,
        ...(h.fleet.notice ? [h.fleet.notice] : []),
        h.firing.length === 0 ? 'no alerts firing' : `${h.firing.length} alert${h.firing.length === 1 ? '' : 's'} firing:`,
        ...h.firing.map((a) => `  ${a.severity.toUpperCase()} ${a.alert}${a.labels.slo ? ` (${a.labels.slo})` : ''} since ${new Date(a.since).toISOString()}: ${a.summary} [${a.instance}]`),
        ...h.slos.filter((s) => s.window === '5m' && s.compliant === false).map((s) => `  SLO not met over 5 min: ${s.target} (${((s.sli ?? 0) * 100).toFixed(2)} %)`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    if (failing) process.exitCode = 1;
  });

addTargetOptions(program
  .command('top')
  .description('live view of the running gateway and its fleet (bears, requests/s, hit rate per layer, latency, memory, alerts), refreshed every second; q quits')
  .addOption(new Option('--interval-ms <n>', 'refresh period').argParser(commanderParser(integerIn(100, 60_000))).default(1000))
  .addOption(new Option('--iterations <n>', 'stop after this many frames (0 = until q or Ctrl-C)').argParser(commanderParser(nonNegativeInteger)).default(0)))
  .action(async (flags: { intervalMs: number; iterations: number } & GatewayTarget) => {
    const tty = process.stdout.isTTY === true;
    let stop = false;
    const restore = (): void => {
      if (process.stdin.isTTY) process.stdin.setRawMode(false);
      process.stdin.pause();
      if (tty) process.stdout.write('\x1b[?25h\x1b[?1049l');
    };
    if (process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stdin.on('data', (key: Buffer) => {
        if (key[0] === 0x71 || key[0] === 0x51 || key[0] === 0x03) stop = true; // q, Q, Ctrl-C
      });
    }
    process.once('SIGINT', () => (stop = true));
    process.once('SIGTERM', () => (stop = true));
    if (tty) process.stdout.write('\x1b[?1049h\x1b[?25l');
    let previous: LiveView | undefined;
    let first = true;
    try {
      for (let frame = 1; !stop && (flags.iterations === 0 || frame <= flags.iterations); frame++) {
        let lines: string[];
        try {
          const live = (await admin(flags, 'GET', '/admin/ops/live')) as LiveView;
          lines = renderTop(previous, live);
          previous = live;
        } catch (err) {
          // The first frame must reach a gateway; later, a restart or a blip is shown and retried.
          if (first) throw err;
          lines = [`teddycache top — ${new Date().toISOString()}`, '', `gateway unreachable: ${(err as Error).message}; retrying`];
        }
        first = false;
        process.stdout.write(`${tty ? '\x1b[H\x1b[2J' : ''}${lines.join('\n')}\n`);
        for (let waited = 0; waited < flags.intervalMs && !stop; waited += 50) await sleep(Math.min(50, flags.intervalMs - waited));
      }
    } finally {
      restore();
    }
  });

/**
 * Calls a gateway's admin endpoint (for one bear if `device`): the one `--gateway-url` names, else
 * the one running on the data dir (its `gateway.json`), with `--token`, else the data dir's admin token.
 */
async function admin(target: GatewayTarget, method: string, path: string, device?: string): Promise<unknown> {
  const dir = dataDir(target.dataDir);
  let origin = target.gatewayUrl;
  if (origin === undefined) {
    try {
      origin = (JSON.parse(await readFile(join(dir, RUNTIME_FILE), 'utf8')) as { httpUrl: string }).httpUrl;
    } catch {
      throw new Error(`no running gateway found in ${dir} (start one with: teddycache start --data-dir ${dir}, or name one with --gateway-url)`);
    }
  }
  const token = target.token ?? (await readSecret(dir, ADMIN_TOKEN_FILE));
  if (!token) throw new Error(`no admin token: give --token (or TEDDY_ADMIN_TOKEN), or run on the gateway's data dir (${dir} has none)`);
  const url = new URL(`${path}${device ? `?device=${encodeURIComponent(device)}` : ''}`, origin);
  const ca = target.ca ? await readFile(target.ca) : undefined;
  const { status, body } = await requestText(url, method, token, ca);
  if (status < 200 || status >= 300) throw new Error(`gateway answered ${status} ${body.trim()}`);
  return JSON.parse(body) as unknown;
}

/** One HTTP(S) request with a bearer token; `ca`: the only CA trusted for https. */
function requestText(url: URL, method: string, token: string, ca: Buffer | undefined): Promise<{ status: number; body: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers: { authorization: `Bearer ${token}` }, ...(ca ? { ca } : {}), timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE; // --help exits 0
    return;
  }
  process.stderr.write(`teddycache: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
