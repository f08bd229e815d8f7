/**
 * AI calls leave no secret and no content behind: the API key the app sends (SDK `apiKey` and a
 * fetch `Authorization` header) and the prompt never appear in metrics, spans or the agent's log
 * lines. And an SDK call with invalid arguments fails exactly as it does without the agent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiHarness, type ActionResult, type ActionSpec } from '../ai/harness';
import { OtlpSink } from '../helpers/otlp-sink';
import { waitFor } from '../helpers/ports';

const API_KEY = 'test-key'; // what the AI fixture apps authenticate with
const PROMPT = 'Say hello to the learner'; // what they ask

describe('AI calls and secrets', () => {
  const h = new AiHarness();
  const sink = new OtlpSink();
  const emitted: Record<string, string> = {};

  beforeAll(async () => {
    const endpoint = await sink.start();
    await h.start('ai-esm-app.mjs', {
      bare: true,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_LOG_LEVEL: 'debug' },
    });
  });

  afterAll(async () => {
    await h.stop();
    await sink.stop();
  });

  const invalid: Array<[string, ActionSpec]> = [
    ['openai with an empty model', { sdk: 'openai', model: '' }],
    ['openai with a negative timeout', { sdk: 'openai', model: 'gpt-4o-mini', timeout: -5 }],
    ['anthropic with an empty model', { sdk: 'anthropic', model: '' }],
  ];
  for (const [name, spec] of invalid) {
    it(`an SDK call ${name} behaves as without the agent`, async () => {
      const [withAgent, without] = await Promise.all([h.run(spec), h.runBare(spec)]);
      const strip = ({ key: _key, requestId: _requestId, ...rest }: ActionResult & { key: string }) => rest;
      expect(strip(withAgent)).toEqual(strip(without));
    });
  }

  it('emits neither the API key nor the prompt anywhere', async () => {
    for (const spec of [
      { sdk: 'openai', model: 'gpt-4o-mini' },
      { sdk: 'openai', model: 'gpt-4o-mini', stream: true },
      { sdk: 'anthropic', model: 'claude-sonnet-4' },
      { sdk: 'fetch', model: 'gpt-4o-mini', path: '/v1/chat/completions' },
    ] as ActionSpec[]) {
      const result = await h.run(spec);
      expect(result.error, JSON.stringify(spec)).toBeUndefined();
    }
    emitted.metrics = await h.app.scrapeText();
    h.app.child.kill('SIGTERM');
    await waitFor(() => h.app.exited, 15_000, 'exit');
    emitted.logs = h.app.stderr;
    emitted.spans = sink.posts.map((p) => p.body.toString('utf8')).join('\n');

    expect(emitted.metrics).toContain('ai_generation_total');
    expect(emitted.spans).toContain('gen_ai');
    for (const [channel, text] of Object.entries(emitted)) {
      expect(text.includes(API_KEY), `API key in ${channel}`).toBe(false);
      expect(text.includes(PROMPT), `prompt in ${channel}`).toBe(false);
    }
  });
});
