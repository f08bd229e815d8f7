/**
 * The agent's port is reachable by anyone who can reach the pod (0.0.0.0, no auth by default):
 * nothing a client of that port does may cost the app its memory, its latency, its file
 * descriptors or its own port. Real processes and raw sockets, measured from outside.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AGENT_ENTRY, agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { freePort, waitFor } from '../helpers/ports';
import { percentile, pipelinedFlood, rawExchange, rssBytes, sampleLatency, sampleRss, slowConnections } from '../helpers/port-clients';
import { total, parsePrometheusText } from '../helpers/prometheus-text';

let app: AgentApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});
const dir = mkdtempSync(path.join(tmpdir(), 'otel-agent-port-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An app that listens on APP_PORT (APP_HOST if set); with WAIT_FOR_AGENT, only once the agent answers on that port. */
const samePortApp = path.join(dir, 'same-port-app.cjs');
writeFileSync(
  samePortApp,
  `const http = require('node:http');
const port = Number(process.env.APP_PORT);
const server = http.createServer((req, res) => res.end('app'));
const listen = () => server.listen(port, process.env.APP_HOST || undefined, () => process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\\n'));
if (process.env.WAIT_FOR_AGENT) {
  const poll = () => http.get({ host: '127.0.0.1', port, path: '/live' }, (r) => { r.resume(); r.on('end', listen); }).on('error', () => setTimeout(poll, 50));
  poll();
} else listen();
`,
);

