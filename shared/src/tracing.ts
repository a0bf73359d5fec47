import {
  type Context,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { newTraceId } from './logger.js';

/**
 * OpenTelemetry traces, off unless the standard variables ask for them (`OTEL_TRACES_EXPORTER=otlp`,
 * or an `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): then each process
 * exports its spans over OTLP/HTTP (the SDK's exporter, which reads the rest of `OTEL_*` itself:
 * headers, timeouts, the batch processor's delays). Off, nothing of the SDK is loaded and no span
 * is made: the call path asks `tracing.on` first.
 *
 * The trace id is the one the audit rows already carry (`traceId`, 32 hex digits, as W3C's): a
 * hub call's span is the trace's root, or continues the `traceparent` its client sent, and its
 * trace id is the call's; across the link the message's `_meta.traceparent` makes the node's
 * span a child of the hub's. So an operator goes from an audit row to its trace, and back.
 */

let enabled = false;

export const tracing = {
  get on(): boolean {
    return enabled;
  },
};

/** Where spans come from; the API's no-op tracer until `startTracing` registers a provider. */
export const tracer = () => trace.getTracer('brainmesh');

/** Starts exporting when the environment asks; returns how to flush and stop (a no-op when off). */
export async function startTracing(service: string): Promise<() => Promise<void>> {
  // The SDK's exporter reads the same variables from the process's environment.
  const env = process.env;
  const exporter = env.OTEL_TRACES_EXPORTER;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (exporter === 'none' || (exporter !== 'otlp' && (endpoint === undefined || endpoint === ''))) {
    return async () => {};
  }
  // Loaded only when wanted: a mesh without a collector does not pay for the SDK.
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? service }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // The global provider, AsyncLocalStorage for the active span, W3C trace context.
  provider.register();
  enabled = true;
  return async () => {
    enabled = false;
    await provider.shutdown();
  };
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C `traceparent` as a context to start spans under; undefined when there is none or it is malformed. */
export function parentFrom(traceparent: unknown): Context | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const match = TRACEPARENT.exec(traceparent.trim().toLowerCase());
  if (match === null) return undefined;
  const [, traceId, spanId, flags] = match as unknown as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return trace.setSpanContext(context.active(), {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/** The trace id of a valid `traceparent`, so a call continues its client's trace even with tracing off. */
export function traceIdFrom(traceparent: unknown): string | undefined {
  const parent = parentFrom(traceparent);
  return parent === undefined ? undefined : trace.getSpanContext(parent)?.traceId;
}

/** The `traceparent` that makes a span on the other side a child of `span`. */
export function traceparentOf(span: Span): string {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

export interface SpanOptions {
  kind?: SpanKind;
  parent?: Context | undefined;
  attributes?: Record<string, string | number | boolean>;
}

/**
 * Runs `work` inside a new span (the active one while it runs), ending it with the outcome: an
 * exception is recorded and marks it an error. With tracing off, just runs `work`.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!enabled) return work(undefined);
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes === undefined ? {} : { attributes: options.attributes }),
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (err) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/** A trace id for a call: the span's when there is one, else its client's, else a new one. */
export function callTraceId(span: Span | undefined, traceparent: unknown): string {
  if (span !== undefined) return span.spanContext().traceId;
  return traceIdFrom(traceparent) ?? newTraceId();
}

export type { Context, Span, TextMapGetter };
export { SpanKind, SpanStatusCode };
