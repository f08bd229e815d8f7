/**
 * The version matrix: every SDK major the agent hooks, each the real package (npm aliases for the
 * older majors), imported from one ESM app preloaded with the agent, against the local model APIs.
 * Each major gets the same four calls with exact counts and labels: a JSON answer, a stream (with
 * `stream_options.include_usage` added and hidden for OpenAI), a 429 that outlasts the retries,
 * and a stream the app leaves early. The `model` label is the model the app asked for, never the
 * dated one that answered.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/agent-process';
import { answeringModel, USAGE } from '../helpers/llm-server';
import { select } from '../helpers/prometheus-text';
import { AiHarness, type ActionSpec } from './harness';

const h = new AiHarness();
const O = USAGE.openai;
const A = USAGE.anthropic;

beforeAll(async () => {
  await h.start('ai-matrix-app.mjs', {
    bare: true,
    env: { TUTOR_OTEL_AI_PACKAGE_ALIASES: 'openai-v4,openai-v5,openai-v6,anthropic-v0' },
  });
});

afterAll(async () => {
  await h.stop();
});

async function both(spec: ActionSpec) {
  const [withAgent, without] = await Promise.all([h.run(spec), h.runBare(spec)]);
  return { withAgent, without };
}

/** The version of the package the app imports under `name` (an npm alias or the real name). */
function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** No series anywhere carries the dated model the server answered with. */
function expectNoDatedModel(samples: { labels: Record<string, string> }[], model: string, anthropic = false): void {
  const dated = answeringModel(model, anthropic);
  expect(samples.filter((s) => s.labels.model === dated)).toEqual([]);
}

const OPENAI_MAJORS = [
  ['openai 4', 'openai-v4', '4.'],
  ['openai 5', 'openai-v5', '5.'],
  ['openai 6', 'openai-v6', '6.'],
  ['openai 7', 'openai', '7.'],
] as const;

for (const [title, sdk, major] of OPENAI_MAJORS) {
  describe(title, () => {
    const model = 'gpt-4o-mini';
    const chat = { provider: 'openai', model, operation: 'chat' };

    it(`is the real openai package at ${major}x`, () => {
      expect(installedVersion(sdk).startsWith(major)).toBe(true);
    });

    it('JSON: one generation and one attempt under the asked-for model, tokens, no time to first token', async () => {
      let result!: Awaited<ReturnType<typeof both>>;
      const d = await h.delta(async () => {
        result = await both({ sdk, model });
      });
      expect(result.withAgent.error).toBeUndefined();
      expect(result.withAgent.data).toEqual(result.without.data);
      expect(result.withAgent.data.model).toBe(answeringModel(model));
      expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
      expect(d.of('ai_generation_total')).toBe(1);
      expect(d.of('ai_generation_duration_seconds_count', { ...chat, stream: 'false' })).toBe(1);
      expect(d.of('openai_api_calls_total', { model, operation: 'chat', status_code: '200' })).toBe(1);
      expect(d.of('openai_api_calls_total')).toBe(1);
      expect(d.of('openai_tokens_used_total', { model, token_type: 'input', route: '/lessons/:id/explain' })).toBe(O.input);
      expect(d.of('openai_tokens_used_total', { model, token_type: 'output' })).toBe(O.output);
      expect(d.of('ai_time_to_first_token_seconds_count')).toBe(0);
      expectNoDatedModel(d.after, model);
    });

    it('stream: stream="true", time to first token, include_usage added and hidden, tokens counted', async () => {
      let result!: Awaited<ReturnType<typeof both>>;
      const d = await h.delta(async () => {
        result = await both({ sdk, model, stream: true });
      });
      const { withAgent, without } = result;
      expect(withAgent.error).toBeUndefined();
      expect(withAgent.items.length).toBeGreaterThan(3);
      expect(withAgent.items).toEqual(without.items);
      expect(withAgent.items.some((item) => 'usage' in item)).toBe(false);
      expect(h.openai.requestsFor(withAgent.key)[0]?.body.stream_options).toEqual({ include_usage: true });
      expect(h.openai.requestsFor(without.key)[0]?.body.stream_options).toBeUndefined();
      expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
      expect(d.of('ai_generation_total')).toBe(1);
      expect(d.of('ai_generation_duration_seconds_count', { ...chat, stream: 'true' })).toBe(1);
      expect(d.of('ai_time_to_first_token_seconds_count', chat)).toBe(1);
      expect(d.of('openai_api_calls_total', { model, status_code: '200' })).toBe(1);
      expect(d.of('openai_tokens_used_total', { model, token_type: 'input' })).toBe(O.input);
      expect(d.of('openai_tokens_used_total', { model, token_type: 'output' })).toBe(O.output);
      expectNoDatedModel(d.after, model);
    });

    it('429 past the retries: every attempt counted, one error generation, the SDK error class', async () => {
      let result!: Awaited<ReturnType<typeof both>>;
      const d = await h.delta(async () => {
        result = await both({ sdk, model, mode: 'fail:429:9', maxRetries: 1 });
      });
      expect(result.withAgent.error).toMatchObject({ name: 'RateLimitError', status: 429 });
      expect(result.withAgent.error).toEqual(result.without.error);
      expect(h.openai.requestsFor(result.withAgent.key)).toHaveLength(2);
      expect(d.of('openai_api_calls_total', { model, operation: 'chat', status_code: '429' })).toBe(2);
      expect(d.of('openai_api_calls_total')).toBe(2);
      expect(d.of('ai_generation_total', { ...chat, status: 'error' })).toBe(1);
      expect(d.of('ai_generation_total')).toBe(1);
      expect(d.of('openai_tokens_used_total')).toBe(0);
    });

    it('a stream the app leaves early: one cancelled generation, its first token, no usage', async () => {
      let result!: Awaited<ReturnType<typeof both>>;
      const d = await h.delta(async () => {
        result = await both({ sdk, model, stream: true, mode: 'slow:40', breakAfter: 2 });
      });
      expect(result.withAgent.items).toEqual(result.without.items);
      expect(result.withAgent.items).toHaveLength(2);
      expect(d.of('ai_generation_total', { ...chat, status: 'cancelled' })).toBe(1);
      expect(d.of('ai_generation_total')).toBe(1);
      expect(d.of('ai_time_to_first_token_seconds_count', chat)).toBe(1);
      expect(d.of('ai_generation_duration_seconds_count')).toBe(0);
      expect(d.of('openai_tokens_used_total')).toBe(0);
    });
  });
}

