/**
 * Process-level errors: an uncaught exception and an unhandled rejection are reported, and the
 * process still ends as Node ends it without the agent (exit code 1, the error's stack on
 * stderr), after a flush bounded by the shutdown deadline, even when Sentry never answers.
 * SIGTERM flushes the buffered events and spans, then ends the process by that signal.
 */
import { describe, expect, it } from 'vitest';
import { startAgentApp, type AgentApp } from '../helpers/agent-process';
import { waitFor } from '../helpers/ports';
import { SentryIngest, type SentryEvent } from '../helpers/sentry-ingest';

const exceptionOf = (event: SentryEvent) => event.exception?.values?.[event.exception.values.length - 1];

function traceparent(): { header: string; traceId: string } {
  const traceId = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return { header: `00-${traceId}-${'cd'.repeat(8)}-01`, traceId };
}

/** Sends a request that never gets an answer (the process dies, or the app swallows the error). */
async function requestThatKills(app: AgentApp, path: string, headers: Record<string, string> = {}): Promise<void> {
  await app.request(path, { headers, signal: AbortSignal.timeout(3_000) }).then(
    () => undefined,
    () => undefined,
  );
}

describe('an uncaught exception in a plain http handler', () => {
  it('is reported with the request and its trace, then ends the process as Node would', async () => {
    const ingest = new SentryIngest();
    const dsn = await ingest.start();
    const app = await startAgentApp({
      fixture: 'sentry-http-app.cjs',
      env: { SENTRY_DSN: dsn, SENTRY_TRACES_SAMPLE_RATE: '1', OTEL_SERVICE_NAME: 'plain' },
    });
    const bare = await startAgentApp({ fixture: 'sentry-http-app.cjs', preload: 'none' });
    const tp = traceparent();
    try {
      await requestThatKills(app, '/throw', { traceparent: tp.header });
      await requestThatKills(bare, '/throw');
      const [exit, bareExit] = await Promise.all([app.exit, bare.exit]);
      expect(exit).toEqual(bareExit);
      expect(exit).toEqual({ code: 1, signal: null });
      // Node's own report of the error: the stack and the version line.
      for (const stderr of [app.stderr, bare.stderr]) {
        expect(stderr).toMatch(/Error: thrown in a plain http handler\n\s+at Server\.<anonymous> \(.*sentry-http-app\.cjs:11:/);
        expect(stderr).toMatch(/\nNode\.js v\d+/);
      }

      // The event was delivered before the process ended.
      const event = ingest.events().find((e) => exceptionOf(e)?.value === 'thrown in a plain http handler');
      expect(event, JSON.stringify(ingest.events())).toBeDefined();
      expect(event!.level).toBe('fatal');
      expect(exceptionOf(event!).mechanism).toMatchObject({ type: 'auto.node.onuncaughtexception', handled: false });
      expect(event!.contexts.trace.trace_id).toBe(tp.traceId);
      expect(event!.tags).toMatchObject({ 'http.method': 'GET', 'http.route': '/throw', service: 'plain' });
      const frames: Array<Record<string, any>> = exceptionOf(event!).stacktrace.frames;
      expect(frames.at(-1)).toMatchObject({ lineno: 11, in_app: true });
      expect(String(frames.at(-1)!.filename)).toMatch(/sentry-http-app\.cjs$/);
    } finally {
      await app.stop();
      await bare.stop();
      await ingest.stop();
    }
  });
});

describe('an unhandled rejection', () => {
  it("is reported, and Node's default (the process ends with code 1) is kept", async () => {
    const ingest = new SentryIngest();
    const dsn = await ingest.start();
    const app = await startAgentApp({ fixture: 'sentry-http-app.cjs', env: { SENTRY_DSN: dsn, SENTRY_TRACES_SAMPLE_RATE: '1' } });
    try {
      await requestThatKills(app, '/reject');
      expect(await app.exit).toEqual({ code: 1, signal: null });
      expect(app.stderr).toMatch(/Error: rejected in a plain http handler\n\s+at Server\.<anonymous>/);
      const event = ingest.events().find((e) => exceptionOf(e)?.value === 'rejected in a plain http handler');
      expect(event, JSON.stringify(ingest.events())).toBeDefined();
      expect(exceptionOf(event!).mechanism).toMatchObject({ type: 'auto.node.onunhandledrejection', handled: false });
      expect(event!.level).toBe('fatal');
    } finally {
      await app.stop();
      await ingest.stop();
    }
  });
});

describe('a script that crashes with nothing else to run', () => {
  it('stays alive to report, then exits with code 1', async () => {
    const ingest = new SentryIngest();
    const dsn = await ingest.start();
    const app = await startAgentApp({
      fixture: 'sentry-crash-script.cjs',
      waitForListening: false,
      env: { SENTRY_DSN: dsn, SENTRY_TRACES_SAMPLE_RATE: '1' },
    });
    try {
      expect(await app.exit).toEqual({ code: 1, signal: null });
      expect(app.stderr).toContain('Error: script crashed');
      expect(ingest.events().map((e) => exceptionOf(e)?.value)).toContain('script crashed');
    } finally {
      await app.stop();
      await ingest.stop();
    }
  });

  it('exits once the flush deadline passes when Sentry accepts the connection and never answers', async () => {
    const ingest = new SentryIngest();
    const dsn = await ingest.start('stalled');
    const app = await startAgentApp({
      fixture: 'sentry-crash-script.cjs',
      waitForListening: false,
      env: { SENTRY_DSN: dsn, SENTRY_TRACES_SAMPLE_RATE: '1', TUTOR_OTEL_SHUTDOWN_TIMEOUT_MS: '1000' },
    });
    try {
      expect(await app.exit).toEqual({ code: 1, signal: null });
      const exitedAt = Date.now();
      const throwingAt = Number(/"throwingAt":(\d+)/.exec(app.stdout)?.[1]);
      // It waited for Sentry (1 s deadline), and not for the 5 s send timeout.
      expect(exitedAt - throwingAt).toBeGreaterThanOrEqual(1_000);
      expect(exitedAt - throwingAt).toBeLessThan(4_500);
      expect(ingest.posts.some((p) => p.path === '/api/1/envelope/')).toBe(true); // sent, never answered
      expect(app.stderr).toContain('Error: script crashed');
    } finally {
      await app.stop();
      await ingest.stop();
    }
  });
});

describe('SIGTERM', () => {
  it('flushes the buffered event and spans, then ends the process by the signal', async () => {
    const ingest = new SentryIngest();
    const dsn = await ingest.start();
    const app = await startAgentApp({
      fixture: 'sentry-express-app.cjs',
      env: { SENTRY_DSN: dsn, SENTRY_TRACES_SAMPLE_RATE: '1', NODE_ENV: 'production' },
    });
    const tp = traceparent();
    try {
      expect((await app.request('/api/lessons/5/fail', { headers: { traceparent: tp.header } })).status).toBe(500);
      app.child.kill('SIGTERM');
      expect(await app.exit).toEqual({ code: null, signal: 'SIGTERM' });
      // Spans wait up to 5 s in the batch, the event for the SDK to load: both left because of the flush.
      const event: SentryEvent | undefined = ingest.events().find((e) => exceptionOf(e)?.value === 'lesson 5 failed');
      expect(event).toBeDefined();
      expect(event!.contexts.trace.trace_id).toBe(tp.traceId);
      expect(ingest.spans().some((s) => s.traceId === tp.traceId && s.kind === 2)).toBe(true);
    } finally {
      await app.stop();
      await ingest.stop();
    }
  });
});

describe('an app with its own uncaughtException listener', () => {
  it('is left to decide: the error is reported and the process keeps running', async () => {
    const ingest = new SentryIngest();
    const dsn = await ingest.start();
    const app = await startAgentApp({
      fixture: 'sentry-http-app.cjs',
      nodeArgs: ['--require', `${__dirname}/../fixtures/sentry-keep-alive.cjs`],
      env: { SENTRY_DSN: dsn, SENTRY_TRACES_SAMPLE_RATE: '1' },
    });
    try {
      await requestThatKills(app, '/throw');
      await waitFor(() => ingest.events().find((e) => exceptionOf(e)?.value === 'thrown in a plain http handler'), 30_000, 'the event');
      expect(app.exited).toBeUndefined();
      expect((await app.request('/ok')).status).toBe(200);
      expect(app.stdout).toContain('app handled: thrown in a plain http handler');
    } finally {
      await app.stop();
      await ingest.stop();
    }
  });
});
