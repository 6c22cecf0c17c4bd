/**
 * A tick's Redis commands, batched. Many bears' lookups resume in the same
 * event-loop turn (their replies arrive in one read), so what they send next
 * is sent together: the commands of a tick leave in one write (tickBatcher),
 * the tick's value reads as MGETs (readBatcher), and the tick's calls of a
 * multi-entry script as shared calls of it (scriptBatcher); a batch that
 * fills up (BATCH_ENTRIES) goes at once, so Redis need not wait for the
 * tick's end.
 * What one command costs in ioredis, more than in Redis, is then paid once
 * for all of them (measured: docs/sdk.md#benchmark). On a cluster, one
 * command's keys must share a slot, so reads and script calls are grouped
 * by hash-tag bucket (./key-layout.ts).
 */
import type { Socket } from 'node:net';
import { Cluster, type Redis } from 'ioredis';
import type { CallDeadlines } from './call-deadlines.js';
import type { Failed, RedisClient } from './l2.js';

/**
 * A batch is sent as soon as it holds this many entries (and at the tick's end with fewer), not
 * only once the tick is done: Redis then works on one while this process builds the next, so the
 * two work at the same time instead of in turn. Measured on 2 cores, misses at 32 in flight:
 * 15–17 k/s sending once a tick, 23–27 k/s sending at 8 (at 4 as much at best but unsteady, at
 * 16 21–22 k/s, at 2 15 k/s: the commands' own cost wins again). It also bounds how long one
 * command holds Redis's single thread.
 */
const BATCH_ENTRIES = 8;

/**
 * Sends a tick's batched reads and script calls once the tick's work is done (from
 * process.nextTick), or earlier when a batch fills up (`flush`), and holds the tick's other
 * commands back so they leave together: the sockets are corked at the tick's first direct
 * command (`hold`) and uncorked once the batches are sent, so every command issued meanwhile (by
 * all the callers resumed in the same turn) leaves in one writev, in call order, the batches
 * last. A tick of batched entries only is corked just while several are sent (they may be
 * several commands: a read and a script call, or, on a cluster, one per bucket); a lone entry is
 * written as it is, since corking every socket (a cluster's three masters) for one command cost a
 * lone read ~4 µs (measured: docs/sdk.md#benchmark). Why not ioredis's auto-pipelining: it
 * flushes at the next event-loop turn (setImmediate), which a lone lookup waits for (≈ 5 µs of a
 * 20 µs round trip here), builds a Pipeline per batch (half the throughput of this at 64
 * concurrent GETs, measured), and on a cluster groups a script whose key count is an argument by
 * the wrong slot.
 */
export interface TickBatcher {
  /** Sends the tick's batches at its end (once per tick): for a batched entry. */
  schedule(): void;
  /** Like `schedule`, and holds the sockets for the rest of the tick: for a direct command. */
  hold(): void;
  /** Sends what is batched so far now, and goes on holding if held: Redis starts on it while the tick goes on. */
  flush(): void;
}

/** `send` sends every batch; `queued` counts their entries. */
export function tickBatcher(client: RedisClient, send: () => void, queued: () => number): TickBatcher {
  let scheduled = false;
  let held = false;
  let corked: Socket[] = [];
  const corkNode = (node: Redis) => {
    if (!node.stream?.writable) return;
    node.stream.cork();
    corked.push(node.stream);
  };
  const cork = () => {
    // A cluster's commands go to its masters (reads included: scaleReads is 'master').
    if (client instanceof Cluster) for (const node of client.nodes('master')) corkNode(node);
    else corkNode(client);
  };
  const uncork = () => {
    for (const stream of corked) stream.uncork();
    corked = [];
  };
  /** Sends the batches; when the sockets are not held and there are several entries, in one write per socket. */
  const sendBatches = () => {
    const corkNow = !held && queued() > 1;
    if (corkNow) cork();
    try {
      send();
    } finally {
      if (corkNow) uncork();
    }
  };
  const release = () => {
    try {
      sendBatches(); // if held, what it sends joins the tick's direct commands in one write
    } finally {
      scheduled = false;
      held = false;
      uncork();
    }
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    process.nextTick(release);
  };
  return {
    schedule,
    hold() {
      schedule();
      if (held) return;
      held = true;
      cork();
    },
    flush() {
      sendBatches();
      if (!held) return;
      uncork();
      cork();
    },
  };
}

/** `items` split into the groups one command may carry: on a cluster, by the hash-tag bucket of each one's key. */
function commandGroups<T>(client: RedisClient, items: T[], keyOf: (item: T) => string): Iterable<T[]> {
  if (!(client instanceof Cluster) || items.length === 1) return [items];
  const byBucket = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    // The prefix has no braces (config.ts checks), so the first '}' closes the bucket.
    const bucket = key.slice(0, key.indexOf('}') + 1);
    const group = byBucket.get(bucket);
    if (group) group.push(item);
    else byBucket.set(bucket, [item]);
  }
  return byBucket.values();
}

/** A tick's queued entries of one kind: `push` one; `send` sends what is queued now, in command groups. */
interface BatchQueue<E> {
  push(entry: E): void;
  send(): void;
  readonly size: number;
}

/** Entries sent by `sendGroup`, one call per command group: `BATCH_ENTRIES` at a time (`full`), and the rest when the tick ends. */
function batchQueue<E>(client: RedisClient, keyOf: (entry: E) => string, sendGroup: (group: E[]) => void, full: () => void): BatchQueue<E> {
  let pending: E[] = [];
  return {
    push(entry) {
      if (pending.push(entry) >= BATCH_ENTRIES) full();
    },
    send() {
      if (pending.length === 0) return;
      const entries = pending;
      pending = [];
      for (const group of commandGroups(client, entries, keyOf)) sendGroup(group);
    },
    get size() {
      return pending.length;
    },
  };
}

