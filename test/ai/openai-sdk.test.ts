/**
 * An ESM app using the real `openai` 7 SDK (the current release) against a local OpenAI-compatible API, preloaded with
 * the agent: exact generation, attempt, token and cost counts, and what the app gets back compared
 * with the same app run without the agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { select } from '../helpers/prometheus-text';
import { USAGE } from '../helpers/llm-server';
import { AiHarness, type ActionSpec } from './harness';

const h = new AiHarness();
const O = USAGE.openai;
/** gpt-4o-mini list prices per million: input 0.15, cached input 0.075, output 0.6. */
const MINI_COST = ((O.input - O.cached) * 0.15 + O.cached * 0.075 + O.output * 0.6) / 1e6;

beforeAll(async () => {
  await h.start('ai-esm-app.mjs', { bare: true, startupCall: { sdk: 'openai', model: 'gpt-4o' } });
});

afterAll(async () => {
  await h.stop();
});

/** The action with and without the agent; both results. */
async function both(spec: ActionSpec) {
  const [withAgent, without] = await Promise.all([h.run(spec), h.runBare(spec)]);
  return { withAgent, without };
}

const chat = { provider: 'openai', model: 'gpt-4o-mini', operation: 'chat' };

describe('openai 7 chat completions', () => {
  it('counts one generation, one attempt, tokens with their cached and reasoning parts, cost and route', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', model: 'gpt-4o-mini' });
    });
    expect(result.withAgent.data).toEqual(result.without.data);
    expect(result.withAgent.requestId).toBe('present');
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count', { ...chat, stream: 'false' })).toBe(1);
    expect(d.of('openai_api_calls_total', { model: 'gpt-4o-mini', operation: 'chat', status_code: '200' })).toBe(1);
    const route = { model: 'gpt-4o-mini', route: '/lessons/:id/explain' };
    expect(d.of('openai_tokens_used_total', { ...route, token_type: 'input' })).toBe(O.input);
    expect(d.of('openai_tokens_used_total', { ...route, token_type: 'output' })).toBe(O.output);
    expect(d.of('openai_cached_input_tokens_total', route)).toBe(O.cached);
    expect(d.of('openai_reasoning_tokens_total', route)).toBe(O.reasoning);
    expect(d.of('ai_cost_usd_total', { provider: 'openai', ...route })).toBeCloseTo(MINI_COST, 12);
    expect(d.of('ai_unpriced_calls_total')).toBe(0);
    expect(d.of('ai_time_to_first_token_seconds_count')).toBe(0);
  });

  it('gives the duration histogram the alert bounds and every series the service label', async () => {
    const samples = await h.app.scrape();
    const bounds = select(samples, 'ai_generation_duration_seconds_bucket', chat).map((s) => s.labels.le);
    for (const bound of ['0.5', '1', '2', '3', '5', '8', '10', '20', '30', '60', '120', '+Inf']) expect(bounds).toContain(bound);
    const ai = samples.filter((s) => /^(ai_|openai_)/.test(s.name));
    expect(ai.length).toBeGreaterThan(0);
    for (const sample of ai) expect(sample.labels.service).toBe('ai-fixture');
    // Off by default: the semantic-convention twins are not on the Prometheus endpoint.
    expect(samples.some((s) => s.name.startsWith('gen_ai'))).toBe(false);
  });

  it('labels a call made outside any request with route __none__', async () => {
    const samples = await h.app.scrape();
    const input = select(samples, 'openai_tokens_used_total', { model: 'gpt-4o', token_type: 'input' });
    expect(input.map((s) => [s.labels.route, s.value])).toEqual([['__none__', O.input]]);
  });

  it('adds include_usage on an allow-listed host, hides the extra chunk, and counts the usage', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', model: 'gpt-4o-mini', stream: true });
    });
    const { withAgent, without } = result;
    expect(withAgent.error).toBeUndefined();
    expect(withAgent.items.length).toBeGreaterThan(3);
    expect(withAgent.items).toEqual(without.items);
    expect(withAgent.items.some((item) => 'usage' in item)).toBe(false);
    // The agent asked the API for usage; the app did not.
    expect(h.openai.requestsFor(withAgent.key)[0]?.body.stream_options).toEqual({ include_usage: true });
    expect(h.openai.requestsFor(without.key)[0]?.body.stream_options).toBeUndefined();
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count', { ...chat, stream: 'true' })).toBe(1);
    expect(d.of('ai_time_to_first_token_seconds_count', chat)).toBe(1);
    expect(d.of('openai_tokens_used_total', { model: 'gpt-4o-mini', token_type: 'input' })).toBe(O.input);
    expect(d.of('openai_tokens_used_total', { model: 'gpt-4o-mini', token_type: 'output' })).toBe(O.output);
    expect(d.of('ai_cost_usd_total', { model: 'gpt-4o-mini' })).toBeCloseTo(MINI_COST, 12);
  });

  it('passes the usage chunk through when the app asked for it, and counts it once', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', model: 'gpt-4o-mini', stream: true, includeUsage: true });
    });
    expect(result.withAgent.items).toEqual(result.without.items);
    const last = result.withAgent.items.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage.prompt_tokens).toBe(O.input);
    expect(d.of('openai_tokens_used_total', { model: 'gpt-4o-mini', token_type: 'input' })).toBe(O.input);
    expect(d.of('openai_cached_input_tokens_total', { model: 'gpt-4o-mini' })).toBe(O.cached);
  });

  it('leaves the request alone on a host off the allow-list (and names an unmapped provider openai_compatible)', async () => {
    const baseURL = `${h.openai.url.replace('127.0.0.1', 'localhost')}/v1`;
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', model: 'gpt-4o-mini', stream: true, baseURL });
    });
    expect(result.withAgent.items).toEqual(result.without.items);
    expect(h.openai.requestsFor(result.withAgent.key)[0]?.body.stream_options).toBeUndefined();
    expect(d.of('ai_generation_total', { provider: 'openai_compatible', model: 'gpt-4o-mini', status: 'success' })).toBe(1);
    // No usage in that stream: nothing is made up.
    expect(d.of('openai_tokens_used_total')).toBe(0);
    expect(d.of('ai_unpriced_calls_total')).toBe(0);
  });
});

