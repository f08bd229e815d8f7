/**
 * A CommonJS app under `--require`: the real `@anthropic-ai/sdk` and openai 4 (installed under the
 * npm alias `openai-v4`, named in TUTOR_OTEL_AI_PACKAGE_ALIASES), against local APIs. Anthropic's
 * usage in a stream is a running total (two message_delta events: 20 then 40 output tokens, 40 in
 * all), and its input tokens exclude cache reads and writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE } from '../helpers/llm-server';
import { AiHarness, type ActionSpec } from './harness';

const h = new AiHarness();
const A = USAGE.anthropic;
const O = USAGE.openai;
/** claude-sonnet-4 list prices per million: input 3, cache read 0.30, cache write 3.75, output 15. */
const SONNET_COST = (A.input * 3 + A.cacheRead * 0.3 + A.cacheWrite * 3.75 + A.output * 15) / 1e6;
const MINI_COST = ((O.input - O.cached) * 0.15 + O.cached * 0.075 + O.output * 0.6) / 1e6;

beforeAll(async () => {
  await h.start('ai-cjs-app.cjs', { bare: true, preload: ['require'] });
});

afterAll(async () => {
  await h.stop();
});

async function both(spec: ActionSpec) {
  const [withAgent, without] = await Promise.all([h.run(spec, '/courses/7f3a9c2e-1b4d-4e8a-9c3f-2a1b3c4d5e6f/chat'), h.runBare(spec)]);
  return { withAgent, without };
}

const claude = { provider: 'anthropic', model: 'claude-sonnet-4', operation: 'chat' };

describe('@anthropic-ai/sdk messages', () => {
  it('counts a message with cache reads and writes as input, and prices each part', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'anthropic', model: 'claude-sonnet-4' });
    });
    expect(result.withAgent.data).toEqual(result.without.data);
    expect(d.of('ai_generation_total', { ...claude, status: 'success' })).toBe(1);
    expect(d.of('openai_api_calls_total', { model: 'claude-sonnet-4', status_code: '200' })).toBe(1);
    const route = { model: 'claude-sonnet-4', route: '/courses/:id/chat' };
    expect(d.of('openai_tokens_used_total', { ...route, token_type: 'input' })).toBe(A.input + A.cacheRead + A.cacheWrite);
    expect(d.of('openai_tokens_used_total', { ...route, token_type: 'output' })).toBe(A.output);
    expect(d.of('openai_cached_input_tokens_total', route)).toBe(A.cacheRead);
    expect(d.of('ai_cost_usd_total', { provider: 'anthropic', ...route })).toBeCloseTo(SONNET_COST, 12);
  });

  it('reads a stream with cumulative usage (overwritten, never added) and the same events for the app', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'anthropic', model: 'claude-sonnet-4', stream: true });
    });
    expect(result.withAgent.items).toEqual(result.without.items);
    expect(result.withAgent.items.filter((e) => e.type === 'message_delta')).toHaveLength(2);
    expect(d.of('ai_generation_total', { ...claude, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count', { ...claude, stream: 'true' })).toBe(1);
    expect(d.of('ai_time_to_first_token_seconds_count', claude)).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'output' })).toBe(A.output);
    expect(d.of('openai_tokens_used_total', { token_type: 'input' })).toBe(A.input + A.cacheRead + A.cacheWrite);
    expect(d.of('ai_cost_usd_total', { model: 'claude-sonnet-4' })).toBeCloseTo(SONNET_COST, 12);
  });

  it('records a stream the app breaks out of as cancelled, with the input usage seen at its start', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'anthropic', model: 'claude-sonnet-4', stream: true, mode: 'slow:40', breakAfter: 4 });
    });
    expect(result.withAgent.items).toEqual(result.without.items);
    expect(d.of('ai_generation_total', { ...claude, status: 'cancelled' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    // message_start said 100 + 15 + 5 input tokens and 1 output token so far.
    expect(d.of('openai_tokens_used_total', { token_type: 'input' })).toBe(A.input + A.cacheRead + A.cacheWrite);
    expect(d.of('openai_tokens_used_total', { token_type: 'output' })).toBe(A.outputAtStart);
  });

  it('records an overloaded_error event inside the stream as an error, and the app gets the same error', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'anthropic', model: 'claude-sonnet-4', stream: true, mode: 'overloaded' });
    });
    expect(result.withAgent.error?.name).toBeDefined();
    expect(result.withAgent.error).toEqual(result.without.error);
    expect(result.withAgent.items).toEqual(result.without.items);
    expect(d.of('ai_generation_total', { ...claude, status: 'error' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
  });

  it('counts 429 retries per attempt and gives the app the SDK error class when they run out', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'anthropic', model: 'claude-sonnet-4', mode: 'fail:429:9', maxRetries: 2 });
    });
    expect(result.withAgent.error).toEqual(result.without.error);
    expect(result.withAgent.error).toMatchObject({ name: 'RateLimitError', status: 429 });
    expect(d.of('openai_api_calls_total', { model: 'claude-sonnet-4', status_code: '429' })).toBe(3);
    expect(d.of('ai_generation_total', { ...claude, status: 'error' })).toBe(1);
  });

  it('counts the messages.stream() helper once, and its final message is unchanged', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'anthropic', model: 'claude-sonnet-4', read: 'helper' });
    });
    expect(result.withAgent.error).toBeUndefined();
    expect(result.withAgent.data).toEqual(result.without.data);
    expect(result.withAgent.data.usage.output_tokens).toBe(A.output);
    expect(d.of('ai_generation_total', { ...claude, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'output' })).toBe(A.output);
  });

  it('.withResponse() and .asResponse() give what they give without the agent', async () => {
    const withResponse = await both({ sdk: 'anthropic', model: 'claude-sonnet-4', read: 'withResponse' });
    expect(withResponse.withAgent.status).toBe(200);
    expect(withResponse.withAgent.data).toEqual(withResponse.without.data);
    const asResponse = await both({ sdk: 'anthropic', model: 'claude-sonnet-4', stream: true, read: 'asResponse' });
    expect(asResponse.withAgent.text).toBe(asResponse.without.text);
    expect(asResponse.withAgent.text).toContain('event: message_stop');
  });
});

