/**
 * The AI services behind the gateway: speech to text, a reply, text to
 * speech. The gateway calls these only on cache misses (every call is
 * wrapped in the SDK cache by the request handler), so a provider has no
 * caching of its own and may be slow.
 */
export interface Provider {
  readonly name: string;
  /** Voice names a bear may ask for; the first is the default. */
  readonly voices: readonly string[];
  /** ClipCodec of every clip `synthesize` returns. */
  readonly clipCodec: number;
  /** `format` is an UtteranceFormat; returns "" when nothing was understood. */
  transcribe(audio: Uint8Array, format: number): Promise<string>;
  respond(transcript: string): Promise<string>;
  synthesize(text: string, voice: string): Promise<Uint8Array>;
}
