/**
 * Wraps a provider for the gateway: counts every call (each one is a cache
 * miss that reached the AI) and every failure, and turns its failures into
 * UpstreamError, which bears receive as the protocol's `upstream` error.
 */
import type { Counter } from 'prom-client';
import { UpstreamError } from '../errors.js';
import type { Provider } from './provider.js';

export function instrumentProvider(provider: Provider, counters: { providerCalls: Counter<'op'>; providerErrors: Counter<'op'> }): Provider {
  const guard = async <T>(op: string, call: () => Promise<T>): Promise<T> => {
    counters.providerCalls.inc({ op });
    try {
      return await call();
    } catch (err) {
      counters.providerErrors.inc({ op });
      throw new UpstreamError(`${provider.name} ${op} failed: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    name: provider.name,
    voices: provider.voices,
    clipCodec: provider.clipCodec,
    transcribe: (audio, format) => guard('transcribe', () => provider.transcribe(audio, format)),
    respond: (transcript) => guard('respond', () => provider.respond(transcript)),
    synthesize: (text, voice) => guard('synthesize', () => provider.synthesize(text, voice)),
  };
}
