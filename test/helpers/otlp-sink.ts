/**
 * A local OTLP/HTTP receiver: accepts trace posts the way a Collector does and keeps them, decoded
 * when they are JSON (`http/json`), raw otherwise.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

/** ok: answers 200; stall: reads the post and never answers; 429/500: answers that status. */
export type SinkMode = 'ok' | 'stall' | '429' | '500';

export class OtlpSink {
  readonly posts: Array<{ path: string; contentType: string; body: Buffer }> = [];
  mode: SinkMode = 'ok';
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.posts.push({ path: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), body: Buffer.concat(chunks) });
      if (this.mode === 'stall') return;
      const status = this.mode === 'ok' ? 200 : Number(this.mode);
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '1' });
      res.end('{}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** The spans as posted (JSON posts only), for fields spans() leaves out: status, events. */
  rawSpans(): RawOtlpSpan[] {
    return this.posts
      .filter((post) => post.contentType.includes('json'))
      .flatMap((post) => {
        const body = JSON.parse(post.body.toString('utf8'));
        return (body.resourceSpans ?? []).flatMap((rs: { scopeSpans?: Array<{ spans?: RawOtlpSpan[] }> }) =>
          (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? []),
        );
      });
  }

  /** The data points of the metrics posted as JSON to a /v1/metrics path, in arrival order. */
  metricPoints(): OtlpMetricPoint[] {
    const points: OtlpMetricPoint[] = [];
    for (const post of this.posts) {
      if (!post.contentType.includes('json') || !post.path.endsWith('/v1/metrics')) continue;
      const body = JSON.parse(post.body.toString('utf8'));
      for (const rm of body.resourceMetrics ?? []) {
        const resource = flatten(rm.resource?.attributes);
        for (const sm of rm.scopeMetrics ?? []) {
          for (const m of sm.metrics ?? []) {
            const data = m.sum ?? m.gauge ?? m.histogram ?? {};
            for (const p of data.dataPoints ?? []) {
              points.push({
                name: m.name,
                attributes: flatten(p.attributes),
                resource,
                value: p.asDouble ?? (p.asInt === undefined ? undefined : Number(p.asInt)),
                count: p.count === undefined ? undefined : Number(p.count),
                sum: p.sum,
              });
            }
          }
        }
      }
    }
    return points;
  }

  spans(): OtlpSpan[] {
    const spans: OtlpSpan[] = [];
    for (const post of this.posts) {
      if (!post.contentType.includes('json')) continue;
      const body = JSON.parse(post.body.toString('utf8'));
      for (const rs of body.resourceSpans ?? []) {
        const resource = flatten(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId || undefined,
              name: s.name,
              kind: s.kind,
              attributes: flatten(s.attributes),
              resource,
            });
          }
        }
      }
    }
    return spans;
  }
}

/** One data point of a pushed metric (sums and gauges: value; histograms: count and sum). */
export interface OtlpMetricPoint {
  name: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  value?: number;
  count?: number;
  sum?: number;
}

export interface RawOtlpSpan {
  name: string;
  status?: { code?: number; message?: string };
  events?: Array<{ name: string; attributes?: unknown }>;
}

function flatten(attributes: Array<{ key: string; value: Record<string, unknown> }> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of attributes ?? []) out[a.key] = Object.values(a.value)[0];
  return out;
}
