// Loopback stand-ins for the places telemetry goes: an OTLP/HTTP receiver (200 to POST /v1/traces),
// a Sentry ingest (200 to anything), and a destination that accepts connections and never answers.
// They count what arrives, so a run can show that its exporters really sent something.
import http from 'node:http';
import { onCleanup } from './processes.mjs';

/**
 * kind: 'otlp' answers 200 to POST .../v1/traces and 404 to the rest; 'ingest' answers 200 to
 * everything; 'hang' reads requests and never answers.
 */
export async function startSink(kind) {
  const counts = { requests: 0, bytes: 0, byPath: {} };
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk) => (bytes += chunk.length));
    req.on('end', () => {
      counts.requests++;
      counts.bytes += bytes;
      const path = (req.url ?? '/').split('?')[0];
      counts.byPath[path] = (counts.byPath[path] ?? 0) + 1;
      if (kind === 'hang') return;
      const ok = kind === 'ingest' || (req.method === 'POST' && path.endsWith('/v1/traces'));
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(ok ? '{}' : '{"error":"not found"}');
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
    close,
  };
}
