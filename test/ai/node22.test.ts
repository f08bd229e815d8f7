/**
 * The oldest supported runtime, Node 22.15: the ESM hook runs in a loader thread there, and its
 * undici publishes no body-chunk channels. SDK calls are counted in full; a plain fetch call is
 * counted without its model and tokens. `.ci/run` unpacks that Node into .cache/node22.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, REPO, startAgentApp } from '../helpers/agent-process';
import { USAGE } from '../helpers/llm-server';
import { AiHarness } from './harness';

const node22 = process.env.NODE22_BIN ?? path.join(REPO, '.cache/node22/package/bin/node');
const present = existsSync(node22);
if (!present && process.env.CI === 'true') throw new Error(`Node 22.15 is missing at ${node22}; .ci/run installs it`);

describe.skipIf(!present)('AI meters on Node 22.15', () => {
  const h = new AiHarness();

  beforeAll(async () => {
    await h.openai.start();
    await h.anthropic.start();
    h.app = await startAgentApp({
      fixture: 'ai-esm-app.mjs',
      nodeBinary: node22,
      env: {
        OTEL_SERVICE_NAME: 'ai-node22',
        TUTOR_OTEL_AI_PROVIDERS: `${h.openai.hostPort}=openai,${h.anthropic.hostPort}=anthropic`,
        TUTOR_OTEL_AI_INCLUDE_USAGE_HOSTS: h.openai.hostPort,
        TUTOR_OTEL_AI_PACKAGE_ALIASES: 'openai-v4',
      },
    });
    await agentReady(h.app);
  });

  afterAll(async () => {
    await h.app?.stop();
    await Promise.all([h.openai.stop(), h.anthropic.stop()]);
  });

  it('counts SDK calls imported from ESM in full, streams included', async () => {
    const d = await h.delta(async () => {
      await h.run({ sdk: 'openai', model: 'gpt-4o-mini', stream: true });
      await h.run({ sdk: 'anthropic', model: 'claude-sonnet-4' });
    });
    expect(d.of('ai_generation_total', { provider: 'openai', model: 'gpt-4o-mini', status: 'success' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { model: 'gpt-4o-mini', token_type: 'input', route: '/lessons/:id/explain' })).toBe(USAGE.openai.input);
    expect(d.of('openai_tokens_used_total', { model: 'claude-sonnet-4', token_type: 'output' })).toBe(USAGE.anthropic.output);
  });

  it('counts a plain fetch call, without tokens (no body channels on this Node)', async () => {
    const d = await h.delta(() => h.run({ sdk: 'fetch', path: '/v1/chat/completions', model: 'gpt-4o-mini' }));
    expect(d.of('ai_generation_total', { provider: 'openai', status: 'success' })).toBe(1);
    expect(d.of('openai_api_calls_total', { status_code: '200' })).toBe(1);
    expect(h.app.agentLines.filter((line) => !line.includes('info:'))).toEqual([]);
  });
});
