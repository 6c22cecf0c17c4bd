/**
 * The bear <-> gateway wire protocol, version 1: message types and their
 * integer-keyed CBOR layout. docs/protocol.md and docs/protocol.cddl are the
 * normative description; this file is the same table in code, and the
 * codec (./codec.ts) is driven by it, so the two cannot drift apart.
 *
 * Small integer keys because the bear parses these on a microcontroller with
 * kilobytes of RAM: a key costs one byte on the wire and one switch case.
 */

/** Message type codes (map key 0). */
export const MessageType = {
  hello: 1,
  welcome: 2,
  utterance: 3,
  answer: 4,
  clipGet: 5,
  clip: 6,
  warm: 7,
  warmAck: 8,
  stats: 9,
  error: 15,
} as const;
export type MessageTypeName = keyof typeof MessageType;

/** Error codes carried by an `error` message (key 2). */
export const ErrorCode = {
  /** Not CBOR, truncated, or trailing bytes. */
  malformed: 1,
  /** Well-formed CBOR that does not match the message's schema. */
  invalid: 2,
  /** Key 0 names no message type a bear may send. */
  unknownType: 3,
  /** Payload larger than the gateway's limit. */
  tooLarge: 4,
  /** The bear exceeded its request rate. */
  rateLimited: 5,
  /** The clip (or other named thing) does not exist. */
  notFound: 6,
  /** An AI provider failed and nothing cached could stand in. */
  upstream: 7,
  /** A bug or fault in the gateway. */
  internal: 8,
} as const;
export type ErrorCodeName = keyof typeof ErrorCode;

/** Audio formats of an utterance (key 3). */
export const UtteranceFormat = {
  /** Signed 16-bit little-endian PCM, 16 kHz, mono. */
  pcm16k: 0,
  /** G.711 mu-law, 8 kHz, mono. */
  mulaw8k: 1,
  /** UTF-8 text: typed input, and the simulator's stand-in for speech. */
  text: 2,
} as const;

/** Audio codecs of a clip (clip key 6). */
export const ClipCodec = {
  /** A RIFF/WAV file: self-describing. */
  wav: 0,
  /** Raw G.711 mu-law, 8 kHz, mono: 8 KB per second, decodable with a 256-entry table. */
  mulaw8k: 1,
} as const;

/** Bytes in a clip id: a stable name for "this line in this voice". */
export const CLIP_ID_BYTES = 8;
/** Bytes in a SHA-256 digest. */
export const SHA256_BYTES = 32;
/** Largest unsigned integer on the wire: every count, size and time fits in 32 bits. */
export const MAX_UINT = 0xffff_ffff;

/** A clip as the gateway describes it: in answers, clip lookups and warm manifests. */
export interface ClipRef {
  clipId: Uint8Array;
  sha256: Uint8Array;
  size: number;
  /** Signed, expiring HTTP(S) URL of the clip on the L3 origin/CDN. */
  url: string;
  /** Unix time (seconds) after which `url` is refused. */
  expires: number;
  /** The clip's bytes, when small enough to send inline. */
  inline?: Uint8Array;
  codec?: number;
  /** Warm manifests only: 0 is the most wanted; the bear stores in this order. */
  priority?: number;
  /** Warm manifests only: keep this clip through eviction. */
  pinned?: boolean;
}

export interface Hello { type: 'hello'; id: number; fw: string; flashBudget: number; clips: Uint8Array[]; warmSeq: number }
export interface Welcome { type: 'welcome'; id: number; time: number; warmSeq: number; maxRequestBytes: number }
export interface Utterance { type: 'utterance'; id: number; audio: Uint8Array; format: number; voice?: string }
export interface Answer { type: 'answer'; id: number; reply: string; clip: ClipRef; source: number }
export interface ClipGet { type: 'clipGet'; id: number; clipId: Uint8Array; maxInline?: number }
export interface Clip { type: 'clip'; id: number; clip: ClipRef }
export interface Warm { type: 'warm'; seq: number; clips: ClipRef[]; totalBytes: number }
export interface WarmAck { type: 'warmAck'; seq: number; stored: Uint8Array[]; failed: Uint8Array[]; bytesUsed: number }
export interface Stats {
  type: 'stats'; flashHits: number; flashMisses: number; bytesUsed: number; clipCount: number;
  evictions: number; maxEraseCount: number; uptime: number;
}
export interface ErrorMessage { type: 'error'; id: number; code: number; message: string }

export type Message = Hello | Welcome | Utterance | Answer | ClipGet | Clip | Warm | WarmAck | Stats | ErrorMessage;

/** Which layer answered an utterance's AI response (answer key 4). */
export const AnswerSource = { provider: 0, l1: 1, l2: 2 } as const;

/** Messages a bear may publish on `req`; anything else there is `unknownType`. */
export const BEAR_REQUESTS: readonly MessageTypeName[] = ['hello', 'utterance', 'clipGet'];
/** Messages a bear may publish on `evt`. */
export const BEAR_EVENTS: readonly MessageTypeName[] = ['warmAck', 'stats'];

/**
 * Field kinds. `max` bounds a string's or byte string's length, an array's
 * entry count, or an integer's value; every bound is part of the protocol.
 */
