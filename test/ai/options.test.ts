/**
 * The AI meters with tracing on and with their variables set: each generation is a span under the
 * HTTP request that caused it (the SDK's HTTP attempt under it), content only when asked for, the
 * GenAI semantic-convention instruments only when asked for, a price file, one warning per bad
 * variable, and the `openai` instrumentation switched off.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpSink, type OtlpSpan } from '../helpers/otlp-sink';
import { USAGE } from '../helpers/llm-server';
import { waitFor } from '../helpers/ports';
import { select, total } from '../helpers/prometheus-text';
import { AiHarness } from './harness';

const O = USAGE.openai;

function pricesFile(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ai-prices-'));
  const file = path.join(dir, 'prices.json');
  writeFileSync(file, JSON.stringify({ version: 'tutor-2026-01', models: { 'tutor-llm-1': { input: 1, cached_input: 0.5, output: 4 } } }));
  return file;
}

describe('tracing on, semantic-convention metrics on, a price file, a bad variable', () => {
  const h = new AiHarness();
  const sink = new OtlpSink();
  let spans: OtlpSpan[] = [];
  let metricsText = '';

  beforeAll(async () => {
    const endpoint = await sink.start();
    await h.start('ai-esm-app.mjs', {
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        TUTOR_OTEL_AI_SEMCONV_METRICS: 'true',
        TUTOR_OTEL_AI_PRICES_FILE: pricesFile(),
        TUTOR_OTEL_AI_MODEL_LIMIT: '-3',
      },
    });
    await h.run({ sdk: 'openai', model: 'gpt-4o-mini' }, '/lessons/9/hint');
    await h.run({ sdk: 'fetch', path: '/v1/chat/completions', model: 'gpt-4o' }, '/lessons/10/hint');
    await h.run({ sdk: 'openai', model: 'tutor-llm-1' }, '/lessons/11/hint');
    await h.run({ sdk: 'anthropic', model: 'claude-sonnet-4' }, '/lessons/12/hint');
    metricsText = await h.app.scrapeText();
    h.app.child.kill('SIGTERM'); // flushes spans on the way out
    await h.app.exit;
    spans = await waitFor(() => {
      const all = sink.spans();
      return all.filter((s) => s.name.startsWith('chat ')).length >= 3 ? all : undefined;
    });
  });

  afterAll(async () => {
    await h.stop();
    await sink.stop();
  });

  it('makes each generation a client span under the request span, with the SDK attempt under it', () => {
    const generation = spans.find((s) => s.name === 'chat gpt-4o-mini');
    expect(generation).toBeDefined();
    expect(generation!.kind).toBe(3);
    expect(generation!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini-2024-08-06',
      'http.route': '/lessons/:id/hint',
    });
    expect(Number(generation!.attributes['gen_ai.usage.input_tokens'])).toBe(O.input);
    expect(Number(generation!.attributes['gen_ai.usage.output_tokens'])).toBe(O.output);
    const server = spans.find((s) => s.spanId === generation!.parentSpanId);
    expect(server?.kind).toBe(2);
    expect(server?.traceId).toBe(generation!.traceId);
    const attempt = spans.find((s) => s.parentSpanId === generation!.spanId);
    expect(attempt?.kind).toBe(3);
  });

  it('makes a plain fetch generation a span under its request too', () => {
    const generation = spans.find((s) => s.name === 'chat gpt-4o');
    expect(generation).toBeDefined();
    const server = spans.find((s) => s.spanId === generation!.parentSpanId);
    expect(server?.kind).toBe(2);
    expect(Number(generation!.attributes['gen_ai.usage.input_tokens'])).toBe(O.input);
  });

  it('records no message content by default', () => {
    for (const span of spans) {
      expect(span.attributes['gen_ai.input.messages']).toBeUndefined();
      expect(span.attributes['gen_ai.output.messages']).toBeUndefined();
      expect(JSON.stringify(span.attributes)).not.toContain('Say hello to the learner');
    }
  });

  it("leaves Anthropic's calls to the span its SDK makes itself: one span per generation", () => {
    const ours = spans.filter((s) => s.name === 'chat claude-sonnet-4');
    expect(ours).toHaveLength(0);
    const sdkSpans = spans.filter((s) => JSON.stringify(s.attributes).includes('claude-sonnet-4') && s.kind === 3);
    expect(sdkSpans.length).toBeGreaterThanOrEqual(1);
  });

  it('exports the GenAI semantic-convention instruments when asked to', async () => {
    const { parsePrometheusText } = await import('../helpers/prometheus-text');
    const samples = parsePrometheusText(metricsText);
    const labels = {
      gen_ai_provider_name: 'openai',
      gen_ai_operation_name: 'chat',
      gen_ai_request_model: 'gpt-4o-mini',
      gen_ai_response_model: 'gpt-4o-mini-2024-08-06',
    };
    expect(total(samples, 'gen_ai_client_operation_duration_count', labels)).toBe(1);
    expect(total(samples, 'gen_ai_client_token_usage_sum', { ...labels, gen_ai_token_type: 'input' })).toBe(O.input);
    expect(total(samples, 'gen_ai_client_token_usage_sum', { ...labels, gen_ai_token_type: 'output' })).toBe(O.output);
    const bounds = select(samples, 'gen_ai_client_operation_duration_bucket', labels).map((s) => s.labels.le);
    expect(bounds).toContain('81.92');
  });

  it('attributes SDK and fetch generations to their route with tracing on (the request rides in the trace context)', async () => {
    const { parsePrometheusText } = await import('../helpers/prometheus-text');
    const samples = parsePrometheusText(metricsText);
    const route = '/lessons/:id/hint';
    expect(total(samples, 'openai_tokens_used_total', { model: 'gpt-4o-mini', route, token_type: 'input' })).toBe(O.input);
    expect(total(samples, 'openai_tokens_used_total', { model: 'gpt-4o', route, token_type: 'input' })).toBe(O.input);
    expect(total(samples, 'openai_tokens_used_total', { route: '__none__' })).toBe(0);
  });

  it('prices a model from the price file', async () => {
    const { parsePrometheusText } = await import('../helpers/prometheus-text');
    const samples = parsePrometheusText(metricsText);
    expect(total(samples, 'ai_cost_usd_total', { model: 'tutor-llm-1' })).toBeCloseTo(
      ((O.input - O.cached) * 1 + O.cached * 0.5 + O.output * 4) / 1e6,
      12,
    );
    expect(total(samples, 'ai_unpriced_calls_total')).toBe(0);
  });

  it('warns once about the bad variable, naming it and the default', () => {
    const lines = h.app.agentLines.filter((l) => l.includes('TUTOR_OTEL_AI_'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('TUTOR_OTEL_AI_MODEL_LIMIT');
    expect(lines[0]).toContain('default 50');
    expect(h.app.agentLines.filter((l) => l.includes('internal error'))).toEqual([]);
  });
});

describe('content capture switched on', () => {
  const h = new AiHarness();
  const sink = new OtlpSink();
  let spans: OtlpSpan[] = [];

  beforeAll(async () => {
    const endpoint = await sink.start();
    await h.start('ai-esm-app.mjs', {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', TUTOR_OTEL_AI_CAPTURE_CONTENT: 'true' },
    });
    await h.run({ sdk: 'openai', model: 'gpt-4o-mini', stream: true });
    h.app.child.kill('SIGTERM');
    await h.app.exit;
    spans = await waitFor(() => (sink.spans().some((s) => s.name === 'chat gpt-4o-mini') ? sink.spans() : undefined));
  });

  afterAll(async () => {
    await h.stop();
    await sink.stop();
  });

  it('records the prompt and the streamed answer on the span', () => {
    const generation = spans.find((s) => s.name === 'chat gpt-4o-mini');
    expect(String(generation?.attributes['gen_ai.input.messages'])).toContain('Say hello to the learner');
    expect(String(generation?.attributes['gen_ai.output.messages'])).toContain('Hello there, learner!');
  });
});

describe('the openai instrumentation and fetch counting switched off', () => {
  const h = new AiHarness();

  beforeAll(async () => {
    await h.start('ai-esm-app.mjs', { env: { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'openai', TUTOR_OTEL_AI_HTTP: 'false' } });
  });

  afterAll(async () => {
    await h.stop();
  });

  it('counts neither SDK nor fetch calls to OpenAI, and still counts Anthropic', async () => {
    const d = await h.delta(async () => {
      const sdk = await h.run({ sdk: 'openai', model: 'gpt-4o-mini', stream: true });
      expect(h.openai.requestsFor(sdk.key)[0]?.body.stream_options).toBeUndefined();
      await h.run({ sdk: 'fetch', path: '/v1/chat/completions', model: 'gpt-4o-mini' });
      await h.run({ sdk: 'anthropic', model: 'claude-sonnet-4' });
      const body = { model: 'claude-sonnet-4', max_tokens: 10, messages: [] };
      await h.run({ sdk: 'fetch', server: 'anthropic', path: '/v1/messages', model: 'claude-sonnet-4', body });
    });
    expect(d.of('ai_generation_total', { provider: 'openai' })).toBe(0);
    // The SDK call; the plain fetch to the same API is not counted with TUTOR_OTEL_AI_HTTP=false.
    expect(d.of('ai_generation_total', { provider: 'anthropic', status: 'success' })).toBe(1);
    expect(d.of('openai_api_calls_total')).toBe(1);
  });
});
