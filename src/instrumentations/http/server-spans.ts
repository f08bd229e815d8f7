/**
 * SERVER spans for incoming HTTP requests: a consumer of the request records (http/requests.ts),
 * like the metrics.
 *
 * Why not upstream's instrumentation-http: it builds a span with about twenty attributes (old and
 * new semantic conventions, headers, peer details) for every request before the sampler has
 * spoken, and wraps `Server.prototype.emit` for every server, the agent's own included; in the
 * benchmark that was the largest single cost of tracing. Here the sampler decides first, a span
 * that is not recorded gets no attributes at all, and a recorded one gets the stable HTTP
 * semantic-convention attributes a trace view needs.
 *
 * Context: the span's context becomes the record's, and the consumer asks the request records to
 * run the handler and the request's events in it (see http/requests.ts), so everything the
 * handler starts (queries, Redis, outgoing calls) becomes a child of the server span.
 */
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { incomingHeaderGetter } from '../../http/propagators';
import { hostName, pathOf, schemeOf, serverSpanName } from '../../http/request-facts';
import type { RequestRecord, ServerRequests } from '../../http/requests';
import { methodLabel } from '../../http/route-label';
import type { AgentTracer } from '../../tracing/agent-tracer';

export function traceHttpServer(requests: ServerRequests, tracer: AgentTracer): void {
  requests.runInRequestContext();
  requests.consume({
    start(record) {
      const { request } = record;
      // A traceparent from the caller continues its trace; anything ambient does not leak in.
      const parent = propagation.extract(ROOT_CONTEXT, request.headers, incomingHeaderGetter);
      // A caller that did not sample the trace: the request runs in the caller's context as
      // extracted (its trace id and flags 00 are what children and outgoing calls pass on).
      if (!tracer.recordsUnder(parent)) {
        record.context = parent;
        return;
      }
      const method = methodLabel(request.method);
      const span = tracer.startSpan(method, { kind: SpanKind.SERVER }, parent);
      record.context = trace.setSpan(parent, span);
      if (!span.isRecording()) return; // not sampled: it still carries the trace id to children
      span.setAttributes({
        'http.request.method': method,
        'url.scheme': schemeOf(request),
        'url.path': pathOf(request.url),
        'network.protocol.version': request.httpVersion,
      });
      const host = hostName(request.headers.host);
      if (host) span.setAttribute('server.address', host);
      const client = request.socket?.remoteAddress;
      if (client) span.setAttribute('client.address', client);
      record.span = span;
    },
    finish(record) {
      const span = takeSpan(record);
      if (span === undefined) return;
      const { request, response } = record;
      const statusCode = response.statusCode;
      span.setAttribute('http.response.status_code', statusCode);
      const route = requests.routeTemplate(request);
      if (route) {
        span.setAttribute('http.route', route);
        span.updateName(serverSpanName(methodLabel(request.method), route));
      }
      // Per the HTTP conventions a 4xx is the client's error, not the server span's.
      if (statusCode >= 500) {
        span.setAttribute('error.type', String(statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
    // A client that hangs up before the answer is complete: the response closes without finishing
    // (after a finish, the span is already ended and taken).
    closed: endAborted,
    threw(record, error) {
      // The handler threw synchronously: no response will follow, so the span ends here.
      const span = takeSpan(record);
      if (span === undefined) return;
      span.recordException(error instanceof Error ? error : String(error));
      span.setAttribute('error.type', error instanceof Error ? error.constructor.name : 'exception');
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      span.end();
    },
  });
}

/** The span, once: whichever of finish, close or a throw comes first ends it. */
function takeSpan(record: RequestRecord): Span | undefined {
  const span = record.span;
  record.span = undefined;
  return span;
}

function endAborted(record: RequestRecord): void {
  const span = takeSpan(record);
  if (span === undefined) return;
  span.setAttribute('error.type', 'aborted');
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'the client closed the connection before the response was complete' });
  span.end();
}
