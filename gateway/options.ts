/**
 * Gateway configuration, in one table: every option's flag, environment
 * variable, parser, default and help line. Explicit options win over
 * environment variables, which win over the embedded defaults (enough for
 * `npm start`). The CLI builds its `start` flags from this table, and
 * resolveOptions reads and checks the environment here, once; a bad value is
 * an OptionError naming the flag or variable.
 *
 * The cache's own variables (REDIS_URL, TEDDY_DATA_DIR, TEDDY_CACHE_KEYS)
 * belong to the SDK (sdk/config.ts): the gateway passes its `--redis-url`,
 * `--data-dir` (and `--l1-max-size-mb`) to the SDK's config resolution and uses the result.
 */
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import { definedFields } from '../infra/defined-fields.js';
import { resolveConfig, type CacheConfig, type MultiLayerCache } from '../sdk/index.js';
import { exemptList } from './connection-limiter.js';
import { OptionError } from './errors.js';
import type { Provider } from './providers/provider.js';

export interface GatewayOptions {
  /** Plaintext MQTT listener port (loopback only unless allowPlaintext); 0 picks a free one. */
  mqttPort: number;
  /** Plaintext HTTP listener port (clip origin, /healthz, /metrics, admin, MQTT over WebSocket); 0 picks a free one. */
  httpPort: number;
  /** MQTT over TLS listener port; 0 picks a free one. */
  mqttsPort: number;
  /** HTTPS listener port (the HTTP side over TLS, MQTT over WSS); 0 picks a free one. */
  httpsPort: number;
  /** Listen address of the TLS listeners, and of the plaintext ones if it is loopback (or allowPlaintext). */
  host: string;
  /** Server certificate and key (PEM); default: issued by the data dir's fleet CA. */
  tlsCert?: string;
  tlsKey?: string;
  /** CA (PEM) clients trust for the server certificate and that issues device certificates, besides the data dir's fleet CA. */
  tlsCa?: string;
  /** Serve plaintext MQTT and HTTP on a non-loopback --host too. */
  allowPlaintext: boolean;
  /** /metrics needs a read (or admin) token. */
  metricsAuth: boolean;
  /** /metrics also has the GC duration histogram (costs CPU per collection: ./process-metrics.ts). */
  gcMetrics: boolean;
  /** Device registry, URL key, admin token, L3 blobs; default: the SDK's (TEDDY_DATA_DIR, else .teddycache). */
  dataDir?: string;
  /** Redis for the SDK's L2; default: the SDK's (REDIS_URL, else an embedded redis-server). */
  redisUrl?: string;
  /** Redis Cluster for L2 and fleet state instead (`host:port` or URLs); default: the SDK's (REDIS_CLUSTER_NODES). */
  redisClusterNodes?: string[];
  /** The SDK's L1 bound, MiB of encoded values; default: the SDK's (256). The ops runbook's knob for an evicting L1. */
  l1MaxSizeMb?: number;
  /** Enables fleet provisioning (./device-secret.ts). */
  fleetKey?: string;
  /** HMAC key of clip URLs; default: generated once and kept in the data dir. */
  urlKey?: string;
  /** Origin written into clip URLs (a CDN hostname in production); default: this gateway's HTTP URL. */
  publicUrl?: string;
  /** Lifetime of a signed clip URL, seconds. */
  urlTtlSeconds: number;
  /** Demo provider's delay per call, standing in for a cloud AI. */
  providerLatencyMs: number;
  /** Largest request payload accepted (announced to bears in welcome). */
  maxRequestBytes: number;
  /** Largest CONNECT packet (remaining length) accepted before authentication. */
  maxConnectBytes: number;
  /** Time a new connection has to complete its TLS handshake and its MQTT CONNECT (HTTP, HTTPS: its first request). */
  connectTimeoutMs: number;
  /** New MQTT connections per second per remote address; 0 = unlimited. */
  connectRatePerSecond: number;
  /** New MQTT connections a remote address may open at once. */
  connectBurst: number;
  /** Addresses and CIDR ranges the connection rate limit does not apply to. */
  connectRateExempt: string[];
  /** Sustained requests per second per bear (token bucket). */
  rateLimitPerSecond: number;
  /** Requests a bear may send at once. */
  rateLimitBurst: number;
  /** Voice when a bear names none or an unknown one. */
  defaultVoice: string;
  logLevel: string;
  /** Gateway processes sharing the ports (`start --workers`; the CLI's concern, not startGateway's). */
  workers: number;
  /** Use this cache instead of creating one (the gateway then does not close it). */
  cache?: MultiLayerCache;
  /** Use this provider instead of the demo provider. */
  provider?: Provider;
  /** Use this logger (the CLI sends logs to stderr); default: pino at logLevel to stdout. */
  logger?: Logger;
  /** Announce this process in `{dataDir}/gateway.json` for the CLI (default true; workers leave it to their primary). */
  writeRuntimeFile?: boolean;
  /** JSON file of SLO targets, health rules, provider price and webhook delivery (gateway/ops/ops-config.ts). */
  sloConfig?: string;
  /** URL that gets a JSON POST for every alert that fires or resolves. */
  alertWebhook?: string;
  /** How often each process samples its time series and evaluates the health rules, ms. */
  opsIntervalMs: number;
}

