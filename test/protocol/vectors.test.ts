// docs/vectors are the protocol's ground truth, shared with the firmware's tests.
// Each valid vector must decode to its JSON and re-encode to the same bytes; an
// independent CBOR library (cbor2) confirms the bytes are deterministic CBOR.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cdeDecodeOptions, decode as independentDecode } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, messageFromJson, messageToJson, ProtocolError } from '../../protocol/index.js';

const dir = join(import.meta.dirname, '..', '..', 'docs', 'vectors');
const names = (sub: string) => readdirSync(join(dir, sub)).filter((f) => f.endsWith('.cbor')).map((f) => f.slice(0, -5));
const read = (sub: string, name: string) => ({
  cbor: readFileSync(join(dir, sub, `${name}.cbor`)),
  json: JSON.parse(readFileSync(join(dir, sub, `${name}.json`), 'utf8')) as Record<string, unknown>,
});

describe('valid vectors', () => {
  const valid = names('.');
  it('cover every message type', () => {
    const types = new Set(valid.map((n) => read('.', n).json.type));
    expect([...types].sort()).toEqual(['answer', 'clip', 'clipGet', 'error', 'hello', 'stats', 'utterance', 'warm', 'warmAck', 'welcome']);
  });
  it.each(valid)('%s decodes to its JSON and re-encodes byte for byte', (name) => {
    const { cbor, json } = read('.', name);
    expect(messageToJson(decodeMessage(cbor))).toEqual(json);
    expect(encodeMessage(messageFromJson(json)).equals(cbor)).toBe(true);
  });
  it.each(valid)('%s is deterministic CBOR by an independent decoder', (name) => {
    expect(() => independentDecode(read('.', name).cbor, cdeDecodeOptions)).not.toThrow();
  });
});

describe('invalid vectors', () => {
  it.each(names('invalid'))('%s is rejected with its error code', (name) => {
    const { cbor, json } = read('invalid', name);
    const err = (() => {
      try {
        decodeMessage(cbor);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe(json.error);
  });
});
