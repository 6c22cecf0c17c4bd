/**
 * OpenTelemetry spans, when the application installs `@opentelemetry/api`
 * (an optional peer dependency) and registers a tracer provider; otherwise
 * nothing. The API is imported lazily, once, by createCache, so an
 * application without it never loads it. Only calls below the L1 fast path
 * are traced (a sub-microsecond hit cannot afford a span): each gets a span
 * `teddycache.<operation>` and one child span per layer it touched,
 * `teddycache.l1`, `teddycache.l2`, `teddycache.l3`, `teddycache.compute`
 * (attribute `teddycache.layer`), so a miss shows where its time went.
 * Attributes carry the content type and the answering layer, never a key.
 */
import type * as OtelApi from '@opentelemetry/api';

export type TraceLayer = 'l1' | 'l2' | 'l3' | 'compute';

export interface CallTrace {
  /** Runs one layer's step inside a child span. */
  layer<T>(layer: TraceLayer, step: () => Promise<T>): Promise<T>;
  /** A synchronous layer step (an L1 lookup), recorded as a child span. */
  mark(layer: TraceLayer, hit: boolean): void;
  /** Ends the call's span: which layer answered, or the error. */
  end(source: string | undefined, error?: unknown): void;
}

export const NO_TRACE: CallTrace = {
  layer: (_layer, step) => step(),
  mark() {},
  end() {},
};

let api: typeof OtelApi | undefined;
let loading: Promise<void> | undefined;

/** Loads @opentelemetry/api if the application has it; resolves either way. */
export function loadTracing(): Promise<void> {
  loading ??= import('@opentelemetry/api').then(
    (m) => void (api = m),
    () => undefined,
  );
  return loading;
}

/** A trace for one call: NO_TRACE unless the API is loaded and a recording tracer is registered. */
export function startTrace(operation: string, contentType: string): CallTrace {
  if (api === undefined) return NO_TRACE;
  const otel = api;
  const tracer = otel.trace.getTracer('teddycache');
  const root = tracer.startSpan(`teddycache.${operation}`, { attributes: { 'teddycache.content_type': contentType } });
  if (!root.isRecording()) return NO_TRACE;
  const parent = otel.trace.setSpan(otel.context.active(), root);
  const child = (layer: TraceLayer) => tracer.startSpan(`teddycache.${layer}`, { attributes: { 'teddycache.layer': layer } }, parent);
  const fail = (span: OtelApi.Span, err: unknown) => {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: otel.SpanStatusCode.ERROR });
  };
  let ended = false;
  return {
    async layer(layer, step) {
      const span = child(layer);
      try {
        return await step();
      } catch (err) {
        fail(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
    mark(layer, hit) {
      child(layer).setAttribute('teddycache.hit', hit).end();
    },
    end(source, error) {
      if (ended) return;
      ended = true;
      if (source !== undefined) root.setAttribute('teddycache.source', source);
      if (error !== undefined) fail(root, error);
      root.end();
    },
  };
}
