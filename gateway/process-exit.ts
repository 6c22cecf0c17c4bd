/**
 * How a gateway process ends when told to (a signal, its primary gone):
 * close what it runs, once however often it is told, then exit 0 — or 1,
 * logged, if closing failed. A stop signal that comes while the process is
 * still starting is held until it can close what it started: left to Node's
 * default, it would end the process at once and leave the redis-server it
 * had already spawned running with no one to stop it.
 */
import type { Logger } from 'pino';

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Returns the function to call with the reason to stop. */
export function exitWhenClosed(close: () => Promise<void>, logger: Logger, message: string): (why: string) => void {
  let stopping = false;
  return (why) => {
    if (stopping) return;
    stopping = true;
    logger.info({ why }, message);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
}

/** What holdStopSignals returns: started, hand the signals to `stop` (called at once if one came meanwhile). */
export interface HeldStopSignals {
  handOver(stop: (why: string) => void): void;
}

/**
 * Call before starting anything. Until `handOver`, the first of `signals` is only noted (and
 * logged); a second one ends the process as the signal would have, for a user who does not want to
 * wait for the start to finish.
 */
export function holdStopSignals(logger: Logger, signals: readonly StopSignal[] = ['SIGINT', 'SIGTERM']): HeldStopSignals {
  let pending: StopSignal | undefined;
  const hold = (signal: StopSignal): void => {
    if (pending === undefined) {
      pending = signal;
      logger.info({ signal }, 'stopping as soon as the start has finished (again to stop at once)');
      return;
    }
    for (const s of signals) process.off(s, hold);
    process.kill(process.pid, signal);
  };
  for (const s of signals) process.on(s, hold);
  return {
    handOver(stop) {
      for (const s of signals) {
        process.off(s, hold);
        process.on(s, stop);
      }
      if (pending !== undefined) stop(pending);
    },
  };
}
