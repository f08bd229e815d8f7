/**
 * The http/protobuf span exporter as a Collector sees it: the agent encodes spans itself
 * (src/tracing/otlp-encoder.ts) but posts them through upstream's transport, so compression,
 * configured headers, retries of a retryable answer, partial-success answers and the exporter's
 * own metrics must behave as with upstream's exporter.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp } from '../helpers/agent-process';
import { waitFor } from '../helpers/ports';
import { select } from '../helpers/prometheus-text';
import { decodeTraceRequest } from '../helpers/sentry-ingest';

interface Post {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** ExportTraceServiceResponse { partial_success { rejected_spans: 1, error_message } }. */
function partialSuccess(message: string): Buffer {
  const text = Buffer.from(message);
  const inner = Buffer.concat([Buffer.from([0x08, 0x01, 0x12, text.length]), text]);
  return Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
}

/** A receiver that answers the first post 503 (retryable) and the next ones with a partial success. */
async function startReceiver(): Promise<{ url: string; posts: Post[]; close(): Promise<void> }> {
  const posts: Post[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ headers: req.headers, body: Buffer.concat(chunks) });
      if (posts.length === 1) {
        res.writeHead(503, { 'retry-after': '0' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end(partialSuccess('one span was too old'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

describe('OTLP http/protobuf span export', () => {
  it('posts gzip-compressed spans with the configured headers, retries a 503 with the same body, and counts a partial success as exported', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const app = await startAgentApp({
      fixture: 'plain-server.cjs',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=t1',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      },
    });
    cleanups.push(() => app.stop());
    await agentReady(app);
    expect((await app.request('/hello')).status).toBe(200);

    await waitFor(() => (receiver.posts.length >= 2 ? true : undefined), 20_000, 'the retried post');
    const [first, retry] = receiver.posts as [Post, Post];
    for (const post of [first, retry]) {
      expect(post.headers['content-type']).toBe('application/x-protobuf');
      expect(post.headers['content-encoding']).toBe('gzip');
      expect(post.headers['x-tenant']).toBe('t1');
    }
    expect(retry.body.equals(first.body)).toBe(true);
    const spans = decodeTraceRequest(gunzipSync(first.body));
    const server = spans.find((s) => s.kind === 2);
    expect(server, JSON.stringify(spans.map((s) => s.name))).toBeDefined();
    expect(server!.attributes['http.request.method']).toBe('GET');
    expect(server!.attributes['url.path']).toBe('/hello');
    expect(server!.resource['service.name']).toBeDefined();

    // A partial success is still a success (upstream's response parsing), counted under upstream's component type.
    const exported = await waitFor(
      async () => {
        const samples = select(await app.scrape(), 'otel_sdk_exporter_span_exported_total', { otel_component_type: 'otlp_http_span_exporter' });
        return samples.some((s) => !s.labels.error_type && s.value > 0) ? samples : undefined;
      },
      10_000,
      'the export to be counted',
    );
    expect(exported.filter((s) => s.labels.error_type)).toEqual([]);
  });
});
