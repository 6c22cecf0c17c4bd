/**
 * A request's PUBACK and its cached answer leave the gateway in one write
 * (gateway/ack-with-answer.ts); a request whose answer is still being computed
 * is acknowledged at once, not when the answer comes; an event is acknowledged
 * as before. The writes are counted on the gateway's own socket for the bear
 * (a stream's `_write` takes one chunk, `_writev` the chunks of one uncork).
 */
import { createServer, Socket, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'aedes';
import { createAckWithAnswer } from '../../gateway/ack-with-answer.js';
import { createDemoProvider } from '../../gateway/providers/demo-provider.js';
import type { Provider } from '../../gateway/providers/provider.js';
import { deviceTopic, encodeMessage, type Answer } from '../../protocol/index.js';
import { startTestGateway, textUtterance, type TestBear, type TestGateway } from './harness.js';

const SLOW_PROMPT = 'tell me a slow story';
const SLOW_MS = 400;
const demo = createDemoProvider({ latencyMs: 0, log: pino({ level: 'silent' }) });
const provider: Provider = {
  ...demo,
  respond: async (text) => {
    if (text === SLOW_PROMPT) await sleep(SLOW_MS);
    return demo.respond(text);
  },
};

/** Every write the gateway's sockets make to the bear on `port`: the chunks each one carried. */
function watchWritesTo(port: number): { writes: Buffer[][]; stop(): void } {
  const writes: Buffer[][] = [];
  type Chunk = Buffer | string;
  const proto = Socket.prototype as unknown as {
    _write(chunk: Chunk, encoding: BufferEncoding, cb: () => void): void;
    _writev(chunks: { chunk: Chunk; encoding: BufferEncoding }[], cb: () => void): void;
  };
  const bytes = (chunk: Chunk, encoding: BufferEncoding): Buffer => (typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk);
  const { _write, _writev } = proto;
  proto._write = function (this: Socket, chunk, encoding, cb) {
    if (this.remotePort === port) writes.push([bytes(chunk, encoding)]);
    return _write.call(this, chunk, encoding, cb);
  };
  proto._writev = function (this: Socket, chunks, cb) {
    if (this.remotePort === port) writes.push(chunks.map((c) => bytes(c.chunk, c.encoding)));
    return _writev.call(this, chunks, cb);
  };
  return {
    writes,
    stop() {
      proto._write = _write;
      proto._writev = _writev;
    },
  };
}

const PUBACK = 0x40;
const PUBLISH_QOS1 = 0x32;
/** The MQTT packet types in a write, in order (the first byte of each packet, top four bits and flags). */
function packetTypes(chunks: Buffer[]): number[] {
  const bytes = Buffer.concat(chunks);
  const types: number[] = [];
  for (let at = 0; at < bytes.length; ) {
    types.push(bytes[at]! & 0xf6); // drop DUP and RETAIN
    let length = 0;
    let shift = 0;
    let i = at + 1;
    for (;;) {
      const b = bytes[i++]!;
      length += (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) break;
    }
    at = i + length;
  }
  return types;
}

let t: TestGateway;
let bear: TestBear;
let watch: ReturnType<typeof watchWritesTo> | undefined;
beforeAll(async () => {
  t = await startTestGateway({ provider });
  bear = await t.connectFleetBear('ack-bear');
});
afterEach(() => watch?.stop());
afterAll(() => t?.stop());

describe('PUBACK with the answer', () => {
  it('sends a cached answer in the same write as its PUBACK', async () => {
    await bear.request(textUtterance(1, 'what do bears eat')); // computed, and cached
    watch = watchWritesTo((bear.client.stream as Socket).localPort!);
    const answer = (await bear.request(textUtterance(2, 'what do bears eat'))) as Answer;
    expect(answer.type).toBe('answer');
    expect(watch.writes.map(packetTypes)).toEqual([[PUBACK, PUBLISH_QOS1]]);
  });

  it('acknowledges a request at once while its answer is still being computed', async () => {
    const acked: number[] = [];
    const started = Date.now();
    const onPacket = (packet: { cmd: string }) => {
      if (packet.cmd === 'puback') acked.push(Date.now() - started);
    };
    bear.client.on('packetreceive', onPacket);
    try {
      const answer = (await bear.request(textUtterance(3, SLOW_PROMPT), 5000)) as Answer;
      expect(answer.type).toBe('answer');
      expect(Date.now() - started).toBeGreaterThanOrEqual(SLOW_MS);
      expect(acked).toHaveLength(1);
      expect(acked[0]).toBeLessThan(40); // not held for the answer, nor until the sweep (50-100 ms)
    } finally {
      bear.client.off('packetreceive', onPacket);
    }
  });

  it('acknowledges an event, which has no answer, and keeps answering after it', async () => {
    watch = watchWritesTo((bear.client.stream as Socket).localPort!);
    await bear.client.publishAsync(deviceTopic('ack-bear', 'evt'), encodeMessage({ type: 'stats', flashHits: 1, flashMisses: 0, bytesUsed: 0, clipCount: 0, evictions: 0, maxEraseCount: 0, uptime: 1 }), { qos: 1 });
    expect(watch.writes.map(packetTypes)).toEqual([[PUBACK]]);
    watch.stop();
    const answer = (await bear.request(textUtterance(4, 'what do bears eat'))) as Answer;
    expect(answer.type).toBe('answer');
  });
});

describe('holds', () => {
  /** A connected loopback socket, as Aedes's client would hold it. */
  async function connection(): Promise<{ client: Client; socket: Socket; close(): void }> {
    const server = createServer((peer) => peer.resume());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = new Socket();
    await new Promise<void>((resolve) => socket.connect((server.address() as AddressInfo).port, '127.0.0.1', resolve));
    return { client: { conn: socket } as unknown as Client, socket, close: () => (socket.destroy(), server.close()) };
  }

  it('ends each hold once: unanswered at the end of its handling, answered once written', async () => {
    const c = await connection();
    try {
      const ack = createAckWithAnswer();
      const [a, b] = [{}, {}];
      ack.hold(c.client, a);
      ack.hold(c.client, b);
      expect(c.socket.writableCorked).toBe(2);
      ack.handle(c.client, a, () => undefined); // no answer
      expect(c.socket.writableCorked).toBe(1);
      let written: (() => void) | undefined;
      ack.handle(c.client, b, () => (written = ack.sent(c.client)));
      expect(ack.sent(c.client)).not.toBe(written); // outside the handler: not an answer
      expect(c.socket.writableCorked).toBe(1); // until Aedes has written it
      written!();
      expect(c.socket.writableCorked).toBe(0);
      written!(); // once only
      ack.handle(c.client, a, () => undefined); // a packet not held runs as is
      expect(c.socket.writableCorked).toBe(0);
    } finally {
      c.close();
    }
  });

  it('ends a hold whose handling never comes, within its bound', async () => {
    const c = await connection();
    try {
      createAckWithAnswer().hold(c.client, {});
      expect(c.socket.writableCorked).toBe(1);
      await sleep(150);
      expect(c.socket.writableCorked).toBe(0);
    } finally {
      c.close();
    }
  });
});
