/**
 * Generations made with plain `fetch` to a known AI host (the local APIs, named as openai and
 * anthropic in TUTOR_OTEL_AI_PROVIDERS), read from undici's diagnostics channels: the app's
 * Response is untouched, the agent reads the bytes on the side (gzip included), and a call an SDK
 * makes through fetch is counted once, by the SDK hook.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE } from '../helpers/llm-server';
import { AiHarness, type ActionSpec } from './harness';

const h = new AiHarness();
const O = USAGE.openai;
const A = USAGE.anthropic;
const MINI_COST = ((O.input - O.cached) * 0.15 + O.cached * 0.075 + O.output * 0.6) / 1e6;
const chat = { provider: 'openai', model: 'gpt-4o-mini', operation: 'chat' };
const CHAT = '/v1/chat/completions';

beforeAll(async () => {
  await h.start('ai-esm-app.mjs', { bare: true });
});

afterAll(async () => {
  await h.stop();
});

async function both(spec: Omit<ActionSpec, 'sdk'>) {
  const full: ActionSpec = { sdk: 'fetch', path: CHAT, ...spec };
  const [withAgent, without] = await Promise.all([h.run(full, '/tutor/ask'), h.runBare(full, '/tutor/ask')]);
  return { withAgent, without };
}

describe('plain fetch to a known AI host', () => {
  it('counts a JSON chat completion: provider from the host, tokens, cost and route', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ model: 'gpt-4o-mini' });
    });
    expect(result.withAgent.data).toEqual(result.without.data);
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count', { ...chat, stream: 'false' })).toBe(1);
    expect(d.of('openai_api_calls_total', { model: 'gpt-4o-mini', operation: 'chat', status_code: '200' })).toBe(1);
    const route = { model: 'gpt-4o-mini', route: '/tutor/ask' };
    expect(d.of('openai_tokens_used_total', { ...route, token_type: 'input' })).toBe(O.input);
    expect(d.of('openai_tokens_used_total', { ...route, token_type: 'output' })).toBe(O.output);
    expect(d.of('openai_cached_input_tokens_total', route)).toBe(O.cached);
    expect(d.of('openai_reasoning_tokens_total', route)).toBe(O.reasoning);
    expect(d.of('ai_cost_usd_total', { provider: 'openai', ...route })).toBeCloseTo(MINI_COST, 12);
  });

  it('reads a stream event by event: usage from the last chunk the app asked for, first-token time', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({
        model: 'gpt-4o-mini',
        stream: true,
        body: { model: 'gpt-4o-mini', messages: [], stream: true, stream_options: { include_usage: true } },
      });
    });
    expect(result.withAgent.text).toBe(result.without.text);
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count', { ...chat, stream: 'true' })).toBe(1);
    expect(d.of('ai_time_to_first_token_seconds_count', chat)).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'output' })).toBe(O.output);
  });

  it('never changes a fetch request: a stream without include_usage is counted without tokens', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ model: 'gpt-4o-mini', stream: true });
    });
    expect(result.withAgent.text).toBe(result.without.text);
    expect(h.openai.requestsFor(result.withAgent.key)[0]?.body).toEqual(h.openai.requestsFor(result.without.key)[0]?.body);
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('openai_tokens_used_total')).toBe(0);
  });

  it('decompresses gzip bodies on the side, JSON and event streams', async () => {
    let json!: Awaited<ReturnType<typeof both>>;
    let stream!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      json = await both({ model: 'gpt-4o-mini', mode: 'gzip' });
      stream = await both({
        model: 'gpt-4o-mini',
        mode: 'gzip',
        stream: true,
        body: { model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true } },
      });
    });
    expect(json.withAgent.data).toEqual(json.without.data);
    expect(stream.withAgent.text).toBe(stream.without.text);
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(2);
    expect(d.of('openai_tokens_used_total', { token_type: 'input' })).toBe(2 * O.input);
  });

  it('finds the model in a large request body without keeping it', async () => {
    const prompt = 'x'.repeat(2_000_000);
    const d = await h.delta(() =>
      h.run({ sdk: 'fetch', path: CHAT, model: 'gpt-4o', body: { messages: [{ role: 'user', content: prompt }], temperature: 0, model: 'gpt-4o' } }),
    );
    expect(d.of('ai_generation_total', { model: 'gpt-4o', status: 'success' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { model: 'gpt-4o', token_type: 'input' })).toBe(O.input);
  });

  it('counts the responses API streamed over fetch', async () => {
    const d = await h.delta(() =>
      h.run({ sdk: 'fetch', path: '/v1/responses', model: 'gpt-4o-mini', stream: true, body: { model: 'gpt-4o-mini', input: 'hi', stream: true } }),
    );
    expect(d.of('ai_generation_total', { operation: 'responses', status: 'success' })).toBe(1);
    expect(d.of('ai_time_to_first_token_seconds_count', { operation: 'responses' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'input' })).toBe(O.input);
  });

  it("counts Anthropic's messages over fetch, with running-total usage", async () => {
    const body = { model: 'claude-3-5-haiku-20241022', max_tokens: 10, messages: [], stream: true };
    const d = await h.delta(() => h.run({ sdk: 'fetch', server: 'anthropic', path: '/v1/messages', model: body.model, stream: true, body }));
    const m = { provider: 'anthropic', model: 'claude-3-5-haiku-20241022' };
    expect(d.of('ai_generation_total', { ...m, status: 'success' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { model: m.model, token_type: 'output' })).toBe(A.output);
    // claude-3-5-haiku: input 0.80, cache read 0.08, cache write 1.00, output 4.
    expect(d.of('ai_cost_usd_total', m)).toBeCloseTo((A.input * 0.8 + A.cacheRead * 0.08 + A.cacheWrite * 1 + A.output * 4) / 1e6, 12);
  });
});

describe('fetch calls that end early or fail', () => {
  it('records a body the app cancels as cancelled, once', async () => {
    const d = await h.delta(() => h.run({ sdk: 'fetch', path: CHAT, model: 'gpt-4o-mini', stream: true, mode: 'slow:100', cancelAfter: 1 }));
    expect(d.of('ai_generation_total', { ...chat, status: 'cancelled' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('openai_api_calls_total', { status_code: '200' })).toBe(1);
  });

  it('records an AbortController abort as cancelled', async () => {
    const d = await h.delta(() => h.run({ sdk: 'fetch', path: CHAT, model: 'gpt-4o-mini', stream: true, mode: 'slow:100', abortAfter: 1 }));
    expect(d.of('ai_generation_total', { ...chat, status: 'cancelled' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
  });

  it('records a timeout (AbortSignal.timeout) as an error with an attempt that got no response', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ model: 'gpt-4o-mini', mode: 'delay:5000', timeoutMs: 300 });
    });
    expect(result.withAgent.error).toEqual(result.without.error);
    expect(result.withAgent.error?.errorName).toBe('TimeoutError');
    expect(d.of('ai_generation_total', { ...chat, status: 'error' })).toBe(1);
    expect(d.of('openai_api_calls_total', { model: 'gpt-4o-mini', status_code: 'error' })).toBe(1);
  });

  it('records a 429 as an error attempt and an error generation', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ model: 'gpt-4o-mini', mode: 'fail:429:1' });
    });
    expect(result.withAgent.status).toBe(429);
    expect(result.withAgent.data).toEqual(result.without.data);
    expect(d.of('openai_api_calls_total', { model: 'gpt-4o-mini', status_code: '429' })).toBe(1);
    expect(d.of('ai_generation_total', { ...chat, status: 'error' })).toBe(1);
  });

  it('records an error event the API sends inside a 200 stream as an error', async () => {
    const anthropicBody = { model: 'claude-sonnet-4', max_tokens: 10, messages: [], stream: true };
    const d = await h.delta(async () => {
      await h.run({ sdk: 'fetch', path: CHAT, model: 'gpt-4o-mini', stream: true, mode: 'overloaded' });
      await h.run({
        sdk: 'fetch',
        server: 'anthropic',
        path: '/v1/messages',
        model: 'claude-sonnet-4',
        stream: true,
        body: anthropicBody,
        mode: 'overloaded',
      });
    });
    expect(d.of('ai_generation_total', { ...chat, status: 'error' })).toBe(1);
    expect(d.of('ai_generation_total', { provider: 'anthropic', status: 'error' })).toBe(1);
    expect(d.of('ai_generation_total', { status: 'success' })).toBe(0);
    expect(d.of('openai_api_calls_total', { status_code: '200' })).toBe(2);
  });

  it('records a stream cut mid-event as an error', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ model: 'gpt-4o-mini', stream: true, mode: 'cut' });
    });
    expect(result.withAgent.error).toEqual(result.without.error);
    expect(d.of('ai_generation_total', { ...chat, status: 'error' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
  });
});

describe('what is not counted', () => {
  it('counts a call the SDK makes through fetch once, by the SDK hook', async () => {
    const d = await h.delta(() => h.run({ sdk: 'openai', model: 'gpt-4o-mini', stream: true }));
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('openai_api_calls_total')).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'input' })).toBe(O.input);
  });

  it('ignores hosts that are not AI hosts, and other paths and methods on AI hosts', async () => {
    const unknownHost = h.openai.url.replace('127.0.0.1', 'localhost');
    const d = await h.delta(async () => {
      await h.run({ sdk: 'fetch', baseURL: unknownHost, path: CHAT, model: 'gpt-4o-mini' });
      await h.run({ sdk: 'fetch', path: '/v1/chat/completions/chatcmpl-test', model: 'gpt-4o-mini' });
      await h.run({ sdk: 'fetch', path: '/v1/files', model: 'gpt-4o-mini' });
    });
    expect(d.of('ai_generation_total')).toBe(0);
    expect(d.of('openai_api_calls_total')).toBe(0);
  });

  it('never logged an internal error', () => {
    expect(h.app.agentLines.filter((line) => !line.includes('info:'))).toEqual([]);
  });
});
