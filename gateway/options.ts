/**
 * Gateway configuration: explicit options win over environment variables,
 * which win over the embedded defaults (which are enough for `npm start`).
 */
import type { Logger } from 'pino';
import type { MultiLayerCache } from '../sdk/index.js';
import type { Provider } from './providers/provider.js';
import type { RateLimitOptions } from './rate-limit.js';

export interface GatewayOptions {
  /** MQTT listener port; 0 picks a free one. */
  mqttPort: number;
  /** HTTP listener port (clip origin, /healthz, /metrics, admin); 0 picks a free one. */
  httpPort: number;
  host: string;
  /** Device registry, URL key, admin token, L3 blobs (when the gateway creates the cache). */
  dataDir: string;
  /** Redis for the SDK's L2; without it the SDK starts its own redis-server. */
  redisUrl?: string;
  /** Enables fleet provisioning (./device-secret.ts). */
  fleetKey?: string;
  /** HMAC key of clip URLs; default: generated once and kept in the data dir. */
  urlKey?: string;
  /** Origin written into clip URLs (a CDN hostname in production); default: this gateway's HTTP URL. */
  publicUrl?: string;
  /** Lifetime of a signed clip URL. */
  urlTtlSeconds: number;
  /** Demo provider's delay per call, standing in for a cloud AI. */
  providerLatencyMs: number;
  /** Largest request payload accepted (announced to bears in welcome). */
  maxRequestBytes: number;
  /** Per-bear request rate (token bucket). */
  rateLimit: RateLimitOptions;
  /** Voice when a bear names none or an unknown one. */
  defaultVoice: string;
  /** Use this cache instead of creating one (the gateway then does not close it). */
  cache?: MultiLayerCache;
  /** Use this provider instead of the demo provider. */
  provider?: Provider;
  logLevel: string;
  /** Use this logger (the CLI sends logs to stderr); default: pino at logLevel to stdout. */
  logger?: Logger;
}

export const DEFAULT_OPTIONS = {
  mqttPort: 1883,
  httpPort: 8080,
  host: '127.0.0.1',
  dataDir: '.teddycache',
  urlTtlSeconds: 24 * 3600,
  providerLatencyMs: 250,
  maxRequestBytes: 64 * 1024,
  rateLimit: { burst: 20, perSecond: 10 },
  defaultVoice: 'teddy',
  logLevel: 'info',
} satisfies Partial<GatewayOptions>;

/** Environment variables the gateway reads, and the option each sets. */
export const ENVIRONMENT = {
  TEDDY_MQTT_PORT: 'mqttPort',
  TEDDY_HTTP_PORT: 'httpPort',
  TEDDY_HOST: 'host',
  TEDDY_DATA_DIR: 'dataDir',
  REDIS_URL: 'redisUrl',
  TEDDY_FLEET_KEY: 'fleetKey',
  TEDDY_URL_KEY: 'urlKey',
  TEDDY_PUBLIC_URL: 'publicUrl',
  TEDDY_PROVIDER_LATENCY_MS: 'providerLatencyMs',
  TEDDY_LOG_LEVEL: 'logLevel',
} as const satisfies Record<string, keyof GatewayOptions>;

const NUMERIC = new Set<keyof GatewayOptions>(['mqttPort', 'httpPort', 'providerLatencyMs']);

export function resolveOptions(given: Partial<GatewayOptions> = {}, env: NodeJS.ProcessEnv = process.env): GatewayOptions {
  const fromEnv: Partial<Record<keyof GatewayOptions, string | number>> = {};
  for (const [name, option] of Object.entries(ENVIRONMENT) as [string, keyof GatewayOptions][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (NUMERIC.has(option)) {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
      fromEnv[option] = n;
    } else {
      fromEnv[option] = raw;
    }
  }
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  return { ...DEFAULT_OPTIONS, ...fromEnv, ...defined } as GatewayOptions;
}
