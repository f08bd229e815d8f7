// Loopback stand-ins for the places telemetry goes: an OTLP/HTTP receiver (200 to POST /v1/traces),
// a Sentry ingest (200 to anything), a Datadog agent (traces at /v0.4/traces), and a destination
// that accepts connections and never answers. They count what arrives, so a run can show that its
// exporters really sent something; `takeSpans()` decodes what arrived since the last call and
// counts the spans in it (after a run, so decoding takes no CPU from the app being measured).
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import { decode as decodeMsgpack } from '@msgpack/msgpack';
import { parseEnvelope } from '@sentry/core';
import { decodeTraceRequest } from '../../helpers/otlp-protobuf.mts';
import { onCleanup } from './processes.mjs';

/** The Datadog agent's answer to a trace payload: no per-service sampling rates, so the tracer keeps its own. */
const DATADOG_TRACES_ANSWER = '{"rate_by_service":{}}';

/**
 * kind: 'otlp' answers 200 to POST .../v1/traces and 404 to the rest; 'ingest' answers 200 to
 * everything; 'datadog' answers PUT/POST /v0.4/traces and 404 to the rest; 'hang' reads requests
 * and never answers.
 */
export async function startSink(kind) {
  const counts = { requests: 0, bytes: 0, byPath: {} };
  const sockets = new Set();
  let received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    let bytes = 0;
    req.on('data', (chunk) => {
      bytes += chunk.length;
      if (kind !== 'hang') chunks.push(chunk);
    });
    req.on('end', () => {
      counts.requests++;
      counts.bytes += bytes;
      const path = (req.url ?? '/').split('?')[0];
      counts.byPath[path] = (counts.byPath[path] ?? 0) + 1;
      if (kind === 'hang') return;
      const ok = accepts(kind, req.method, path);
      if (ok)
        received.push({
          path,
          contentType: String(req.headers['content-type'] ?? ''),
          encoding: req.headers['content-encoding'],
          body: Buffer.concat(chunks),
        });
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(ok ? (kind === 'datadog' ? DATADOG_TRACES_ANSWER : '{}') : '{"error":"not found"}');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const close = () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  onCleanup(close);
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    counts,
    snapshot: () => ({ requests: counts.requests, bytes: counts.bytes }),
    /** Spans in what was accepted since the last call; bodies that do not decode count as none. */
    takeSpans() {
      const posts = received;
      received = [];
      let spans = 0;
      for (const post of posts) spans += countSpans(post);
      return spans;
    },
    close,
  };
}

function accepts(kind, method, path) {
  if (kind === 'ingest') return true;
  if (kind === 'otlp') return method === 'POST' && path.endsWith('/v1/traces');
  if (kind === 'datadog') return (method === 'PUT' || method === 'POST') && path === '/v0.4/traces';
  return false;
}

function countSpans({ path, contentType, encoding, body }) {
  try {
    const data = encoding === 'gzip' ? gunzipSync(body) : body;
    if (path === '/v0.4/traces') {
      // An array of traces, each an array of span maps.
      const traces = decodeMsgpack(data);
      return Array.isArray(traces) ? traces.reduce((n, trace) => n + (Array.isArray(trace) ? trace.length : 0), 0) : 0;
    }
    if (path.endsWith('/v1/traces') || path.endsWith('/v1/traces/')) {
      if (contentType.includes('json')) {
        const request = JSON.parse(data.toString('utf8'));
        return (request.resourceSpans ?? []).reduce((n, rs) => n + (rs.scopeSpans ?? []).reduce((m, ss) => m + (ss.spans?.length ?? 0), 0), 0);
      }
      return decodeTraceRequest(data).length;
    }
    if (path.endsWith('/envelope/')) {
      // A transaction item is its root span plus the child spans it carries.
      const [, items] = parseEnvelope(data);
      let spans = 0;
      for (const [header, payload] of items) {
        if (header.type === 'transaction') spans += 1 + (payload?.spans?.length ?? 0);
        // Streamed spans (the SDK's default from v11): one item holding a batch, `{ version: 2, items: [...] }`.
        else if (header.type === 'span') spans += payload?.items?.length ?? header.item_count ?? 1;
      }
      return spans;
    }
  } catch {
    // Not a payload this sink understands: it counted as a request, with no spans.
  }
  return 0;
}
