/**
 * `npm run simulate -- --bears N --duration 60s ...`: a fleet of virtual bears
 * against a gateway, with a progress bar, a summary table and JSON + HTML
 * reports. Exit codes: 0 done, 1 the run failed, 2 bad arguments, 3 the run finished
 * but is unhealthy: the report does not add up, the gateway crashed, fewer than 95% of the
 * bears connected or more than 5% of the requests went unanswered.
 */
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { DEFAULT_LAUNCH, launchSimulation } from './launch.js';
import { nonNegative, nonNegativeInt, parseDuration, parsePercentList, parseStorm, positiveInt } from './cli-args.js';
import { checkReport } from './report.js';
import type { Progress } from './simulation.js';
import { summaryTable } from './summary-table.js';
import { DEFAULT_TRAFFIC, type StormSpec } from './traffic-model.js';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_UNHEALTHY = 3;
/** Below this share of bears connected, or above this share of requests unanswered, the figures describe a broken run. */
const MIN_CONNECTED = 0.95;
const MAX_UNANSWERED = 0.05;

function progressReporter(): { update(p: Progress): void; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: '{phase} [{bar}] {percentage}% | online {online}/{bears} | utterances {utterances} | answered {answered}', hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let phase = '';
    return {
      update(p) {
        if (p.phase !== phase) {
          if (phase) bar.stop();
          phase = p.phase;
          bar.start(100, 0, { phase: p.phase.padEnd(7) });
        }
        bar.update(Math.round(100 * Math.min(1, p.done)), { ...p, phase: p.phase.padEnd(7) });
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  return {
    update(p) {
      if (Date.now() - last < 5000 && p.done < 1) return;
      last = Date.now();
      process.stderr.write(`${p.phase} ${(100 * Math.min(1, p.done)).toFixed(0)}% online ${p.online}/${p.bears} utterances ${p.utterances} answered ${p.answered}\n`);
    },
    stop() {},
  };
}

async function main(argv: string[]): Promise<number> {
  const program = new Command('simulate')
    .description('Run a fleet of virtual bears against a teddycache gateway and report what each cache layer served.')
    .option('--bears <n>', 'number of virtual bears', positiveInt, DEFAULT_LAUNCH.bears)
    .addOption(new Option('--duration <time>', 'length of the traffic phase (e.g. 60s, 2m)').argParser(parseDuration).default(DEFAULT_LAUNCH.durationMs, '60s'))
    .option('--skew <s>', 'Zipf exponent of phrase popularity', nonNegative, DEFAULT_LAUNCH.skew)
    .option('--seed <n>', 'seed of the traffic model (same seed, same trace)', positiveInt, DEFAULT_LAUNCH.seed)
    .addOption(new Option('--mean-silence <time>', 'mean silence between one bear\'s sessions at the bedtime peak').argParser(parseDuration).default(DEFAULT_TRAFFIC.meanSilenceMs, `${DEFAULT_TRAFFIC.meanSilenceMs / 1000}s`))
    .addOption(new Option('--mean-think <time>', 'mean think time between utterances of a session').argParser(parseDuration).default(DEFAULT_TRAFFIC.meanThinkMs, `${DEFAULT_TRAFFIC.meanThinkMs / 1000}s`))
    .option('--gateway-url <url>', 'MQTT URL of a running gateway (default: start one as a child process)')
    .option('--fleet-key <key>', 'fleet key of that gateway (device secrets are derived from it)', process.env.TEDDY_FLEET_KEY)
    .option('--redis-url <url>', 'L2 Redis for the gateway the simulator starts (default: the SDK starts its own)')
    .option('--gateways <n>', 'gateway processes on separate ports sharing one Redis (or --redis-cluster); bears spread over them and fail over', positiveInt, 1)
    .option('--workers <n>', 'worker processes per gateway (its --workers: shared ports, one fleet)', positiveInt, 1)
    .option('--redis-cluster', 'run the gateways on a local Redis Cluster (3 masters + 3 replicas) the simulator starts')
    .option('--provider-latency-ms <ms>', 'simulated AI provider latency of the gateway the simulator starts', nonNegativeInt)
    .option('--gateway-node-flags <flags>', 'Node.js flags for the gateway child instead of npm start\'s, e.g. "--max-semi-space-size=1"')
    .option('--gateway-from-source', 'run the gateway child with tsx from the TypeScript sources instead of compiled as npm start does')
    .option('--flash-kb <kb>', 'flash clip budget per bear, KiB', positiveInt, DEFAULT_LAUNCH.flashBudgetBytes / 1024)
    .option('--connect-rate <n>', 'new connections per second while the fleet comes online', positiveInt, DEFAULT_LAUNCH.connectRatePerS)
    .addOption(new Option('--storm <spec>', 'storm: drop[:P%]@T% (connections break), restart@T% (gateways restart), kill-gateway@T% (SIGKILL one gateway process or worker), kill-redis-master@T% (SIGKILL a cluster master); repeatable (default: drop:20%@50%)').argParser(parseStorm))
    .option('--no-storms', 'no reconnect storms')
    .addOption(new Option('--warm-push <at>', 'push warm manifests to every bear at T% of the run; repeatable (default: 40%)').argParser(parsePercentList))
    .addOption(new Option('--request-timeout <time>', 'per-attempt request timeout').argParser(parseDuration).default(DEFAULT_LAUNCH.requestTimeoutMs, '10s'))
    .option('--no-baselines', 'skip the no-cache and transport-floor probes')
    .option('--no-cdn-edge', 'send every clip download to the L3 origin (no modelled CDN edge)')
    .option('--tls', 'drive bears over MQTTS and clips over HTTPS, trusting the gateway\'s CA; the report adds what TLS costs (connect time, CPU, RSS)')
    .addOption(new Option('--out <dir>', 'directory for report.json, report.html and gateway.log').default(`reports/sim-${new Date().toISOString().replace(/[:.]/g, '-')}`, 'reports/sim-<time>'))
    .option('--quiet', 'no progress output')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    throw err;
  }
  const opts = program.opts<{
    bears: number; duration: number; skew: number; seed: number; meanSilence: number; meanThink: number; gatewayUrl?: string; fleetKey?: string; redisUrl?: string;
    gateways: number; workers: number; redisCluster?: boolean;
    providerLatencyMs?: number; gatewayNodeFlags?: string; gatewayFromSource?: boolean; flashKb: number; connectRate: number; storm?: StormSpec[]; storms: boolean; warmPush?: number[];
    requestTimeout: number; baselines: boolean; cdnEdge: boolean; tls?: boolean; out: string; quiet?: boolean;
  }>();
  if (opts.gatewayUrl && !opts.fleetKey) {
    process.stderr.write('simulate: --gateway-url needs --fleet-key (or TEDDY_FLEET_KEY)\n');
    return EXIT_USAGE;
  }
  const progress = opts.quiet ? undefined : progressReporter();
  try {
    const { report, jsonPath, htmlPath } = await launchSimulation({
      bears: opts.bears,
      durationMs: opts.duration,
      skew: opts.skew,
      seed: opts.seed,
      gatewayUrl: opts.gatewayUrl,
      fleetKey: opts.fleetKey,
      redisUrl: opts.redisUrl,
      gateways: opts.gateways,
      workers: opts.workers,
      redisCluster: opts.redisCluster ?? false,
      providerLatencyMs: opts.providerLatencyMs,
      gatewayNodeFlags: opts.gatewayNodeFlags?.split(/\s+/).filter(Boolean),
      gatewayFromSource: opts.gatewayFromSource,
      flashBudgetBytes: opts.flashKb * 1024,
      connectRatePerS: opts.connectRate,
      storms: opts.storms ? (opts.storm ?? DEFAULT_LAUNCH.storms) : [],
      warmPushes: opts.warmPush ?? DEFAULT_LAUNCH.warmPushes,
      meanSilenceMs: opts.meanSilence,
      meanThinkMs: opts.meanThink,
      requestTimeoutMs: opts.requestTimeout,
      baselines: opts.baselines,
      cdnEdge: opts.cdnEdge,
      tls: opts.tls,
      outDir: opts.out,
      onProgress: progress?.update,
      onNotice: (m) => process.stderr.write(`notice: ${m}\n`),
    });
    progress?.stop();
    process.stdout.write(`${summaryTable(report)}\n\nreport: ${jsonPath}\n        ${htmlPath}\n`);
    const problems = checkReport(report);
    for (const p of problems) process.stderr.write(`report does not add up: ${p}\n`);
    const unhealthy = [
      ...report.gateway.crashes.map((c) => `the gateway crashed at ${c.t.toFixed(0)} s (exit ${c.code ?? c.signal}); see gateway.log`),
      ...(report.connections.connected < MIN_CONNECTED * report.config.bears ? [`only ${report.connections.connected} of ${report.config.bears} bears connected`] : []),
      ...(report.requests.sent - report.requests.answered > MAX_UNANSWERED * report.requests.sent ? [`${report.requests.sent - report.requests.answered} of ${report.requests.sent} requests went unanswered`] : []),
    ];
    for (const u of unhealthy) process.stderr.write(`${u}\n`);
    return problems.length > 0 || unhealthy.length > 0 ? EXIT_UNHEALTHY : 0;
  } catch (err) {
    progress?.stop();
    process.stderr.write(`simulate: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  }
}

// Exit explicitly: a failed run can leave sockets or timers behind that would keep the process alive.
process.exit(await main(process.argv.slice(2)));