const ANTHROPIC_MAJORS = [
  ['@anthropic-ai/sdk 0', 'anthropic-v0', 'anthropic-v0', '0.'],
  ['@anthropic-ai/sdk 1', 'anthropic', '@anthropic-ai/sdk', '1.'],
] as const;

for (const [title, sdk, installed, major] of ANTHROPIC_MAJORS) {
  describe(title, () => {
    const model = 'claude-sonnet-4';
    const claude = { provider: 'anthropic', model, operation: 'chat' };
    const input = A.input + A.cacheRead + A.cacheWrite;

    it(`is the real @anthropic-ai/sdk package at ${major}x`, () => {
      expect(installedVersion(installed).startsWith(major)).toBe(true);
    });

    it('JSON: one generation and one attempt under the asked-for model, tokens', async () => {
      let result!: Awaited<ReturnType<typeof both>>;
      const d = await h.delta(async () => {
        result = await both({ sdk, model });
      });
      expect(result.withAgent.error).toBeUndefined();
      expect(result.withAgent.data).toEqual(result.without.data);
      expect(d.of('ai_generation_total', { ...claude, status: 'success' })).toBe(1);
      expect(d.of('ai_generation_total')).toBe(1);
      expect(d.of('ai_generation_duration_seconds_count', { ...claude, stream: 'false' })).toBe(1);
      expect(d.of('openai_api_calls_total', { model, operation: 'chat', status_code: '200' })).toBe(1);
      expect(d.of('openai_tokens_used_total', { model, token_type: 'input' })).toBe(input);
      expect(d.of('openai_tokens_used_total', { model, token_type: 'output' })).toBe(A.output);
      expectNoDatedModel(d.after, model, true);
    });

    it('stream: stream="true", time to first token, the final usage', async () => {
      let result!: Awaited<ReturnType<typeof both>>;
      const d = await h.delta(async () => {
        result = await both({ sdk, model, stream: true });
      });
      expect(result.withAgent.error).toBeUndefined();
      expect(result.withAgent.items).toEqual(result.without.items);
      expect(d.of('ai_generation_total', { ...claude, status: 'success' })).toBe(1);
      expect(d.of('ai_generation_duration_seconds_count', { ...claude, stream: 'true' })).toBe(1);
      expect(d.of('ai_time_to_first_token_seconds_count', claude)).toBe(1);
      expect(d.of('openai_tokens_used_total', { model, token_type: 'input' })).toBe(input);
      expect(d.of('openai_tokens_used_total', { model, token_type: 'output' })).toBe(A.output);
      expectNoDatedModel(d.after, model, true);
    });

    it('429 past the retries: every attempt counted, one error generation, the SDK error class', async () => {
      let result!: Awaited<ReturnType<typeof both>>;
      const d = await h.delta(async () => {
        result = await both({ sdk, model, mode: 'fail:429:9', maxRetries: 1 });
      });
      expect(result.withAgent.error).toMatchObject({ name: 'RateLimitError', status: 429 });
      expect(result.withAgent.error).toEqual(result.without.error);
      expect(d.of('openai_api_calls_total', { model, status_code: '429' })).toBe(2);
      expect(d.of('ai_generation_total', { ...claude, status: 'error' })).toBe(1);
      expect(d.of('ai_generation_total')).toBe(1);
    });

    it('a stream the app leaves early: one cancelled generation with the usage seen so far', async () => {
      let result!: Awaited<ReturnType<typeof both>>;
      const d = await h.delta(async () => {
        result = await both({ sdk, model, stream: true, mode: 'slow:40', breakAfter: 4 });
      });
      expect(result.withAgent.items).toEqual(result.without.items);
      expect(d.of('ai_generation_total', { ...claude, status: 'cancelled' })).toBe(1);
      expect(d.of('ai_generation_total')).toBe(1);
      expect(d.of('openai_tokens_used_total', { model, token_type: 'input' })).toBe(input);
      expect(d.of('openai_tokens_used_total', { model, token_type: 'output' })).toBe(A.outputAtStart);
    });
  });
}

describe('the matrix app', () => {
  it('hooked every major without a warning or an internal error', () => {
    expect(h.app.agentLines.filter((line) => !line.includes('info:'))).toEqual([]);
  });

  it('has one model series per asked-for model on /metrics', async () => {
    const models = new Set(select(await h.app.scrape(), 'ai_generation_total').map((s) => s.labels.model));
    expect([...models].sort()).toEqual(['claude-sonnet-4', 'gpt-4o-mini']);
  });
});
