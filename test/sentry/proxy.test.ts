/**
 * Events and spans reach Sentry through the proxy the environment names, as with Sentry's own
 * transport: an http DSN through a forward proxy (`http_proxy`, with credentials that are used and
 * never printed), an https DSN through a CONNECT tunnel (`HTTPS_PROXY`, upper case), and directly
 * when `no_proxy` names the host. The proxy and the ingest are real loopback servers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startAgentApp, type AgentApp } from '../helpers/agent-process';
import { ForwardProxy } from '../helpers/forward-proxy';
import { waitFor } from '../helpers/ports';
import { ENVELOPE_PATH, OTLP_PATH, SentryIngest } from '../helpers/sentry-ingest';
import { selfSignedLoopbackCertificate } from '../helpers/tls-cert';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function failOnce(app: AgentApp, ingest: SentryIngest): Promise<void> {
  expect((await app.request('/fail')).status).toBe(500);
  await waitFor(() => ingest.events().find((e) => e.message === 'HTTP 500 on GET /fail'), 30_000, 'the 500 at the ingest');
}

describe('a proxy between the agent and Sentry', () => {
  it('carries events for an http DSN as a forward proxy, with its credentials never printed', async () => {
    const ingest = new SentryIngest();
    const proxy = new ForwardProxy({ user: 'egress', password: 'pr0xy-s3cret' });
    const dsn = await ingest.start();
    const proxyUrl = proxy.url(await proxy.start());
    cleanup.push(
      () => ingest.stop(),
      () => proxy.stop(),
    );
    const app = await startAgentApp({ fixture: 'sentry-http-app.cjs', env: { SENTRY_DSN: dsn, http_proxy: proxyUrl, SENTRY_DEBUG: 'true' } });
    cleanup.push(() => app.stop());
    await failOnce(app, ingest);
    const forwarded = proxy.seen.filter((s) => s.target.includes(ENVELOPE_PATH));
    expect(forwarded.length).toBeGreaterThan(0);
    expect(
      forwarded.every((s) => s.method === 'POST' && s.authorized && s.target.startsWith(`http://127.0.0.1:${new URL(dsn).port}${ENVELOPE_PATH}`)),
    ).toBe(true);
    expect(app.agentLines.join('\n')).toMatch(/through the proxy http:\/\/127\.0\.0\.1:\d+/);
    expect(app.stdout + app.stderr).not.toContain('pr0xy-s3cret');
    expect(ingest.everythingReceived()).not.toContain('pr0xy-s3cret');
  });

  it('tunnels events and spans for an https DSN with CONNECT (HTTPS_PROXY)', async () => {
    const certificate = selfSignedLoopbackCertificate();
    const ingest = new SentryIngest({ tls: certificate });
    const proxy = new ForwardProxy();
    const dsn = await ingest.start();
    expect(dsn).toMatch(/^https:/);
    const proxyUrl = await proxy.start();
    cleanup.push(
      () => ingest.stop(),
      () => proxy.stop(),
    );
    const app = await startAgentApp({
      fixture: 'sentry-http-app.cjs',
      env: { SENTRY_DSN: dsn, HTTPS_PROXY: proxyUrl, SENTRY_TRACES_SAMPLE_RATE: '1', NODE_EXTRA_CA_CERTS: certificate.certFile },
    });
    cleanup.push(() => app.stop());
    await failOnce(app, ingest);
    await waitFor(() => (ingest.arrivals[OTLP_PATH] ? true : undefined), 30_000, 'spans at the ingest');
    const port = new URL(dsn).port;
    expect(proxy.seen.length).toBeGreaterThan(0);
    expect(proxy.seen.every((s) => s.method === 'CONNECT' && s.target === `127.0.0.1:${port}`)).toBe(true);
  });

  it('is bypassed for a host in no_proxy', async () => {
    const ingest = new SentryIngest();
    const proxy = new ForwardProxy();
    const dsn = await ingest.start();
    const proxyUrl = await proxy.start();
    cleanup.push(
      () => ingest.stop(),
      () => proxy.stop(),
    );
    const app = await startAgentApp({
      fixture: 'sentry-http-app.cjs',
      env: { SENTRY_DSN: dsn, HTTP_PROXY: proxyUrl, NO_PROXY: 'example.com, 127.0.0.1' },
    });
    cleanup.push(() => app.stop());
    await failOnce(app, ingest);
    expect(proxy.seen).toEqual([]);
  });
});