export type FieldKind =
  | { kind: 'uint'; max?: number }
  | { kind: 'tstr'; max: number }
  | { kind: 'bstr'; max: number; exact?: number }
  | { kind: 'bool' }
  | { kind: 'bstrList'; max: number; exact: number }
  | { kind: 'clip' }
  | { kind: 'clipList'; max: number };

export interface FieldSpec { key: number; name: string; optional?: boolean; type: FieldKind }

const uint: FieldKind = { kind: 'uint', max: MAX_UINT };
const clipId: FieldKind = { kind: 'bstr', max: CLIP_ID_BYTES, exact: CLIP_ID_BYTES };
const clipIdList = (max: number): FieldKind => ({ kind: 'bstrList', max, exact: CLIP_ID_BYTES });

/** Largest number of clips a hello, warm manifest or ack may list. */
export const MAX_LISTED_CLIPS = 256;
/** Largest inline audio or utterance the codec accepts; the gateway's own limit is usually lower. */
export const MAX_AUDIO_BYTES = 256 * 1024;

/** The clip map (docs/protocol.md, "clip"). */
export const CLIP_FIELDS: readonly FieldSpec[] = [
  { key: 0, name: 'clipId', type: clipId },
  { key: 1, name: 'sha256', type: { kind: 'bstr', max: SHA256_BYTES, exact: SHA256_BYTES } },
  { key: 2, name: 'size', type: uint },
  { key: 3, name: 'url', type: { kind: 'tstr', max: 512 } },
  { key: 4, name: 'expires', type: uint },
  { key: 5, name: 'inline', optional: true, type: { kind: 'bstr', max: MAX_AUDIO_BYTES } },
  { key: 6, name: 'codec', optional: true, type: { kind: 'uint', max: 255 } },
  { key: 7, name: 'priority', optional: true, type: { kind: 'uint', max: 0xffff } },
  { key: 8, name: 'pinned', optional: true, type: { kind: 'bool' } },
];

const id: FieldSpec = { key: 1, name: 'id', type: { kind: 'uint', max: MAX_UINT } };

/** Every message's fields after key 0 (the type), by type name. */
export const MESSAGE_FIELDS: Record<MessageTypeName, readonly FieldSpec[]> = {
  hello: [
    id,
    { key: 2, name: 'fw', type: { kind: 'tstr', max: 32 } },
    { key: 3, name: 'flashBudget', type: uint },
    { key: 4, name: 'clips', type: clipIdList(MAX_LISTED_CLIPS) },
    { key: 5, name: 'warmSeq', type: uint },
  ],
  welcome: [
    id,
    { key: 2, name: 'time', type: uint },
    { key: 3, name: 'warmSeq', type: uint },
    { key: 4, name: 'maxRequestBytes', type: uint },
  ],
  utterance: [
    id,
    { key: 2, name: 'audio', type: { kind: 'bstr', max: MAX_AUDIO_BYTES } },
    { key: 3, name: 'format', type: { kind: 'uint', max: 255 } },
    { key: 4, name: 'voice', optional: true, type: { kind: 'tstr', max: 32 } },
  ],
  answer: [
    id,
    { key: 2, name: 'reply', type: { kind: 'tstr', max: 1024 } },
    { key: 3, name: 'clip', type: { kind: 'clip' } },
    { key: 4, name: 'source', type: { kind: 'uint', max: 255 } },
  ],
  clipGet: [
    id,
    { key: 2, name: 'clipId', type: clipId },
    { key: 3, name: 'maxInline', optional: true, type: uint },
  ],
  clip: [id, { key: 2, name: 'clip', type: { kind: 'clip' } }],
  warm: [
    { key: 2, name: 'seq', type: uint },
    { key: 3, name: 'clips', type: { kind: 'clipList', max: MAX_LISTED_CLIPS } },
    { key: 4, name: 'totalBytes', type: uint },
  ],
  warmAck: [
    { key: 2, name: 'seq', type: uint },
    { key: 3, name: 'stored', type: clipIdList(MAX_LISTED_CLIPS) },
    { key: 4, name: 'failed', type: clipIdList(MAX_LISTED_CLIPS) },
    { key: 5, name: 'bytesUsed', type: uint },
  ],
  stats: [
    { key: 2, name: 'flashHits', type: uint },
    { key: 3, name: 'flashMisses', type: uint },
    { key: 4, name: 'bytesUsed', type: uint },
    { key: 5, name: 'clipCount', type: uint },
    { key: 6, name: 'evictions', type: uint },
    { key: 7, name: 'maxEraseCount', type: uint },
    { key: 8, name: 'uptime', type: uint },
  ],
  error: [
    id,
    { key: 2, name: 'code', type: { kind: 'uint', max: 255 } },
    { key: 3, name: 'message', type: { kind: 'tstr', max: 128 } },
  ],
};

const NAME_BY_CODE = new Map<number, MessageTypeName>(
  (Object.entries(MessageType) as [MessageTypeName, number][]).map(([name, code]) => [code, name]),
);

/** The type name for a wire code, or undefined for an unknown code. */
export function messageTypeName(code: number): MessageTypeName | undefined {
  return NAME_BY_CODE.get(code);
}