describe('retries, errors and timeouts', () => {
  it('counts every attempt of an SDK retry and one successful generation', async () => {
    let result!: Awaited<ReturnType<typeof h.run>>;
    const d = await h.delta(async () => {
      result = await h.run({ sdk: 'openai', model: 'gpt-4o-mini', mode: 'fail:429:2', maxRetries: 2 });
    });
    expect(result.error).toBeUndefined();
    expect(h.openai.requestsFor(result.key)).toHaveLength(3);
    expect(d.of('openai_api_calls_total', { model: 'gpt-4o-mini', status_code: '429' })).toBe(2);
    expect(d.of('openai_api_calls_total', { model: 'gpt-4o-mini', status_code: '200' })).toBe(1);
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'input' })).toBe(O.input);
  });

  it('records a 500 that outlasts the retries as one error, and the app gets the SDK error class', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', model: 'gpt-4o-mini', mode: 'fail:500:9', maxRetries: 1 });
    });
    expect(result.withAgent.error).toEqual(result.without.error);
    expect(result.withAgent.error).toMatchObject({ name: 'InternalServerError', status: 500 });
    expect(d.of('openai_api_calls_total', { model: 'gpt-4o-mini', status_code: '500' })).toBe(2);
    expect(d.of('ai_generation_total', { ...chat, status: 'error' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('openai_tokens_used_total')).toBe(0);
  });

  it('records a timeout as an error with an attempt that got no response', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', model: 'gpt-4o-mini', mode: 'delay:5000', timeout: 300, maxRetries: 0 });
    });
    expect(result.withAgent.error?.name).toBe('APIConnectionTimeoutError');
    expect(result.withAgent.error).toEqual(result.without.error);
    expect(d.of('openai_api_calls_total', { model: 'gpt-4o-mini', status_code: 'error' })).toBe(1);
    expect(d.of('ai_generation_total', { ...chat, status: 'error' })).toBe(1);
  });

  it('records a stream cut mid-event as an error, once', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', model: 'gpt-4o-mini', stream: true, mode: 'cut' });
    });
    expect(result.withAgent.error?.name).toBeDefined();
    expect(result.withAgent.error?.name).toBe(result.without.error?.name);
    expect(result.withAgent.items).toEqual(result.without.items);
    expect(d.of('ai_generation_total', { ...chat, status: 'error' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
  });
});

