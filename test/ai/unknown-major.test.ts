/**
 * An SDK major the agent does not know is not hooked: one warning names the package and its
 * version (read from its package.json), and its calls to a known AI host are counted once, from
 * fetch, instead of mislabelled by hooks written for other majors. The "future" openai is a
 * package whose package.json says `openai` 99.0.0 and whose code is openai 6's (so its client has
 * the methods the hooks would look for: only the version keeps them off).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/agent-process';
import { answeringModel, USAGE } from '../helpers/llm-server';
import { AiHarness } from './harness';

const h = new AiHarness();
const O = USAGE.openai;
const model = 'gpt-4o-mini';
const chat = { provider: 'openai', model, operation: 'chat' };
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'future-sdk-'));
  const pkg = path.join(dir, 'node_modules', 'openai');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'openai', version: '99.0.0', main: 'index.js' }));
  writeFileSync(path.join(pkg, 'index.js'), `module.exports = require(${JSON.stringify(path.join(REPO, 'node_modules', 'openai-v6'))});\n`);
  // No aliases: the real openai-v6 folder the fake one loads is not a package the agent hooks.
  await h.start('ai-future-sdk-app.cjs', { bare: true, env: { AI_FUTURE_SDK_DIR: dir, TUTOR_OTEL_AI_PACKAGE_ALIASES: undefined } });
});

afterAll(async () => {
  await h.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('openai 99 (a major the agent does not know)', () => {
  it('a JSON call is counted once, from fetch, under the asked-for model', async () => {
    let result!: Awaited<ReturnType<typeof h.run>>;
    const d = await h.delta(async () => {
      result = await h.run({ sdk: 'openai', model });
    });
    expect(result.error).toBeUndefined();
    expect(result.data.model).toBe(answeringModel(model));
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('openai_api_calls_total', { model, operation: 'chat', status_code: '200' })).toBe(1);
    expect(d.of('openai_api_calls_total')).toBe(1);
    expect(d.of('openai_tokens_used_total', { model, token_type: 'input', route: '/lessons/:id/explain' })).toBe(O.input);
    expect(d.of('openai_tokens_used_total', { model, token_type: 'output' })).toBe(O.output);
  });

  it('a stream is counted once as a stream; its request is left as the app made it', async () => {
    let result!: Awaited<ReturnType<typeof h.run>>;
    const d = await h.delta(async () => {
      result = await h.run({ sdk: 'openai', model, stream: true });
    });
    expect(result.error).toBeUndefined();
    expect(result.items.length).toBeGreaterThan(3);
    expect(h.openai.requestsFor(result.key)[0]?.body.stream_options).toBeUndefined();
    expect(d.of('ai_generation_total', { ...chat, status: 'success' })).toBe(1);
    expect(d.of('ai_generation_total')).toBe(1);
    expect(d.of('ai_generation_duration_seconds_count', { ...chat, stream: 'true' })).toBe(1);
    expect(d.of('ai_time_to_first_token_seconds_count', chat)).toBe(1);
    // Not hooked, so nothing asked the stream for its usage: no tokens rather than made-up ones.
    expect(d.of('openai_tokens_used_total')).toBe(0);
  });

  it('the app gets what it gets without the agent', async () => {
    const spec = { sdk: 'openai' as const, model, stream: true, includeUsage: true };
    const [withAgent, without] = await Promise.all([h.run(spec), h.runBare(spec)]);
    expect(withAgent.items).toEqual(without.items);
  });

  it('logged one warning naming the package and its version, and nothing else', () => {
    const lines = h.app.agentLines.filter((line) => !line.includes('info:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('openai 99.0.0 is a major version the agent does not know');
    expect(lines[0]).toContain('4.x, 5.x, 6.x, 7.x');
  });
});
