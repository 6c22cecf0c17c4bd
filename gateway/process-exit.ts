/**
 * How a gateway process ends when told to (a signal, its primary gone):
 * close what it runs, once however often it is told, then exit 0 — or 1,
 * logged, if closing failed.
 */
import type { Logger } from 'pino';

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