describe('streams the app leaves early', () => {
  for (const [how, spec] of [
    ['breaks out of the loop', { breakAfter: 2 }],
    ['aborts the stream controller', { abortAfter: 2 }],
    ['throws inside its loop', { throwAfter: 2 }],
  ] as const) {
    it(`records a stream the app ${how} once, as cancelled, with what was seen`, async () => {
      let result!: Awaited<ReturnType<typeof both>>;
      const d = await h.delta(async () => {
        result = await both({ sdk: 'openai', model: 'gpt-4o-mini', stream: true, mode: 'slow:40', ...spec });
      });
      expect(result.withAgent.items).toEqual(result.without.items);
      expect(result.withAgent.error).toEqual(result.without.error);
      expect(result.withAgent.items.length).toBeGreaterThanOrEqual(2);
      expect(d.of('ai_generation_total', { ...chat, status: 'cancelled' })).toBe(1);
      expect(d.of('ai_generation_total')).toBe(1);
      // The first words were seen; the usage (at the end) never was.
      expect(d.of('ai_time_to_first_token_seconds_count', chat)).toBe(1);
      expect(d.of('openai_tokens_used_total')).toBe(0);
      // The abandoned request ends on the server side too, and nothing more is recorded for it.
      await new Promise((r) => setTimeout(r, 400));
      const later = await h.app.scrape();
      expect(later.filter((s) => s.name === 'ai_generation_total').reduce((n, s) => n + s.value, 0)).toBe(
        d.after.filter((s) => s.name === 'ai_generation_total').reduce((n, s) => n + s.value, 0),
      );
    });
  }
});

describe('what the app gets back is unchanged', () => {
  it('.withResponse() gives the same data and response status', async () => {
    const { withAgent, without } = await both({ sdk: 'openai', model: 'gpt-4o-mini', read: 'withResponse' });
    expect(withAgent.status).toBe(200);
    expect(withAgent.data).toEqual(without.data);
  });

  it('.asResponse() gives the raw body as the API sent it, still counted from the bytes', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', model: 'gpt-4o-mini', read: 'asResponse' });
    });
    expect(result.withAgent.isResponse).toBe(true);
    expect(result.withAgent.text).toBe(result.without.text);
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { model: 'gpt-4o-mini', token_type: 'input' })).toBe(O.input);
  });

  it('.asResponse() on a stream: the raw events unchanged, so no include_usage is added', async () => {
    const { withAgent, without } = await both({ sdk: 'openai', model: 'gpt-4o-mini', stream: true, read: 'asResponse' });
    expect(withAgent.text).toBe(without.text);
    expect(withAgent.text).toContain('data: [DONE]');
    expect(h.openai.requestsFor(withAgent.key)[0]?.body.stream_options).toBeUndefined();
  });

  it('tee() gives both branches the same chunks as without the agent', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', model: 'gpt-4o-mini', stream: true, read: 'tee' });
    });
    expect(result.withAgent.items).toEqual(result.without.items);
    expect(result.withAgent.itemsB).toEqual(result.without.itemsB);
    expect(result.withAgent.items.length).toBeGreaterThan(3);
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'output' })).toBe(O.output);
  });

  it('the chat.completions.stream() helper gives the same final completion, counted once with usage', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', model: 'gpt-4o-mini', stream: true, read: 'helper' });
    });
    expect(result.withAgent.error).toBeUndefined();
    expect(result.withAgent.data).toEqual(result.without.data);
    expect(result.withAgent.data.choices[0].message.content).toBe('Hello there, learner!');
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'input' })).toBe(O.input);
  });

  it('toReadableStream() gives the same serialised chunks', async () => {
    const { withAgent, without } = await both({ sdk: 'openai', model: 'gpt-4o-mini', stream: true, read: 'toReadableStream' });
    expect(withAgent.text).toBe(without.text);
    expect(withAgent.text).not.toContain('usage');
  });
});

