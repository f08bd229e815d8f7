/**
 * Continuous profiling through @sentry/profiling-node (a devDependency here, an optional peer for
 * users): with SENTRY_PROFILE_SESSION_SAMPLE_RATE=1 a `profile_chunk` reaches the loopback ingest
 * (the last one on SIGTERM), its frames name the app's own function, and the spans sent meanwhile
 * carry its profiler id and thread; with the variable unset, no chunk is ever sent.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { waitFor } from '../helpers/ports';
import { SentryIngest } from '../helpers/sentry-ingest';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function chunks(ingest: SentryIngest): Array<Record<string, any>> {
  return ingest
    .envelopes()
    .flatMap(([, items]) => items)
    .filter(([header]) => header.type === 'profile_chunk')
    .map(([, payload]) => (typeof payload === 'string' || payload instanceof Uint8Array ? JSON.parse(Buffer.from(payload).toString('utf8')) : payload));
}

async function crunchThenStop(ingest: SentryIngest, env: Record<string, string>): Promise<AgentApp> {
  const app = await startAgentApp({ fixture: 'sentry-breadcrumbs-app.cjs', env: { SENTRY_DSN: ingest.dsn, ...env } });
  cleanup.push(() => app.stop());
  await agentReady(app);
  expect((await app.request('/crunch?ms=800')).status).toBe(200);
  app.child.kill('SIGTERM');
  await app.exit;
  return app;
}

describe('continuous profiling', () => {
  it('sends profile chunks naming the app’s function, linked to the spans, when the rate is 1', async () => {
    const ingest = new SentryIngest();
    await ingest.start();
    cleanup.push(() => ingest.stop());
    const app = await crunchThenStop(ingest, { SENTRY_PROFILE_SESSION_SAMPLE_RATE: '1', SENTRY_TRACES_SAMPLE_RATE: '1' });
    const [chunk] = await waitFor(() => (chunks(ingest).length > 0 ? chunks(ingest) : undefined), 10_000, `a profile chunk (stderr: ${app.stderr})`);
    expect(chunk).toMatchObject({ platform: 'node', version: '2' });
    expect(chunk!.profiler_id).toMatch(/^[0-9a-f]{32}$/);
    const functions = (chunk!.profile.frames as Array<{ function?: string }>).map((f) => f.function);
    expect(functions).toContain('crunchLessonStatistics');
    expect(chunk!.profile.samples.length).toBeGreaterThan(10);

    const server = ingest.spans().find((s) => s.kind === 2 && s.name.includes('/crunch'));
    expect(server, JSON.stringify(ingest.spans().map((s) => s.name))).toBeDefined();
    expect(server!.attributes).toMatchObject({ 'sentry.profiler_id': chunk!.profiler_id, 'thread.name': 'main' });
    expect(Object.keys(chunk!.profile.thread_metadata)).toContain(server!.attributes['thread.id']);
  });

  it('lets a script that would exit, exit (the profiler never keeps the process alive)', async () => {
    const ingest = new SentryIngest();
    await ingest.start();
    cleanup.push(() => ingest.stop());
    const app = await startAgentApp({
      fixture: 'short-script.mjs',
      waitForListening: false,
      env: { SENTRY_DSN: ingest.dsn, SENTRY_PROFILE_SESSION_SAMPLE_RATE: '1' },
    });
    cleanup.push(() => app.stop());
    const exit = await Promise.race([app.exit, new Promise((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(app.stdout).toContain('script done');
  });

  it('sends no profile when SENTRY_PROFILE_SESSION_SAMPLE_RATE is unset', async () => {
    const ingest = new SentryIngest();
    await ingest.start();
    cleanup.push(() => ingest.stop());
    await crunchThenStop(ingest, { SENTRY_TRACES_SAMPLE_RATE: '1' });
    expect(chunks(ingest)).toEqual([]);
    // Spans went out (the same path the chunk would take was open), without a profiler id.
    expect(ingest.spans().length).toBeGreaterThan(0);
    expect(ingest.spans().every((s) => s.attributes['sentry.profiler_id'] === undefined)).toBe(true);
  });
});
