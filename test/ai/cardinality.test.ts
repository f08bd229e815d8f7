/**
 * A cardinality attack on the AI meters: 10,000 distinct model names. Every call is still counted,
 * the `model` label stays under its cap (TUTOR_OTEL_AI_MODEL_LIMIT, default 50, plus the overflow
 * value), and the AI meters' memory does not grow with the number of names: the app's heap ends
 * where the same flood leaves it with the AI meters switched off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { select, total, type Sample } from '../helpers/prometheus-text';
import { AiHarness } from './harness';

const CALLS = 10_000;

function modelValues(samples: Sample[], name: string): Set<string> {
  return new Set(select(samples, name).map((s) => s.labels.model ?? ''));
}

async function flood(h: AiHarness): Promise<Sample[]> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < CALLS) {
        const i = next++;
        const result = await h.run({ sdk: 'fetch', model: `tutor-model-${i.toString(36)}-x`, path: '/v1/chat/completions' });
        expect(result.error).toBeUndefined();
      }
    }),
  );
  return h.app.scrape();
}

describe('10,000 distinct model names', () => {
  const metered = new AiHarness();
  const unmetered = new AiHarness();
  beforeAll(async () => {
    await metered.start('ai-esm-app.mjs');
    await unmetered.start('ai-esm-app.mjs', { env: { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'openai,anthropic' } });
  });
  afterAll(async () => {
    await metered.stop();
    await unmetered.stop();
  });

  it('counts every call with a bounded model label, in memory that does not grow with the names', async () => {
    const withMeters = await flood(metered);
    const withoutMeters = await flood(unmetered);

    expect(total(withMeters, 'ai_generation_total', { status: 'success' })).toBe(CALLS);
    expect(total(withoutMeters, 'ai_generation_total')).toBe(0);
    for (const name of ['ai_generation_total', 'openai_api_calls_total', 'openai_tokens_used_total', 'ai_unpriced_calls_total', 'ai_generation_duration_seconds_count']) {
      const models = modelValues(withMeters, name);
      expect(models.size, name).toBeLessThanOrEqual(51);
      expect(models.has('__overflow__'), name).toBe(true);
    }
    const heap = (s: Sample[]) => total(s, 'nodejs_heap_size_used_bytes');
    console.log('heap used after 10,000 names, MB (AI meters on, off):', [heap(withMeters), heap(withoutMeters)].map((b) => Math.round(b / 1e6)));
    expect(heap(withMeters)).toBeLessThan(heap(withoutMeters) + 40 * 1024 * 1024);
  }, 300_000);
});
