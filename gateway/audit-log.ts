/**
 * The audit log: `audit.log` in the data dir, one JSON line per admin
 * action or erase, its fields named as the security issue names them: `who`
 * (a token id, `local`, or `cli` for commands run on the data dir), `what`,
 * on which device id (`target`), `when`, and the `outcome` (ok, denied,
 * unauthorized, not-found, invalid, failed). Never a token, a secret or
 * anything a child said: the fields are fixed and the values are ids and
 * names. Appended (O_APPEND, so gateways and the CLI sharing a data dir do
 * not interleave within a line); past `maxBytes` the file is renamed to
 * audit.log.1 (older ones shift up to `keep`) and a new one begins.
 */
import { appendFile, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const AUDIT_FILE = 'audit.log';

export type AuditOutcome = 'ok' | 'denied' | 'unauthorized' | 'not-found' | 'invalid' | 'failed';

export interface AuditEntry {
  /** Token id, `local`, `cli`, or `anonymous` for a request without a valid token. */
  readonly who: string;
  /** e.g. `device.add`, `device.erase`, `warm`, `stats`, `token.create`. */
  readonly what: string;
  /** A device id or token id the action was about. */
  readonly target?: string;
  readonly outcome: AuditOutcome;
  /** The client's address, for HTTP requests. */
  readonly address?: string;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /** Whether this log (rotated files included) has a successful `what` on `target`. */
  happened(what: string, target: string): Promise<boolean>;
}

export interface AuditLogOptions {
  maxBytes?: number;
  keep?: number;
}

export function createAuditLog(dataDir: string, { maxBytes = 10 * 1024 * 1024, keep = 5 }: AuditLogOptions = {}): AuditLog {
  const path = join(dataDir, AUDIT_FILE);
  let queue: Promise<unknown> = Promise.resolve();

  const rotate = async (): Promise<void> => {
    const size = await stat(path).then((s) => s.size, () => 0);
    if (size < maxBytes) return;
    await rm(`${path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => undefined);
    await rename(path, `${path}.1`).catch(() => undefined);
  };

  return {
    record(entry) {
      const line = `${JSON.stringify({ when: new Date().toISOString(), who: entry.who, what: entry.what, target: entry.target, outcome: entry.outcome, address: entry.address })}\n`;
      const run = queue.then(async () => {
        await rotate();
        await appendFile(path, line, { mode: 0o600 });
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async happened(what, target) {
      const needle = `"what":${JSON.stringify(what)},"target":${JSON.stringify(target)},"outcome":"ok"`;
      for (const file of [path, ...Array.from({ length: keep }, (_, i) => `${path}.${i + 1}`)]) {
        if ((await readFile(file, 'utf8').catch(() => '')).includes(needle)) return true;
      }
      return false;
    },
  };
}
