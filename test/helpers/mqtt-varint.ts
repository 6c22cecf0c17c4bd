/**
 * MQTT's remaining-length varint (7 bits a byte, low first, high bit = more), for tests that build
 * raw packet headers by hand: the packet guard's unit tests and the socket-level limit tests.
 */
export function mqttVarint(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}
