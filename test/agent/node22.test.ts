/**
 * The oldest supported runtime, Node 22.15: there `module.registerHooks` cannot run the ESM hook
 * in-thread, so the agent falls back to the `module.register` loader thread; an ESM app's
 * `import pg from 'pg'` and `import Redis from 'ioredis'` must still be instrumented.
 * `.ci/run` unpacks that Node from the npm registry into .cache/node22.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, REPO, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { total } from '../helpers/prometheus-text';

const node22 = process.env.NODE22_BIN ?? path.join(REPO, '.cache/node22/package/bin/node');
const present = existsSync(node22);
if (!present && process.env.CI === 'true') throw new Error(`Node 22.15 is missing at ${node22}; .ci/run installs it`);
if (!present) console.warn(`skipping the Node 22.15 test: no binary at ${node22} (run .ci/run, or set NODE22_BIN)`);

describe.skipIf(!present)('Node 22.15 (loader-thread ESM hook)', () => {
  let app: AgentApp;
  beforeAll(async () => {
    app = await startAgentApp({ fixture: 'esm-app.mjs', nodeBinary: node22, env: { OTEL_SERVICE_NAME: 'node22-app' } });
    await agentReady(app);
    for (const id of [71, 71]) expect((await app.request(`/lessons/${id}`)).status).toBe(200);
  });
  afterAll(async () => app?.stop());

  it('instruments an ESM app through the module.register fallback', async () => {
    expect(app.agentLines.find((l) => l.includes('info:'))).toMatch(/ESM hook: loader-thread/);
    const samples = await app.scrape();
    expect(total(samples, 'cache_operations_total', { operation: 'GET', result: 'miss' })).toBe(1);
    expect(total(samples, 'cache_operations_total', { operation: 'GET', result: 'hit' })).toBe(1);
    expect(total(samples, 'db_query_duration_seconds_count', { operation: 'SELECT', status: 'ok' })).toBe(1);
    expect(total(samples, 'http_requests_total', { route: '/lessons/:id', service: 'node22-app' })).toBe(2);
  });
});
