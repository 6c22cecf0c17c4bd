/**
 * An answer's CBOR from parts that repeat: the clip map (made once per clip
 * and hour, ./clip-urls.ts) and the reply line (made once per line: replies
 * are the bear's lines, few and asked for again and again), spliced around
 * the request's correlation id and the answer's source. Byte for byte what
 * encodeMessage would produce (test/protocol/codec.test.ts checks).
 */
import { encodeFieldValue, encodeFromValues, encodeUint, fitUtf8, textBound } from '../protocol/index.js';
import type { ClipInfo } from './clip-catalog.js';
import type { ClipUrls } from './clip-urls.js';

const MAX_REPLY = textBound('answer', 'reply');
/** Reply lines kept encoded; past this the memo starts over (a phrasebook has far fewer). */
const MAX_REPLIES = 4096;

export function createAnswerEncoder(clipUrls: ClipUrls) {
  const replies = new Map<string, Buffer>();
  const encodedReply = (reply: string): Buffer => {
    let encoded = replies.get(reply);
    if (encoded === undefined) {
      if (replies.size >= MAX_REPLIES) replies.clear();
      // The bear shows the reply text; the clip speaks all of it even when a long reply is cut here.
      encoded = encodeFieldValue('answer', 'reply', fitUtf8(reply, MAX_REPLY));
      replies.set(reply, encoded);
    }
    return encoded;
  };
  return {
    /** The answer for `deviceId` (its clip URL's origin depends on its transport). */
    encode(deviceId: string, id: number, reply: string, clip: ClipInfo, source: number): Buffer {
      return encodeFromValues('answer', { id: encodeUint(id), reply: encodedReply(reply), clip: clipUrls.encodedRef(deviceId, clip), source: encodeUint(source) });
    },
  };
}
export type AnswerEncoder = ReturnType<typeof createAnswerEncoder>;
