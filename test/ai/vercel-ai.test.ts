/**
 * The Vercel AI SDK (`ai` 7 with `@ai-sdk/openai` 4 and `@ai-sdk/anthropic` 4): it calls the APIs
 * with fetch, so its calls are counted by the fetch path (undici's diagnostics channels), with no
 * hook on the SDK. `generateText` and `streamText` against the local APIs, which the agent knows
 * as `openai` and `anthropic` through TUTOR_OTEL_AI_PROVIDERS (the harness's provider map, standing
 * in for api.openai.com and api.anthropic.com, the providers' default hosts, which the agent knows
 * without configuration: the first test checks that against the real packages).
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAI } from '@ai-sdk/openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostAddress, httpEndpoint, ProviderMap } from '../../src/ai/endpoints';
import { USAGE } from '../helpers/llm-server';
import { waitFor } from '../helpers/ports';
import { AiHarness, Delta, type ActionSpec } from './harness';

const h = new AiHarness();
const O = USAGE.openai;
const A = USAGE.anthropic;
const MINI_COST = ((O.input - O.cached) * 0.15 + O.cached * 0.075 + O.output * 0.6) / 1e6;
const model = 'gpt-4o-mini';
const chat = { provider: 'openai', model, operation: 'chat' };

beforeAll(async () => {
  await h.start('ai-matrix-app.mjs', { bare: true });
});

afterAll(async () => {
  await h.stop();
});

async function both(spec: ActionSpec) {
  const [withAgent, without] = await Promise.all([h.run(spec), h.runBare(spec)]);
  return { withAgent, without };
}

describe('the providers default hosts', () => {
  it('are hosts and paths the agent counts with no configuration', () => {
    const builtIn = new ProviderMap([]);
    const openai = createOpenAI({ apiKey: 'k' });
    const urls: Array<[string | undefined, string, string]> = [
      [(openai.chat(model) as any).config.url({ path: '/chat/completions', modelId: model }), 'openai', 'chat'],
      [(openai.responses(model) as any).config.url({ path: '/responses', modelId: model }), 'openai', 'responses'],
      [`${(createAnthropic({ apiKey: 'k' })('claude-sonnet-4') as any).config.baseURL}/messages`, 'anthropic', 'chat'],
    ];
    for (const [url, provider, operation] of urls) {
      const parsed = new URL(String(url));
      expect(builtIn.lookup(hostAddress(parsed)!)).toBe(provider);
      expect(httpEndpoint(parsed.pathname)?.operation).toBe(operation);
    }
  });
});

describe('Vercel AI SDK with @ai-sdk/openai', () => {
  it('generateText: one chat generation, the asked-for model, tokens, cost and route', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'vercel-openai', model });
    });
    expect(result.withAgent.error).toBeUndefined();
    expect(result.withAgent.text).toBe('Hello there, learner!');
    expect(result.withAgent.data).toEqual(result.without.data);
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count', { ...chat, stream: 'false' })).toBe(1);
    expect(d.of('openai_api_calls_total', { model, operation: 'chat', status_code: '200' })).toBe(1);
    const route = { model, route: '/lessons/:id/explain' };
    expect(d.of('openai_tokens_used_total', { ...route, token_type: 'input' })).toBe(O.input);
    expect(d.of('openai_tokens_used_total', { ...route, token_type: 'output' })).toBe(O.output);
    expect(d.of('openai_cached_input_tokens_total', route)).toBe(O.cached);
    expect(d.of('openai_reasoning_tokens_total', route)).toBe(O.reasoning);
    expect(d.of('ai_cost_usd_total', { provider: 'openai', ...route })).toBeCloseTo(MINI_COST, 12);
    expect(d.of('ai_time_to_first_token_seconds_count')).toBe(0);
  });

  it('streamText: stream="true", time to first token, and the usage the SDK asked for itself, counted once', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'vercel-openai', model, stream: true });
    });
    expect(result.withAgent.items).toEqual(['Hello', ' there', ',', ' learner', '!']);
    expect(result.withAgent.data).toEqual(result.without.data);
    // @ai-sdk/openai sets include_usage on chat streams; the agent never rewrites fetch requests.
    expect(h.openai.requestsFor(result.withAgent.key)[0]?.body.stream_options).toEqual({ include_usage: true });
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count', { ...chat, stream: 'true' })).toBe(1);
    expect(d.of('ai_time_to_first_token_seconds_count', chat)).toBe(1);
    expect(d.of('openai_api_calls_total', { model, status_code: '200' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { model, token_type: 'input' })).toBe(O.input);
    expect(d.of('openai_tokens_used_total', { model, token_type: 'output' })).toBe(O.output);
  });

  it('generateText and streamText on the responses API', async () => {
    const d = await h.delta(async () => {
      await h.run({ sdk: 'vercel-openai', op: 'responses', model });
      await h.run({ sdk: 'vercel-openai', op: 'responses', model, stream: true });
    });
    const responses = { provider: 'openai', model, operation: 'responses' };
    expect(d.of('ai_generation_total', { ...responses, status: 'success' })).toBe(2);
    expect(d.of('ai_generation_total')).toBe(2);
    expect(d.of('ai_generation_duration_seconds_count', { ...responses, stream: 'false' })).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count', { ...responses, stream: 'true' })).toBe(1);
    expect(d.of('ai_time_to_first_token_seconds_count', responses)).toBe(1);
    expect(d.of('openai_tokens_used_total', { model, token_type: 'input' })).toBe(2 * O.input);
    expect(d.of('openai_tokens_used_total', { model, token_type: 'output' })).toBe(2 * O.output);
  });

  it('a 429: the attempt counted with its status, an error generation per HTTP attempt, the SDK error', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'vercel-openai', model, mode: 'fail:429:9', maxRetries: 1 });
    });
    expect(result.withAgent.error?.name).toBe('RetryError'); // the SDK's error after its retries
    expect(result.withAgent.error).toEqual(result.without.error);
    expect(h.openai.requestsFor(result.withAgent.key)).toHaveLength(2);
    expect(d.of('openai_api_calls_total', { model, operation: 'chat', status_code: '429' })).toBe(2);
    expect(d.of('openai_api_calls_total')).toBe(2);
    // The fetch path sees HTTP requests, not the SDK's retry loop: each attempt is a generation.
    expect(d.of('ai_generation_total', { ...chat, status: 'error' })).toBe(2);
    expect(d.of('ai_generation_total')).toBe(2);
    expect(d.of('openai_tokens_used_total')).toBe(0);
  });

  it('streamText aborted by the app: one cancelled generation, its first token, no usage', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      // Events far apart: the SDK reads ahead of the app, and the abort must come before the end.
      result = await both({ sdk: 'vercel-openai', model, stream: true, mode: 'slow:250', abortAfter: 2 });
    });
    expect(result.withAgent.items.slice(0, 2)).toEqual(['Hello', ' there']);
    expect(result.withAgent.items.length).toBeLessThan(5);
    expect(d.of('ai_generation_total', { ...chat, status: 'cancelled' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('ai_time_to_first_token_seconds_count', chat)).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count')).toBe(0);
    expect(d.of('openai_tokens_used_total')).toBe(0);
  });

  it('a textStream the app leaves without aborting: the SDK reads the answer to its end, so it is a success with usage', async () => {
    const before = await h.app.scrape();
    const result = await both({ sdk: 'vercel-openai', model, stream: true, mode: 'slow:40', breakAfter: 2 });
    // The SDK keeps reading the body after the app's loop ends: wait for the generation's end.
    const d = await waitFor(
      async () => {
        const delta = new Delta(before, await h.app.scrape());
        return delta.of('ai_generation_total') >= 1 ? delta : undefined;
      },
      10_000,
      'the generation to end',
    );
    expect(result.withAgent.items).toEqual(['Hello', ' there']);
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('openai_tokens_used_total', { model, token_type: 'output' })).toBe(O.output);
  });
});

describe('Vercel AI SDK with @ai-sdk/anthropic', () => {
  const claude = { provider: 'anthropic', model: 'claude-sonnet-4', operation: 'chat' };
  const input = A.input + A.cacheRead + A.cacheWrite;

  it('generateText: one generation with the cache-read part of the input', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'vercel-anthropic', model: 'claude-sonnet-4' });
    });
    expect(result.withAgent.text).toBe('Hello there, learner!');
    expect(result.withAgent.data).toEqual(result.without.data);
    expect(d.of('ai_generation_total', { ...claude, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count', { ...claude, stream: 'false' })).toBe(1);
    expect(d.of('openai_api_calls_total', { model: 'claude-sonnet-4', status_code: '200' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { model: 'claude-sonnet-4', token_type: 'input' })).toBe(input);
    expect(d.of('openai_tokens_used_total', { model: 'claude-sonnet-4', token_type: 'output' })).toBe(A.output);
    expect(d.of('openai_cached_input_tokens_total', { model: 'claude-sonnet-4' })).toBe(A.cacheRead);
  });

  it('streamText: stream="true", time to first token, the final usage (a running total, not added up)', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'vercel-anthropic', model: 'claude-sonnet-4', stream: true });
    });
    expect(result.withAgent.items).toEqual(['Hello', ' there', ',', ' learner', '!']);
    expect(d.of('ai_generation_total', { ...claude, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count', { ...claude, stream: 'true' })).toBe(1);
    expect(d.of('ai_time_to_first_token_seconds_count', claude)).toBe(1);
    expect(d.of('openai_tokens_used_total', { model: 'claude-sonnet-4', token_type: 'input' })).toBe(input);
    expect(d.of('openai_tokens_used_total', { model: 'claude-sonnet-4', token_type: 'output' })).toBe(A.output);
  });

  it('never logged a warning or an internal error', () => {
    expect(h.app.agentLines.filter((line) => !line.includes('info:'))).toEqual([]);
  });
});
