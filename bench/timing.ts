/**
 * How the benchmarks time a loop: one operation at a time (ops/s and mean
 * latency), variants run in interleaved rounds with each one's median kept
 * (other work shares the machine, so a burst spreads over all variants), and
 * keys written with bounded concurrency before a timed phase.
 */

/** One operation at a time over `n` operations: ops/s and mean latency (µs). */
export async function sequential(n: number, op: (i: number) => Promise<unknown>): Promise<{ opsPerSec: number; meanUs: number }> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await op(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { opsPerSec: n / seconds, meanUs: (seconds * 1e6) / n };
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs every variant once per round, `count` rounds, interleaved, and keeps each one's median. */
export async function rounds<T extends string>(count: number, variants: Record<T, (round: number) => Promise<number>>): Promise<Record<T, number>> {
  const seen = Object.fromEntries(Object.keys(variants).map((k) => [k, [] as number[]])) as unknown as Record<T, number[]>;
  for (let r = 0; r < count; r++) {
    for (const [name, run] of Object.entries(variants) as [T, (round: number) => Promise<number>][]) seen[name].push(await run(r));
  }
  return Object.fromEntries(Object.entries(seen).map(([k, v]) => [k, median(v as number[])])) as Record<T, number>;
}

/** Writes keys with bounded concurrency. */
export async function fill(keys: readonly string[], write: (k: string) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < keys.length; i += 200) await Promise.all(keys.slice(i, i + 200).map(write));
}
