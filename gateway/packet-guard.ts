/**
 * Packet limits before authentication. Aedes has no maximum packet size, and
 * its parser (mqtt-packet) buffers a packet's whole declared length — up to
 * 256 MiB — before the gateway sees anything: one unauthenticated client
 * announcing a huge CONNECT could make the gateway hold its body. The guard
 * reads only MQTT fixed headers (type byte + remaining-length varint) as
 * bytes enter the connection's stream, and ends the connection as soon as a
 * declared length is over the bound: the first packet (CONNECT) against
 * `maxConnectBytes`, every later one against `maxPacketBytes`.
 *
 * It sits on the stream's `push`, the point where a transport (TCP, TLS,
 * the WebSocket stream) hands received bytes to the reader, so a refused
 * chunk is never queued for Aedes, and an accepted chunk goes on untouched —
 * no copy, no second stream layer. The cost is a few comparisons per packet
 * plus one skip per chunk of body. `onFirstPacket` fires once the first
 * packet's header is within bounds, so the caller can leave a connection
 * without an MQTT client (Aedes's per-connection state) until then.
 */
import type { Readable } from 'node:stream';

export interface PacketLimits {
  /** Largest remaining length of the first packet (CONNECT). */
  readonly maxConnectBytes: number;
  /** Largest remaining length of any later packet. */
  readonly maxPacketBytes: number;
}

export type PacketRefusal = 'connect-too-large' | 'packet-too-large' | 'malformed-length';

/** MQTT's remaining length is at most 4 varint bytes. */
const MAX_LENGTH_BYTES = 4;

export interface GuardEvents {
  /** A packet over its bound: the stream is destroyed; the length declared so far (never any payload byte). */
  onRefuse(reason: PacketRefusal, declaredBytes: number): void;
  /** The first packet's fixed header is within bounds (called after its chunk is queued). */
  onFirstPacket?(): void;
}

/** Watches `stream`'s incoming bytes; on a packet over its bound, destroys the stream and tells `events.onRefuse` once. */
export function guardPackets(stream: Readable, limits: PacketLimits, events: GuardEvents): void {
  let packets = 0;
  /** Body bytes of the current packet still to pass. */
  let remaining = 0;
  /** Inside a fixed header: after the type byte, reading the length varint. */
  let inLength = false;
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let refused = false;

  const inspect = (chunk: Uint8Array): PacketRefusal | undefined => {
    let i = 0;
    while (i < chunk.length) {
      if (remaining > 0) {
        const skip = Math.min(remaining, chunk.length - i);
        remaining -= skip;
        i += skip;
        continue;
      }
      const byte = chunk[i++]!;
      if (!inLength) {
        inLength = true;
        length = 0;
        multiplier = 1;
        lengthBytes = 0;
        continue;
      }
      length += (byte & 0x7f) * multiplier;
      multiplier *= 0x80;
      lengthBytes++;
      const limit = packets === 0 ? limits.maxConnectBytes : limits.maxPacketBytes;
      // The length only grows with more varint bytes: refuse as soon as it is over.
      if (length > limit) return packets === 0 ? 'connect-too-large' : 'packet-too-large';
      if (byte & 0x80) {
        if (lengthBytes === MAX_LENGTH_BYTES) return 'malformed-length';
        continue;
      }
      inLength = false;
      packets++;
      remaining = length;
    }
    return undefined;
  };

  const push = stream.push;
  stream.push = function guardedPush(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (refused) return false;
    // null ends the stream; strings never come from these transports (no setEncoding on the writer side).
    const before = packets;
    if (chunk instanceof Uint8Array) {
      const reason = inspect(chunk);
      if (reason) {
        refused = true;
        events.onRefuse(reason, length);
        stream.destroy();
        return false;
      }
    }
    const queued = push.call(this, chunk, encoding);
    if (before === 0 && packets > 0) events.onFirstPacket?.();
    return queued;
  };
}
