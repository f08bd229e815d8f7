/** CLIENT spans for pg queries: a consumer of the pg patch's query events. */
import { context, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { AgentTracer } from '../../tracing/agent-tracer';
import type { OperationChannel } from '../operation-channel';
import type { PgQuery } from './instrumentation';
import { pgSpanAttributes, pgSpanName } from './utils';

export function tracePgQueries(queries: OperationChannel<PgQuery>, tracer: AgentTracer): void {
  queries.subscribe(
    {
      start(op) {
        const parent = context.active();
        // In a request that is not sampled: no span, no name, no attributes.
        if (!tracer.recordsUnder(parent)) return;
        const params = op.client.connectionParameters;
        // From the app's call: a pool query that failed to check out a client is published when it failed.
        const span = tracer.startSpan(pgSpanName(op.operation, params?.database), { kind: SpanKind.CLIENT, startTime: op.startedAt }, parent);
        if (span.isRecording()) span.setAttributes(pgSpanAttributes(params, op.text, op.operation));
        op.span = span;
      },
      end({ span }, error) {
        if (!span) return;
        if (error) {
          const code = (error as { code?: unknown } | null)?.code;
          // SQLSTATE (`23505`) says what failed without the values the message may quote.
          if (typeof code === 'string' && code !== '') span.setAttribute('db.response.status_code', code);
          span.setAttribute('error.type', typeof code === 'string' && code !== '' ? code : error instanceof Error ? error.constructor.name : 'error');
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      },
    },
    { bindsCallerContext: true },
  );
}