describe('openai 4 (node-fetch underneath)', () => {
  const chat = { provider: 'openai', model: 'gpt-4o-mini', operation: 'chat' };

  it('counts a chat completion with tokens and cost', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai-v4', model: 'gpt-4o-mini' });
    });
    expect(result.withAgent.data).toEqual(result.without.data);
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('openai_api_calls_total', { model: 'gpt-4o-mini', status_code: '200' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { model: 'gpt-4o-mini', token_type: 'input', route: '/courses/:id/chat' })).toBe(O.input);
    expect(d.of('ai_cost_usd_total', { model: 'gpt-4o-mini' })).toBeCloseTo(MINI_COST, 12);
  });

  it('adds include_usage to a stream and hides the extra chunk from the app', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai-v4', model: 'gpt-4o-mini', stream: true });
    });
    expect(result.withAgent.items.length).toBeGreaterThan(3);
    expect(result.withAgent.items).toEqual(result.without.items);
    expect(h.openai.requestsFor(result.withAgent.key)[0]?.body.stream_options).toEqual({ include_usage: true });
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'output' })).toBe(O.output);
  });

  it('counts each retry attempt and one generation', async () => {
    let result!: Awaited<ReturnType<typeof h.run>>;
    const d = await h.delta(async () => {
      result = await h.run({ sdk: 'openai-v4', model: 'gpt-4o-mini', mode: 'fail:500:1', maxRetries: 2 });
    });
    expect(result.error).toBeUndefined();
    expect(d.of('openai_api_calls_total', { model: 'gpt-4o-mini', status_code: '500' })).toBe(1);
    expect(d.of('openai_api_calls_total', { model: 'gpt-4o-mini', status_code: '200' })).toBe(1);
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
  });

  it('records a broken-off stream once, as cancelled', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai-v4', model: 'gpt-4o-mini', stream: true, mode: 'slow:40', breakAfter: 2 });
    });
    expect(result.withAgent.items).toEqual(result.without.items);
    expect(d.of('ai_generation_total', { ...chat, status: 'cancelled' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
  });

  it('counts embeddings, and a raw .asResponse() body unchanged (usage unseen under node-fetch)', async () => {
    let embeddings!: Awaited<ReturnType<typeof both>>;
    let raw!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      embeddings = await both({ sdk: 'openai-v4', op: 'embeddings', model: 'text-embedding-3-small' });
      raw = await both({ sdk: 'openai-v4', model: 'gpt-4o', read: 'asResponse' });
    });
    expect(embeddings.withAgent.data).toEqual(embeddings.without.data);
    expect(raw.withAgent.text).toBe(raw.without.text);
    expect(d.of('openai_tokens_used_total', { model: 'text-embedding-3-small', token_type: 'input' })).toBe(USAGE.embeddings.input);
    expect(d.of('ai_generation_total', { model: 'gpt-4o', status: 'success' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { model: 'gpt-4o' })).toBe(0);
  });

  it('never logged an internal error', () => {
    expect(h.app.agentLines.filter((line) => !line.includes('info:'))).toEqual([]);
  });
});