interface PendingRead {
  readonly key: string;
  readonly resolve: (record: Buffer | null | Failed) => void;
}

export interface ReadBatcher {
  /** Queues one read, sent with the tick's others. */
  add(key: string): Promise<Buffer | null | Failed>;
  /** Sends the queued reads (tickBatcher calls it at the tick's end, and when a batch fills up). */
  send(): void;
  /** Reads queued and not yet sent. */
  readonly queued: number;
}

/** What a read batcher reports to, and what bounds its commands. */
export interface ReadBatcherHooks {
  readonly deadlines: CallDeadlines;
  /** What a failed read resolves to. */
  readonly failed: Failed;
  /** Once per command Redis answered. */
  readonly onSuccess: () => void;
  /** Once per command that failed or timed out, not once per key. */
  readonly onFailure: (err: Error) => void;
  /** A batch filled up (tickBatcher's `flush`). */
  readonly full: () => void;
}

/**
 * Gathers a tick's value reads and sends them, `BATCH_ENTRIES` at a time and the rest when the
 * tick ends: one GET for a lone read, else one MGET (per bucket on a cluster), bound by the
 * deadlines. A failed or timed-out read is `failed`.
 */
export function readBatcher(client: RedisClient, hooks: ReadBatcherHooks): ReadBatcher {
  const { onSuccess, onFailure, full } = hooks;
  const { watch } = hooks.deadlines;
  const sendGroup = (group: PendingRead[]) => {
    const fail = (err: unknown) => {
      onFailure(err as Error);
      for (const read of group) read.resolve(hooks.failed);
    };
    try {
      if (group.length === 1) {
        const [read] = group as [PendingRead];
        watch(client.getBuffer(read.key)).then((record) => {
          onSuccess();
          read.resolve(record);
        }, fail);
      } else {
        watch(client.mgetBuffer(group.map((read) => read.key))).then((records) => {
          onSuccess();
          for (let i = 0; i < group.length; i++) group[i]!.resolve(records[i] ?? null);
        }, fail);
      }
    } catch (err) {
      fail(err); // ioredis refusing synchronously (a cluster with no slot map yet)
    }
  };
  const queue = batchQueue(client, (read: PendingRead) => read.key, sendGroup, full);
  return {
    add: (key) => new Promise((resolve) => queue.push({ key, resolve })),
    send: queue.send,
    get queued() {
      return queue.size;
    },
  };
}

export type ScriptArg = string | number | Buffer;

interface PendingEntry {
  readonly keys: readonly string[];
  readonly args: readonly ScriptArg[];
  readonly resolve: (reply: unknown) => void;
  readonly reject: (err: Error) => void;
}

export interface ScriptBatcher {
  /** Queues one entry (its keys share a bucket; every entry has as many keys and arguments); its reply. */
  add(keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown>;
  /** Sends the queued entries now. */
  send(): void;
  /** Entries queued and not yet sent. */
  readonly queued: number;
}

/** A multi-entry script's command, in its two forms (./l2-scripts.ts scriptForms). */
export interface ScriptCommand {
  /** One entry: its keys, then its arguments; its reply (an error rejects). */
  one(keysThenArgs: ScriptArg[]): Promise<unknown>;
  /** Many: every entry's keys, then every entry's arguments, in entry order; one reply per entry. */
  many(numKeys: number, keysThenArgs: ScriptArg[]): Promise<unknown[]>;
}

/**
 * Gathers a tick's entries of one multi-entry script and sends them, `BATCH_ENTRIES` at a time and
 * the rest when the tick ends, as one call of it (per bucket on a cluster): a lone entry as
 * `one`, else `many`. An entry's own error (`many` returns it in that entry's place, a ReplyError
 * here) rejects that entry only; a failed or timed-out call (`deadlines`) rejects each of its entries.
 */
export function scriptBatcher(client: RedisClient, command: ScriptCommand, deadlines: CallDeadlines, full: () => void): ScriptBatcher {
  const { watch } = deadlines;
  const sendGroup = (group: PendingEntry[]) => {
    const fail = (err: unknown) => {
      for (const entry of group) entry.reject(err as Error);
    };
    try {
      if (group.length === 1) {
        const [entry] = group as [PendingEntry];
        watch(command.one([...entry.keys, ...entry.args])).then(entry.resolve, fail);
        return;
      }
      const keys: ScriptArg[] = [];
      const args: ScriptArg[] = [];
      for (const entry of group) {
        keys.push(...entry.keys);
        args.push(...entry.args);
      }
      watch(command.many(keys.length, keys.concat(args))).then((replies) => {
        for (let i = 0; i < group.length; i++) {
          const reply = replies[i];
          if (reply instanceof Error) group[i]!.reject(reply);
          else group[i]!.resolve(reply);
        }
      }, fail);
    } catch (err) {
      fail(err); // ioredis refusing synchronously (a cluster with no slot map yet)
    }
  };
  const queue = batchQueue(client, (entry: PendingEntry) => entry.keys[0]!, sendGroup, full);
  return {
    add: (keys, args) => new Promise((resolve, reject) => queue.push({ keys, args, resolve, reject })),
    send: queue.send,
    get queued() {
      return queue.size;
    },
  };
}