/** Parses one option value from text (a flag or an environment variable); throws with what it expected. */
type Parse<T> = (raw: string) => T;

export interface OptionSpec {
  readonly key: keyof GatewayOptions;
  /** Commander flag, e.g. `--mqtt-port <n>`; absent for options set only by environment (secrets). */
  readonly flag?: string;
  readonly env?: string;
  readonly parse: Parse<unknown>;
  readonly help: string;
}

export const DEFAULT_OPTIONS = {
  mqttPort: 1883,
  httpPort: 8080,
  mqttsPort: 8883,
  httpsPort: 8443,
  host: '127.0.0.1',
  allowPlaintext: false,
  metricsAuth: false,
  gcMetrics: false,
  urlTtlSeconds: 24 * 3600,
  providerLatencyMs: 250,
  maxRequestBytes: 64 * 1024,
  maxConnectBytes: 4096,
  connectTimeoutMs: 10_000,
  connectRatePerSecond: 20,
  connectBurst: 100,
  connectRateExempt: ['127.0.0.0/8', '::1'],
  rateLimitPerSecond: 10,
  rateLimitBurst: 20,
  defaultVoice: 'teddy',
  logLevel: 'info',
  workers: 1,
  opsIntervalMs: 5000,
} satisfies Partial<GatewayOptions>;

// --- value parsers (each names what it accepts) ---