describe('pipelined /metrics flood', () => {
  it('10 connections x 1,500 pipelined GET /metrics that never read: the app keeps its memory and its latency', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs' });
    await agentReady(app);
    for (let i = 0; i < 20; i++) await app.request('/');
    await app.scrapeText();
    const pid = app.child.pid!;

    const baseline = sampleLatency(`${app.appUrl}/`);
    await sleep(1500);
    const baselineLatencies = await baseline.stop();
    const rssBefore = rssBytes(pid);

    const rss = sampleRss(pid);
    const during = sampleLatency(`${app.appUrl}/`);
    const sockets = await pipelinedFlood(app.metricsPort, 10, 1500);
    await sleep(4000);
    const latencies = await during.stop();
    const rssMax = rss.stop();
    for (const socket of sockets) socket.destroy();

    const growth = (rssMax - rssBefore) / MB;
    const p99 = percentile(latencies, 99);
    // Against this machine's own idle figure, so a loaded runner does not fail it.
    const p99Bound = Math.max(150, 5 * percentile(baselineLatencies, 99));
    console.log(
      `[flood] RSS ${(rssBefore / MB).toFixed(1)} MB -> max ${(rssMax / MB).toFixed(1)} MB (+${growth.toFixed(1)} MB); ` +
        `app p99 ${percentile(baselineLatencies, 99).toFixed(1)} ms before, ${p99.toFixed(1)} ms during (${latencies.length} requests, max ${Math.max(...latencies).toFixed(1)} ms)`,
    );
    expect(app.exited).toBeUndefined();
    expect(latencies.length).toBeGreaterThan(20);
    expect(growth).toBeLessThan(30);
    expect(p99).toBeLessThan(p99Bound);
    // The agent still serves a well-behaved scraper afterwards.
    expect((await fetch(`${app.metricsUrl}/metrics`)).status).toBe(200);
  });

  it('answers a client that pipelines a few requests and reads them, in order', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs' });
    await agentReady(app);
    const request = (p: string) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const last = `GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
    const { text } = await rawExchange(app.metricsPort, request('/live') + request('/metrics') + request('/nope') + last);
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '200', '404', '200']);
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
  });
});

describe('connections', () => {
  it('1,100 slow connections under a 1,024 descriptor limit: the app port answers and they are dropped within seconds', async () => {
    app = await startAgentApp({
      fixture: 'plain-server.cjs',
      preload: 'none',
      nodeBinary: 'bash',
      nodeArgs: ['-c', 'ulimit -n 1024 && exec "$0" "$@"', process.execPath, '--import', AGENT_ENTRY],
    });
    await agentReady(app);
    const slow = slowConnections(app.metricsPort, 1100);
    try {
      await waitFor(() => (slow.connected() >= 1000 ? true : undefined), 20_000, 'the slow connections to connect');
      const started = Date.now();
      const answers: number[] = [];
      for (let i = 0; i < 6; i++) {
        const t = Date.now();
        answers.push(
          await fetch(`${app.appUrl}/`, { signal: AbortSignal.timeout(2000) }).then(
            (r) => r.status,
            () => 0,
          ),
        );
        await sleep(Math.max(0, 500 - (Date.now() - t)));
      }
      // Every slow connection is closed by the agent, long before Node's default 30 s check.
      await waitFor(() => (slow.closed() >= slow.connected() ? true : undefined), 15_000, 'the agent to drop the slow connections').catch(
        () => undefined,
      );
      console.log(
        `[slow] app answers ${answers.join(',')}; ${slow.closed()} of ${slow.connected()} slow connections closed after ${Date.now() - started} ms`,
      );
      expect(answers).toEqual([200, 200, 200, 200, 200, 200]);
      expect(slow.closed()).toBe(slow.connected());
      expect(app.exited).toBeUndefined();
      expect((await fetch(`${app.metricsUrl}/live`)).status).toBe(200);
    } finally {
      slow.stop();
    }
  });

  it('caps connections at TUTOR_OTEL_MAX_CONNECTIONS', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs', env: { TUTOR_OTEL_MAX_CONNECTIONS: '5' } });
    // Ready, on a connection the agent closes (a keep-alive one would take a place).
    await waitFor(
      async () =>
        (await rawExchange(app!.metricsPort, 'GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')).text.startsWith('HTTP/1.1 200')
          ? true
          : undefined,
      20_000,
      'agent /live',
    );
    const idle = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          new Promise<net.Socket>((resolve) => {
            const socket = net.connect(app!.metricsPort, '127.0.0.1', () => resolve(socket));
            socket.on('error', () => {});
          }),
      ),
    );
    try {
      await sleep(500);
      // Connections past the cap are closed at once; the first five stay until their header deadline.
      expect(idle.filter((s) => s.destroyed || s.readableEnded).length).toBe(3);
      expect(app.agentLines.filter((l) => l.includes('warn:'))).toHaveLength(0);
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });

  it('never buffers a request body, and refuses oversized headers', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs' });
    await agentReady(app);
    const rssBefore = rssBytes(app.child.pid!);
    // A POST announcing 200 MB: answered 405 and closed without reading the body. The client
    // sends the first megabyte, reads the answer, then tries to send the rest.
    const post = await new Promise<{ status: string; sent: number }>((resolve) => {
      let sent = 0;
      let head = '';
      const chunk = Buffer.alloc(64 * 1024, 97);
      const pump = () => {
        while (!socket.destroyed && sent < 200 * MB) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      const socket = net.connect(app!.metricsPort, '127.0.0.1', () => {
        socket.write(`POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${200 * MB}\r\n\r\n`);
        for (let i = 0; i < 16; i++, sent += chunk.length) socket.write(chunk);
        setTimeout(pump, 300);
      });
      socket.on('data', (d: Buffer) => (head += d.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => resolve({ status: head.slice(9, 12), sent }));
      setTimeout(() => socket.destroy(), 10_000);
    });
    expect(post.status).toBe('405');
    expect(post.sent).toBeLessThan(100 * MB);
    expect((rssBytes(app.child.pid!) - rssBefore) / MB).toBeLessThan(30);
    const big = await rawExchange(app.metricsPort, `GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'b'.repeat(12 * 1024)}\r\n\r\n`);
    expect(big.text).toMatch(/^HTTP\/1\.1 431/);
  });
});

describe('the agent port is the app port', () => {
  const warnings = (a: AgentApp) => a.agentLines.filter((l) => l.includes('warn:'));

  it('the agent, listening first, yields the port to the app with one warning', async () => {
    const port = await freePort();
    app = await startAgentApp({
      fixture: samePortApp,
      env: { APP_PORT: String(port), WAIT_FOR_AGENT: '1', OTEL_EXPORTER_PROMETHEUS_PORT: String(port), OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0' },
    });
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('app');
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toBe('app');
    await sleep(500);
    expect(app.exited).toBeUndefined();
    expect(app.stderr).not.toContain('EADDRINUSE');
    expect(warnings(app)).toHaveLength(1);
    expect(warnings(app)[0]).toContain(String(port));
  });

  it('the app listening at once under --require, before the agent has bound, keeps its port', async () => {
    const port = await freePort();
    app = await startAgentApp({
      fixture: samePortApp,
      preload: ['require'],
      env: { APP_PORT: String(port), APP_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(port), OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0' },
    });
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('app');
    await sleep(500);
    expect(app.exited).toBeUndefined();
    expect(app.stderr).not.toContain('EADDRINUSE');
    expect(warnings(app)).toHaveLength(1);
    expect(warnings(app)[0]).toContain(String(port));
  });

  it('an app on the same port number but another address leaves the agent where it is', async () => {
    const port = await freePort();
    app = await startAgentApp({
      fixture: samePortApp,
      env: {
        APP_PORT: String(port),
        APP_HOST: '127.0.0.2',
        WAIT_FOR_AGENT: '',
        OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
        OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      },
    });
    expect(await (await fetch(`http://127.0.0.2:${port}/`)).text()).toBe('app');
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/live`)).status === 200 ? true : undefined), 10_000, 'agent /live');
    expect(warnings(app)).toHaveLength(0);
  });
});

describe('/metrics text', () => {
  it('is byte-for-byte what the exporter itself answers, headers included', async () => {
    const { readConfig } = await import('../../src/config/env');
    const { createMetricsPipeline } = await import('../../src/metrics/provider');
    const { startAgentServer } = await import('../../src/health/server');
    const { HealthService } = await import('../../src/health/health-service');
    const { DependencyRegistry } = await import('../../src/health/dependencies');
    const { config } = readConfig({ OTEL_SERVICE_NAME: 'byte-check' });
    const pipeline = createMetricsPipeline(config);
    pipeline.meter.createCounter('orders_total', { description: 'orders' }).add(3, { kind: 'a"b\\c' });
    pipeline.meter.createHistogram('wait_seconds', { advice: { explicitBucketBoundaries: [0.1, 1] } }).record(0.5);

    const upstream = http.createServer((req, res) => pipeline.exporter!.getMetricsRequestHandler(req, res));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const ours = await startAgentServer({
      host: '127.0.0.1',
      port: 0,
      accepted: undefined,
      metrics: pipeline.exporter,
      health: new HealthService(new DependencyRegistry(), config.health, { service: 'byte-check', version: '0' }),
      maxConnections: 64,
    });
    try {
      const raw = async (port: number, method: string) =>
        (await rawExchange(port, `${method} /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)).text.replace(/\r\nDate: [^\r]*/i, '');
      const ourPort = (ours!.address() as net.AddressInfo).port;
      const upstreamPort = (upstream.address() as net.AddressInfo).port;
      for (const method of ['GET', 'HEAD']) {
        const expected = await raw(upstreamPort, method);
        const actual = await raw(ourPort, method);
        expect(actual).toBe(expected);
      }
      expect(await raw(ourPort, 'GET')).toContain('orders_total{kind="a\\"b\\\\c",service="byte-check"} 3');
    } finally {
      upstream.close();
      ours?.close();
    }
  });

  it('concurrent scrapes share one rendering; a scrape after a request counts it', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs' });
    await agentReady(app);
    for (let round = 1; round <= 3; round++) {
      expect((await app.request('/')).status).toBe(200);
      expect(total(await app.scrape(), 'http_requests_total', { route: '/' })).toBe(round);
    }
    const bodies = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await fetch(`${app!.metricsUrl}/metrics`, { headers: { connection: 'close' } });
        expect(response.headers.get('content-type')).toBe('text/plain');
        return response.text();
      }),
    );
    const distinct = new Set(bodies);
    console.log(`[share] 20 concurrent scrapes, ${distinct.size} distinct bodies`);
    expect(distinct.size).toBeLessThanOrEqual(3);
    for (const body of distinct) expect(total(parsePrometheusText(body), 'http_requests_total', { route: '/' })).toBe(3);
  });
});
