/**
 * A cardinality attack on the AI meters: 10,000 distinct model names. Every call is still counted,
 * the `model` label stays under its cap (TUTOR_OTEL_AI_MODEL_LIMIT, default 50, plus the overflow
 * value), and the AI meters' memory does not grow with the number of names: the app's heap ends
 * where the same flood leaves it with the AI meters switched off.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/agent-process';
import { waitFor } from '../helpers/ports';
import { select, total, type Sample } from '../helpers/prometheus-text';
import { AiHarness } from './harness';

/** Heap gauges after a full collection in the app, so the comparison does not depend on GC timing. */
const GC_ON_SIGNAL = `--expose-gc --import=${path.join(REPO, 'test/helpers/gc-on-signal.mjs')}`;

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
  const collected = (h.app.stdout.match(/\{"gc":\d+\}/g) ?? []).length;
  h.app.child.kill('SIGUSR2');
  await waitFor(() => ((h.app.stdout.match(/\{"gc":\d+\}/g) ?? []).length > collected ? true : undefined), 20_000, 'the app to collect garbage');
  return h.app.scrape();
}

describe('10,000 distinct model names', () => {
  const metered = new AiHarness();
  const unmetered = new AiHarness();
  beforeAll(async () => {
    await metered.start('ai-esm-app.mjs', { env: { NODE_OPTIONS: GC_ON_SIGNAL } });
    await unmetered.start('ai-esm-app.mjs', { env: { NODE_OPTIONS: GC_ON_SIGNAL, OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'openai,anthropic' } });
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
    for (const name of [
      'ai_generation_total',
      'openai_api_calls_total',
      'openai_tokens_used_total',
      'ai_unpriced_calls_total',
      'ai_generation_duration_seconds_count',
    ]) {
      const models = modelValues(withMeters, name);
      expect(models.size, name).toBeLessThanOrEqual(51);
      expect(models.has('__overflow__'), name).toBe(true);
    }
    const heap = (s: Sample[]) => total(s, 'nodejs_heap_size_used_bytes');
    console.log(
      'heap used after 10,000 names, MB (AI meters on, off):',
      [heap(withMeters), heap(withoutMeters)].map((b) => Math.round(b / 1e6)),
    );
    // After a full collection both heaps are within a few MB; 10,000 leaked series would be tens of MB.
    expect(heap(withMeters)).toBeLessThan(heap(withoutMeters) + 8 * 1024 * 1024);
  }, 300_000);
});