export function integerIn(min: number, max: number): Parse<number> {
  return (raw) => {
    const n = Number(raw.trim());
    if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new Error(`must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    return n;
  };
}
export const port = integerIn(0, 65535);
export const nonNegativeInteger = integerIn(0, Number.MAX_SAFE_INTEGER);
export const positiveInteger = integerIn(1, Number.MAX_SAFE_INTEGER);
/** Any finite number ≥ 0 (fractions allowed: rates, skews). */
export function nonNegativeNumber(raw: string): number {
  const n = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`must be a number ≥ 0, got ${JSON.stringify(raw)}`);
  return n;
}
const text: Parse<string> = (raw) => {
  if (raw === '') throw new Error('must not be empty');
  return raw;
};
const url: Parse<string> = (raw) => {
  try {
    return new URL(raw).toString().replace(/\/$/, '');
  } catch {
    throw new Error(`must be a URL, got ${JSON.stringify(raw)}`);
  }
};
/** An http or https URL: a gateway's address for the admin commands, its public URL, the alert webhook. */
export const httpUrl: Parse<string> = (raw) => {
  const parsed = url(raw);
  if (!/^https?:/.test(parsed)) throw new Error(`must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  return parsed;
};
/** An environment switch: 1/true/yes or 0/false/no. */
const flag: Parse<boolean> = (raw) => {
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new Error(`must be 1/true/yes or 0/false/no, got ${JSON.stringify(raw)}`);
};
const nodeList: Parse<string[]> = (raw) => {
  const nodes = raw.split(',').map((n) => n.trim()).filter(Boolean);
  if (nodes.length === 0) throw new Error('must name at least one host:port');
  return nodes;
};
/** A process count, or `auto`: one per core this process may use. */
const workerCount: Parse<number> = (raw) => (raw.trim() === 'auto' ? availableParallelism() : integerIn(1, 1024)(raw));
/** Comma-separated addresses or CIDR ranges; empty = none. */
const addressList: Parse<string[]> = (raw) => {
  const entries = raw.split(',').map((e) => e.trim()).filter(Boolean);
  exemptList(entries);
  return entries;
};
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const logLevel: Parse<string> = (raw) => {
  if (!LOG_LEVELS.includes(raw)) throw new Error(`must be one of ${LOG_LEVELS.join(', ')}`);
  return raw;
};

/** A parser as commander wants it: a bad value becomes a usage error naming the flag. */
export function commanderParser<T>(parse: Parse<T>): (raw: string) => T {
  return (raw) => {
    try {
      return parse(raw);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

/** Every option that can come from a flag or the environment. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  { key: 'mqttPort', flag: '--mqtt-port <n>', env: 'TEDDY_MQTT_PORT', parse: port, help: 'MQTT port, 0 = any free' },
  { key: 'httpPort', flag: '--http-port <n>', env: 'TEDDY_HTTP_PORT', parse: port, help: 'HTTP port (clips, /healthz, /metrics, admin, MQTT over WebSocket), 0 = any free' },
  { key: 'mqttsPort', flag: '--mqtts-port <n>', env: 'TEDDY_MQTTS_PORT', parse: port, help: 'MQTT over TLS port, 0 = any free' },
  { key: 'httpsPort', flag: '--https-port <n>', env: 'TEDDY_HTTPS_PORT', parse: port, help: 'HTTPS port (clips, admin, MQTT over WSS), 0 = any free' },
  { key: 'host', flag: '--host <host>', env: 'TEDDY_HOST', parse: text, help: 'listen address (plaintext listeners stay on loopback unless --allow-plaintext)' },
  { key: 'tlsCert', flag: '--tls-cert <file>', env: 'TEDDY_TLS_CERT', parse: text, help: 'server certificate, PEM (default: issued by the data dir\'s fleet CA)' },
  { key: 'tlsKey', flag: '--tls-key <file>', env: 'TEDDY_TLS_KEY', parse: text, help: 'server certificate\'s private key, PEM' },
  { key: 'tlsCa', flag: '--tls-ca <file>', env: 'TEDDY_TLS_CA', parse: text, help: 'CA of the server certificate and of device certificates, PEM (besides the data dir\'s fleet CA)' },
  { key: 'metricsAuth', flag: '--metrics-auth', env: 'TEDDY_METRICS_AUTH', parse: flag, help: '/metrics needs a read token (Authorization: Bearer TOKEN)' },
  { key: 'gcMetrics', flag: '--gc-metrics', env: 'TEDDY_GC_METRICS', parse: flag, help: '/metrics also times every garbage collection (nodejs_gc_duration_seconds; costs ~6 % CPU under load)' },
  { key: 'allowPlaintext', flag: '--allow-plaintext', env: 'TEDDY_ALLOW_PLAINTEXT', parse: flag, help: 'also serve plaintext MQTT/HTTP on a non-loopback --host' },
  { key: 'dataDir', flag: '--data-dir <dir>', parse: text, help: 'data directory (env TEDDY_DATA_DIR, default .teddycache)' },
  { key: 'redisUrl', flag: '--redis-url <url>', parse: text, help: 'Redis for L2 and the fleet state (env REDIS_URL; default: an embedded redis-server)' },
  { key: 'redisClusterNodes', flag: '--redis-cluster-nodes <list>', parse: nodeList, help: 'Redis Cluster instead, comma-separated host:port (env REDIS_CLUSTER_NODES)' },
  { key: 'l1MaxSizeMb', flag: '--l1-max-size-mb <n>', env: 'TEDDY_L1_MAX_SIZE_MB', parse: positiveInteger, help: 'the cache\'s L1 bound in this process, MiB of encoded values (default: the SDK\'s, 256)' },
  { key: 'fleetKey', flag: '--fleet-key <key>', env: 'TEDDY_FLEET_KEY', parse: text, help: 'accept fleet-derived device secrets' },
  { key: 'urlKey', env: 'TEDDY_URL_KEY', parse: text, help: 'HMAC key of clip URLs (default: generated once in the data dir)' },
  { key: 'publicUrl', flag: '--public-url <url>', env: 'TEDDY_PUBLIC_URL', parse: httpUrl, help: 'origin written into clip URLs, e.g. a CDN' },
  { key: 'urlTtlSeconds', flag: '--url-ttl-seconds <n>', env: 'TEDDY_URL_TTL_SECONDS', parse: positiveInteger, help: 'lifetime of a signed clip URL' },
  { key: 'providerLatencyMs', flag: '--provider-latency-ms <n>', env: 'TEDDY_PROVIDER_LATENCY_MS', parse: nonNegativeInteger, help: 'demo AI provider delay per call' },
  { key: 'maxRequestBytes', flag: '--max-request-bytes <n>', env: 'TEDDY_MAX_REQUEST_BYTES', parse: integerIn(1024, 256 * 1024), help: 'largest request payload accepted' },
  { key: 'maxConnectBytes', flag: '--max-connect-bytes <n>', env: 'TEDDY_MAX_CONNECT_BYTES', parse: integerIn(128, 65536), help: 'largest MQTT CONNECT accepted, read from its fixed header before authentication' },
  { key: 'connectTimeoutMs', flag: '--connect-timeout-ms <n>', env: 'TEDDY_CONNECT_TIMEOUT_MS', parse: integerIn(100, 600_000), help: 'time a new connection has for its TLS handshake and MQTT CONNECT (HTTP(S): its first request)' },
  { key: 'connectRatePerSecond', flag: '--connect-rate <n>', env: 'TEDDY_CONNECT_RATE', parse: nonNegativeNumber, help: 'new connections (MQTT, HTTP, WebSocket, with or without TLS) per second per address, 0 = unlimited' },
  { key: 'connectBurst', flag: '--connect-burst <n>', env: 'TEDDY_CONNECT_BURST', parse: positiveInteger, help: 'new connections an address may open at once' },
  { key: 'connectRateExempt', flag: '--connect-rate-exempt <list>', env: 'TEDDY_CONNECT_RATE_EXEMPT', parse: addressList, help: 'comma-separated addresses/CIDRs without a connection rate limit (e.g. your load balancer)' },
  { key: 'rateLimitPerSecond', flag: '--rate-limit <n>', env: 'TEDDY_RATE_LIMIT', parse: nonNegativeNumber, help: 'sustained requests per second per bear' },
  { key: 'rateLimitBurst', flag: '--rate-burst <n>', env: 'TEDDY_RATE_BURST', parse: positiveInteger, help: 'requests a bear may send at once' },
  { key: 'defaultVoice', flag: '--default-voice <name>', env: 'TEDDY_DEFAULT_VOICE', parse: text, help: 'voice for a bear naming none or an unknown one' },
  { key: 'logLevel', flag: '--log-level <level>', env: 'TEDDY_LOG_LEVEL', parse: logLevel, help: 'log level' },
  { key: 'sloConfig', flag: '--slo-config <file>', env: 'TEDDY_SLO_CONFIG', parse: text, help: 'JSON file of SLO targets, health rules and provider price (docs/operations.md)' },
  { key: 'alertWebhook', flag: '--alert-webhook <url>', env: 'TEDDY_ALERT_WEBHOOK', parse: httpUrl, help: 'POST every alert that fires or resolves to this URL as JSON' },
  { key: 'opsIntervalMs', flag: '--ops-interval-ms <n>', env: 'TEDDY_OPS_INTERVAL_MS', parse: integerIn(100, 600_000), help: 'how often the time series is sampled and the health rules evaluated, ms' },
  { key: 'workers', flag: '--workers <n>', env: 'TEDDY_WORKERS', parse: workerCount, help: 'gateway processes sharing the ports (node:cluster), or "auto" = one per available core' },
];

/**
 * Defaults, then the environment, then `given` (flags or a caller's options). Throws OptionError
 * for an environment variable that does not parse.
 */
export function resolveOptions(given: Partial<GatewayOptions> = {}, env: NodeJS.ProcessEnv = process.env): GatewayOptions {
  const fromEnv: Partial<Record<keyof GatewayOptions, unknown>> = {};
  for (const spec of OPTION_SPECS) {
    const raw = spec.env ? env[spec.env] : undefined;
    if (raw === undefined || raw === '') continue;
    try {
      fromEnv[spec.key] = spec.parse(raw);
    } catch (err) {
      throw new OptionError(spec.env!, (err as Error).message);
    }
  }
  return { ...DEFAULT_OPTIONS, ...fromEnv, ...definedFields(given) } as GatewayOptions;
}

/** How a user named where an option's value came from: its flag if `given` has it, else its environment variable. */
export function optionSource(key: keyof GatewayOptions, given: Partial<GatewayOptions>): string {
  const spec = OPTION_SPECS.find((s) => s.key === key)!;
  const flagName = spec.flag?.split(' ')[0];
  return given[key] !== undefined || spec.env === undefined ? (flagName ?? key) : spec.env;
}

/**
 * How long a compute lock held by a gateway that died (SIGKILL, a lost machine) keeps the other
 * gateways waiting before one of them computes. The SDK renews a live holder's lock every half
 * lease, so a short lease costs nothing while the holder lives; it must stay well under the
 * policies' hard timeouts (8 s for a transcription), or a request resent after a failover would
 * time out waiting for a dead process.
 */
export const GATEWAY_LOCK_LEASE_MS = 2000;

/** The SDK's configuration for this gateway's cache: its flags, then the SDK's own environment and defaults. */
export function cacheConfigFor(o: GatewayOptions, logger: Logger): CacheConfig {
  return resolveConfig({
    l2RedisUrl: o.redisUrl, l2ClusterNodes: o.redisClusterNodes, dataDir: o.dataDir, l1MaxSizeMb: o.l1MaxSizeMb, logger, lockLeaseMs: GATEWAY_LOCK_LEASE_MS,
  });
}