describe('other operations and price lookup', () => {
  it('counts the responses API, JSON and streamed, with the same usage fields', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      await both({ sdk: 'openai', op: 'responses', model: 'gpt-4o-mini' });
      result = await both({ sdk: 'openai', op: 'responses', model: 'gpt-4o-mini', stream: true });
    });
    expect(result.withAgent.items).toEqual(result.without.items);
    expect(h.openai.requestsFor(result.withAgent.key)[0]?.body.stream_options).toBeUndefined();
    const responses = { provider: 'openai', model: 'gpt-4o-mini', operation: 'responses' };
    expect(d.of('ai_generation_total', { ...responses, status: 'success' })).toBe(2);
    expect(d.of('ai_time_to_first_token_seconds_count', responses)).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'input' })).toBe(2 * O.input);
    expect(d.of('openai_reasoning_tokens_total')).toBe(2 * O.reasoning);
    expect(d.of('ai_cost_usd_total')).toBeCloseTo(2 * MINI_COST, 12);
  });

  it('counts streamed legacy completions with the usage chunk hidden', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', op: 'completions', model: 'gpt-4o-mini', stream: true });
    });
    expect(result.withAgent.items).toEqual(result.without.items);
    expect(d.of('ai_generation_total', { operation: 'text_completion', status: 'success' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'output' })).toBe(O.output);
  });

  it('counts embeddings as input tokens only, priced', async () => {
    let result!: Awaited<ReturnType<typeof both>>;
    const d = await h.delta(async () => {
      result = await both({ sdk: 'openai', op: 'embeddings', model: 'text-embedding-3-small' });
    });
    expect(result.withAgent.data).toEqual(result.without.data);
    expect(result.withAgent.data.data[0].embedding).toEqual([0.25, -0.5, 0.125, 1]);
    const m = { model: 'text-embedding-3-small' };
    expect(d.of('ai_generation_total', { ...m, operation: 'embeddings', status: 'success' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { ...m, token_type: 'input' })).toBe(USAGE.embeddings.input);
    expect(d.of('openai_tokens_used_total', { ...m, token_type: 'output' })).toBe(0);
    expect(d.of('ai_cost_usd_total', m)).toBeCloseTo((USAGE.embeddings.input * 0.02) / 1e6, 14);
  });

  it('counts an unknown model as unpriced instead of costing 0', async () => {
    const d = await h.delta(() => h.run({ sdk: 'openai', model: 'tutor-llm-1' }));
    expect(d.of('ai_unpriced_calls_total', { provider: 'openai', model: 'tutor-llm-1' })).toBe(1);
    expect(select(d.after, 'ai_cost_usd_total', { model: 'tutor-llm-1' })).toHaveLength(0);
    expect(d.of('openai_tokens_used_total', { model: 'tutor-llm-1', token_type: 'input' })).toBe(O.input);
  });

  it('prices a dated model by its folded name, never by prefix (gpt-4.1 is not gpt-4)', async () => {
    const d = await h.delta(() => h.run({ sdk: 'openai', model: 'gpt-4.1-2025-04-14' }));
    const gpt41 = ((O.input - O.cached) * 2 + O.cached * 0.5 + O.output * 8) / 1e6;
    expect(d.of('ai_cost_usd_total', { model: 'gpt-4.1-2025-04-14' })).toBeCloseTo(gpt41, 12);
    expect(d.of('ai_unpriced_calls_total')).toBe(0);
  });

  it('hooks the openai-v4 alias imported from ESM too', async () => {
    const d = await h.delta(() => h.run({ sdk: 'openai-v4', model: 'gpt-4o-mini' }));
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('openai_tokens_used_total', { token_type: 'input' })).toBe(O.input);
  });

  it('never logged an internal error', () => {
    expect(h.app.agentLines.filter((line) => !line.includes('info:'))).toEqual([]);
  });
});
