/**
 * With traces off, the agent still passes on the trace context a request came with: a service in
 * the middle of a traced call chain must not cut the trace in two. No span is made, no context
 * manager is installed: the request record (http/requests.ts) keeps the headers the configured
 * propagators write for the incoming context, and the calls the app makes while serving that
 * request (found through the record tracking the AI meters use too) carry them.
 *
 * - incoming: a consumer of the request records extracts only when a propagator's header is there;
 * - outgoing http/https: Node's `http.client.request.created` channel, published while the
 *   ClientRequest is built, before its headers are sent: `setHeader`;
 * - outgoing fetch: undici's `undici:request:create` channel: `addHeader`.
 * A header the call already has (set by the app, or by its own OpenTelemetry SDK) is left alone.
 */
import * as dc from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { defaultTextMapSetter, ROOT_CONTEXT, type TextMapPropagator } from '@opentelemetry/api';
import { incomingHeaderGetter } from '../../http/propagators';
import type { ServerRequests } from '../../http/requests';
import { guard } from '../../lifecycle/guard';

/** Notes, on each request that brings trace context, the headers to pass on; sets them on outgoing http calls. */
export function forwardIncomingContext(requests: ServerRequests, propagator: TextMapPropagator): void {
  const fields = propagator.fields().map((f) => f.toLowerCase());
  if (fields.length === 0) return;
  // Only a request that brings trace context has anything to pass on: the others are not tracked
  // (no AsyncLocalStorage entry for them).
  requests.trackSomeRequests();
  requests.consume({
    start(record) {
      const headers = record.request.headers;
      let present = false;
      for (let i = 0; i < fields.length && !present; i++) present = headers[fields[i]!] !== undefined;
      if (!present) return;
      const carrier: Record<string, string> = {};
      propagator.inject(propagator.extract(ROOT_CONTEXT, headers, incomingHeaderGetter), carrier, defaultTextMapSetter);
      if (Object.keys(carrier).length === 0) return;
      record.forwardHeaders = carrier;
      requests.track(record);
    },
  });
  dc.subscribe(
    'http.client.request.created',
    guard('trace context forwarding (http)', (message: unknown) => {
      const forward = requests.currentRecord()?.forwardHeaders;
      if (forward === undefined) return;
      const request = (message as { request: ClientRequest }).request;
      if (request.headersSent) return;
      for (const name in forward) if (!request.hasHeader(name)) request.setHeader(name, forward[name]!);
    }),
  );
}

interface UndiciRequest {
  headers: string | string[];
  addHeader(name: string, value: string): unknown;
}

/** Sets the headers noted by forwardIncomingContext on fetch calls made while serving the request. */
export function forwardOnFetch(requests: ServerRequests): void {
  dc.subscribe(
    'undici:request:create',
    guard('trace context forwarding (fetch)', (message: unknown) => {
      const forward = requests.currentRecord()?.forwardHeaders;
      if (forward === undefined) return;
      const request = (message as { request: UndiciRequest }).request;
      for (const name in forward) if (!hasUndiciHeader(request.headers, name)) request.addHeader(name, forward[name]!);
    }),
  );
}

/** undici keeps headers as a flat [name, value, ...] array (older versions: one raw string). */
function hasUndiciHeader(headers: string | string[], name: string): boolean {
  if (typeof headers === 'string') return headers.toLowerCase().includes(`${name}:`);
  for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return true;
  return false;
}
