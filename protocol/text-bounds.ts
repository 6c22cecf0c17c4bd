/**
 * Text fields have byte bounds on the wire (the bear parses them into fixed
 * buffers). A sender with a longer text cuts it to the bound, on a character
 * boundary, rather than sending a message the peer must refuse.
 */
import { MESSAGE_FIELDS, type MessageTypeName } from './messages.js';

/** The byte bound of a text field of a message type (from the field table). */
export function textBound(type: MessageTypeName, field: string): number {
  const spec = MESSAGE_FIELDS[type].find((f) => f.name === field);
  if (spec?.type.kind !== 'tstr') throw new RangeError(`${type}.${field} is not a text field`);
  return spec.type.max;
}

/** `text` cut to at most `max` UTF-8 bytes, on a character boundary. */
export function fitUtf8(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let cut = Buffer.from(text).subarray(0, max).toString();
  // A character split by the cut decodes as U+FFFD; drop it.
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return cut;
}
