/**
 * The AI meters' pure parts: price lookup (exact, date-folded, aliases, never by prefix), the
 * incremental SSE and JSON readers (bodies split anywhere, bounded memory), usage accounting for
 * both APIs, endpoint and host matching, and the variables' parsers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHosts, parseProviders, readAiConfig } from '../../src/ai/config';
import { parsePackageNames } from '../../src/config/parse';
import { HostList, hostAddress, httpEndpoint, normalizeModel, ProviderMap, sdkEndpoint } from '../../src/ai/endpoints';
import { shouldAddUsage, stripAddedUsage, withIncludeUsage, type UsageRequest } from '../../src/ai/sdk/request-rewrite';
import { KNOWN_SDK_MAJORS, sdkVerdict } from '../../src/ai/sdk/versions';
import { SHIPPED_PRICES } from '../../src/ai/prices';
import { foldDateSuffix, mergePriceTables, Pricer, readPriceFile, validatePriceTable } from '../../src/ai/pricing';
import { SseParser, TopLevelScanner, type SseEvent } from '../../src/ai/stream-parsers';
import { ResponseReader } from '../../src/ai/usage';
import type { AgentConfig } from '../../src/config/types';

const pricer = new Pricer(SHIPPED_PRICES);

describe('price lookup', () => {
  it('folds date suffixes in the forms the providers use', () => {
    expect(foldDateSuffix('gpt-4o-2024-08-06')).toBe('gpt-4o');
    expect(foldDateSuffix('claude-sonnet-4-20250514')).toBe('claude-sonnet-4');
    expect(foldDateSuffix('claude-3-5-sonnet@20240620')).toBe('claude-3-5-sonnet');
    expect(foldDateSuffix('gpt-3.5-turbo-0125')).toBe('gpt-3.5-turbo');
    expect(foldDateSuffix('gpt-4o')).toBe('gpt-4o');
  });

  it('matches exactly, never by prefix', () => {
    expect(pricer.key('gpt-4.1')).toBe('gpt-4.1');
    expect(pricer.key('gpt-4.1-2025-04-14')).toBe('gpt-4.1');
    expect(pricer.key('gpt-4o-mini-2024-07-18')).toBe('gpt-4o-mini');
    expect(pricer.key('gpt-4-0613')).toBe('gpt-4');
    expect(pricer.key('GPT-4o')).toBe('gpt-4o');
    expect(pricer.key('gpt-4o-audio-preview')).toBeUndefined();
    expect(pricer.key('gpt-4.5')).toBeUndefined();
    expect(pricer.key('claude-sonnet-4-5-20250929')).toBe('claude-sonnet-4-5');
    expect(pricer.key('llama-3.1-8b')).toBeUndefined();
  });

  it('goes through the alias table, before and after folding', () => {
    expect(pricer.key('gpt-35-turbo')).toBe('gpt-3.5-turbo');
    expect(pricer.key('claude-3-5-sonnet-latest')).toBe('claude-3-5-sonnet');
    expect(pricer.key('gpt-4-1106-preview')).toBe('gpt-4-turbo');
  });

  it('prices cached input, cache writes and output apart, without counting them twice', () => {
    // 1000 input of which 200 cached and 100 written, 500 output of gpt-4o: 700*2.5 + 200*1.25 + 100*2.5 + 500*10.
    expect(pricer.cost('gpt-4o', { input: 1000, cachedInput: 200, cacheWrite: 100, output: 500 })).toBeCloseTo(7250 / 1e6, 12);
    expect(pricer.cost('claude-sonnet-4', { input: 120, cachedInput: 15, cacheWrite: 5, output: 40 })).toBeCloseTo(
      (100 * 3 + 15 * 0.3 + 5 * 3.75 + 40 * 15) / 1e6,
      12,
    );
    expect(pricer.cost('no-such-model', { input: 10 })).toBeUndefined();
  });

  it('ships a versioned table with the common models', () => {
    expect(SHIPPED_PRICES.version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const model of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'o3-mini', 'text-embedding-3-small', 'claude-sonnet-4', 'claude-3-5-haiku']) {
      expect(pricer.price(model), model).toBeDefined();
    }
  });

  it('validates and merges an override file; a bad file is refused as a whole', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ai-prices-'));
    const good = path.join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify({
        version: 'local-1',
        models: { 'Tutor-LLM-1': { input: 1, output: 2 }, 'gpt-4o': { input: 5, output: 20 } },
        aliases: { tutor: 'tutor-llm-1' },
      }),
    );
    const table = readPriceFile(good);
    expect(typeof table).toBe('object');
    const merged = new Pricer(mergePriceTables(SHIPPED_PRICES, table as Exclude<typeof table, string>));
    expect(merged.table.version).toBe(`${SHIPPED_PRICES.version}+local-1`);
    expect(merged.cost('tutor', { input: 1_000_000, output: 1_000_000 })).toBe(3);
    expect(merged.price('gpt-4o')?.input).toBe(5);
    expect(merged.price('gpt-4o-mini')?.input).toBe(0.15);
    expect(validatePriceTable({ version: 'x', models: { a: { input: -1, output: 1 } } })).toMatch(/"input"/);
    expect(validatePriceTable({ models: {} })).toMatch(/version/);
    expect(validatePriceTable([])).toMatch(/object/);
    expect(readPriceFile(path.join(dir, 'missing.json'))).toMatch(/ENOENT/);
    writeFileSync(path.join(dir, 'bad.json'), '{ not json');
    expect(readPriceFile(path.join(dir, 'bad.json'))).toMatch(/JSON/);
  });
});

/** Feeds `text` to a parser in pieces of `size` bytes (splitting UTF-8 sequences and CRLFs). */
function pieces(text: string, size: number): Uint8Array[] {
  const bytes = Buffer.from(text, 'utf8');
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe('SSE parser', () => {
  const stream = 'event: message_start\r\ndata: {"a":"é"}\r\n\r\n: a comment\n\ndata: one\ndata: two\n\nevent: x\rdata: cr only\r\r' + 'data: [DONE]\n\n';

  for (const size of [1, 2, 3, 7, 1000]) {
    it(`gives the same events however the bytes are split (${size})`, () => {
      const events: SseEvent[] = [];
      const parser = new SseParser((e) => events.push(e));
      for (const piece of pieces(stream, size)) parser.push(piece);
      parser.end();
      expect(events).toEqual([
        { event: 'message_start', data: '{"a":"é"}' },
        { event: undefined, data: 'one\ntwo' },
        { event: 'x', data: 'cr only' },
        { event: undefined, data: '[DONE]' },
      ]);
    });
  }

  it('skips an event larger than its bound instead of keeping it, and goes on', () => {
    const events: SseEvent[] = [];
    const parser = new SseParser((e) => events.push(e));
    parser.push(Buffer.from(`data: ${'x'.repeat(2 * 1024 * 1024)}\n\ndata: small\n\n`));
    parser.end();
    expect(events).toEqual([{ event: undefined, data: 'small' }]);
  });
});

describe('top-level JSON scanner', () => {
  const body = JSON.stringify({
    id: 'x',
    choices: [{ message: { content: 'a "quoted" }, { model: "fake" } \\ text', usage: { prompt_tokens: 999 } } }],
    'mo\\"del': 1,
    model: 'gpt-4o-2024-08-06',
    data: Array.from({ length: 50 }, (_, i) => ({ embedding: [i, i + 0.5], model: 'inner' })),
    usage: { prompt_tokens: 12, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 2 } },
  });

  for (const size of [1, 5, 64, 100000]) {
    it(`picks only top-level members, however the text is split (${size})`, () => {
      const scanner = new TopLevelScanner(new Set(['model', 'usage']));
      for (const piece of pieces(body, size)) scanner.push(piece);
      expect(scanner.values()).toEqual({
        model: 'gpt-4o-2024-08-06',
        usage: { prompt_tokens: 12, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 2 } },
      });
    });
  }

  it('drops a member larger than its bound and reads a large body quickly', () => {
    const big = JSON.stringify({ model: 'x'.repeat(100), data: 'y\\"'.repeat(3_000_000), usage: { input_tokens: 1 } });
    const scanner = new TopLevelScanner(new Set(['model', 'usage', 'data']), 64);
    const started = performance.now();
    for (const piece of pieces(big, 65536)) scanner.push(piece);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(scanner.values()).toEqual({ usage: { input_tokens: 1 } });
  });

  it('gives up on a body that is not a JSON object', () => {
    const scanner = new TopLevelScanner(new Set(['model']));
    scanner.push('[{"model":"x"}]');
    expect(scanner.values()).toEqual({});
  });
});

describe('usage', () => {
  it('reads OpenAI chat and responses usage with cached and reasoning parts', () => {
    const chat = new ResponseReader({ protocol: 'openai', operation: 'chat' }, 0);
    chat.readBody({
      model: 'gpt-4o',
      usage: { prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } },
    });
    expect(chat.usage).toEqual({ input: 10, output: 5, cachedInput: 4, reasoning: 2 });
    const responses = new ResponseReader({ protocol: 'openai', operation: 'responses' }, 0);
    expect(responses.readEvent({ type: 'response.output_text.delta', delta: 'hi' })).toBe(true);
    responses.readEvent({
      type: 'response.completed',
      response: { model: 'o3', usage: { input_tokens: 7, output_tokens: 3, output_tokens_details: { reasoning_tokens: 1 } } },
    });
    expect(responses.usage).toEqual({ input: 7, output: 3, reasoning: 1 });
    expect(responses.responseModel).toBe('o3');
  });

  it('treats only content-bearing chunks as the first token', () => {
    const reader = new ResponseReader({ protocol: 'openai', operation: 'chat' }, 0);
    expect(reader.readEvent({ choices: [{ delta: { role: 'assistant', content: '' } }] })).toBe(false);
    expect(reader.readEvent({ choices: [{ delta: { content: null } }] })).toBe(false);
    expect(reader.readEvent({ choices: [{ delta: { tool_calls: [{ index: 0 }] } }] })).toBe(true);
    expect(reader.readEvent({ choices: [], usage: null })).toBe(false);
  });

  it("takes Anthropic's message_delta usage as running totals and adds cache tokens to input", () => {
    const reader = new ResponseReader({ protocol: 'anthropic', operation: 'chat' }, 0);
    reader.readEvent({
      type: 'message_start',
      message: {
        model: 'claude-sonnet-4-20250514',
        usage: { input_tokens: 100, cache_read_input_tokens: 15, cache_creation_input_tokens: 5, output_tokens: 1 },
      },
    });
    expect(reader.readEvent({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'Hi' } })).toBe(true);
    reader.readEvent({ type: 'message_delta', usage: { output_tokens: 20 } });
    reader.readEvent({ type: 'message_delta', usage: { output_tokens: 40 } });
    expect(reader.usage).toEqual({ input: 120, output: 40, cachedInput: 15, cacheWrite: 5 });
  });

  it('keeps output text only when capture is on, and bounded', () => {
    const off = new ResponseReader({ protocol: 'openai', operation: 'chat' }, 0);
    off.readEvent({ choices: [{ delta: { content: 'secret' } }] });
    expect(off.outputText).toBe('');
    const on = new ResponseReader({ protocol: 'openai', operation: 'chat' }, 4);
    on.readEvent({ choices: [{ delta: { content: 'Hello' } }] });
    expect(on.outputText).toBe('Hell');
  });
});

describe('endpoints and hosts', () => {
  it('knows the SDK paths that create generations and no others', () => {
    expect(sdkEndpoint('/chat/completions')).toEqual({ protocol: 'openai', operation: 'chat' });
    expect(sdkEndpoint('/responses')).toEqual({ protocol: 'openai', operation: 'responses' });
    expect(sdkEndpoint('/v1/messages?beta=true')).toEqual({ protocol: 'anthropic', operation: 'chat' });
    for (const other of ['/chat/completions/abc', '/responses/resp_1/cancel', '/v1/messages/count_tokens', '/files', undefined]) {
      expect(sdkEndpoint(other)).toBeUndefined();
    }
  });

  it('matches plain HTTP paths by their last segments, Azure deployments included', () => {
    expect(httpEndpoint('/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21')?.operation).toBe('chat');
    expect(httpEndpoint('/v1/completions')?.operation).toBe('text_completion');
    expect(httpEndpoint('/v1/embeddings')?.operation).toBe('embeddings');
    expect(httpEndpoint('/v1/messages')?.protocol).toBe('anthropic');
    expect(httpEndpoint('/v1/models')).toBeUndefined();
  });

  it('names providers by host: built-in, wildcard, configured (with port) first', () => {
    const map = new ProviderMap(parseProviders('127.0.0.1:8080=vllm,gateway.internal=openai') ?? []);
    const at = (url: string) => map.lookup(hostAddress(url)!);
    expect(at('https://api.openai.com/v1')).toBe('openai');
    expect(at('https://tutor-east.openai.azure.com/openai')).toBe('azure.ai.openai');
    expect(at('https://api.anthropic.com')).toBe('anthropic');
    expect(at('http://127.0.0.1:8080/v1')).toBe('vllm');
    expect(at('http://127.0.0.1:8081/v1')).toBeUndefined();
    expect(at('https://gateway.internal/v1')).toBe('openai');
    expect(at('https://openai.azure.com.evil.example/')).toBeUndefined();
  });

  it('normalises model labels and keeps prompts out of them', () => {
    expect(normalizeModel('  GPT-4o ')).toBe('gpt-4o');
    expect(normalizeModel('models/gemini pro\n')).toBe('models/gemini_pro');
    expect(normalizeModel('x'.repeat(500))).toHaveLength(80);
    expect(normalizeModel('')).toBeUndefined();
    expect(normalizeModel(42)).toBeUndefined();
  });
});

describe('include_usage request rewrite', () => {
  it('inserts the member into the SDK body, keeps everything else, and fixes a content-length', () => {
    const body = JSON.stringify({ model: 'gpt-4o', messages: [], stream: true }, null, 2);
    const init = { method: 'post', body, headers: { 'content-length': String(body.length), 'x-a': '1' } };
    const changed = withIncludeUsage(init, { model: 'gpt-4o', messages: [], stream: true }) as typeof init;
    expect(JSON.parse(changed.body)).toEqual({ stream_options: { include_usage: true }, model: 'gpt-4o', messages: [], stream: true });
    expect(changed.headers['content-length']).toBe(String(Buffer.byteLength(changed.body)));
    expect(changed.headers['x-a']).toBe('1');
    expect(init.body).toBe(body); // the SDK's own object is not modified
  });

  it('merges into stream_options the app set, and leaves bodies it cannot read alone', () => {
    const params = { model: 'm', stream: true, stream_options: { include_obfuscation: false } };
    const changed = withIncludeUsage({ body: JSON.stringify(params) }, params) as { body: string };
    expect(JSON.parse(changed.body).stream_options).toEqual({ include_obfuscation: false, include_usage: true });
    const binary = { body: new Uint8Array([1]) };
    expect(withIncludeUsage(binary, {})).toBe(binary);
  });

  it('asks only for a streamed OpenAI chat or text completion, read through the SDK, to an allow-listed host', () => {
    const hosts = new HostList(parseHosts('api.openai.com') ?? []);
    const chat: UsageRequest = { endpoint: { protocol: 'openai', operation: 'chat' }, stream: true, rawRead: false, params: { stream: true } };
    const url = 'https://api.openai.com/v1/chat/completions';
    expect(shouldAddUsage(chat, url, hosts)).toBe(true);
    expect(shouldAddUsage(chat, new URL(url), hosts)).toBe(true);
    expect(shouldAddUsage({ ...chat, endpoint: { protocol: 'openai', operation: 'text_completion' } }, url, hosts)).toBe(true);
    expect(shouldAddUsage(chat, 'https://llm.internal/v1/chat/completions', hosts)).toBe(false);
    expect(shouldAddUsage(chat, undefined, hosts)).toBe(false);
    expect(shouldAddUsage({ ...chat, stream: false }, url, hosts)).toBe(false);
    expect(shouldAddUsage({ ...chat, rawRead: true }, url, hosts)).toBe(false);
    expect(shouldAddUsage({ ...chat, endpoint: { protocol: 'openai', operation: 'embeddings' } }, url, hosts)).toBe(false);
    expect(shouldAddUsage({ ...chat, endpoint: { protocol: 'anthropic', operation: 'chat' } }, url, hosts)).toBe(false);
    expect(shouldAddUsage({ ...chat, params: { stream_options: { include_usage: true } } }, url, hosts)).toBe(false);
  });

  it('takes the added usage back out of a stream: hides the usage-only chunk, drops usage: null', () => {
    expect(stripAddedUsage({ choices: [], usage: { prompt_tokens: 3 } })).toBe(true);
    const chunk: Record<string, unknown> = { choices: [{ delta: { content: 'hi' } }], usage: null };
    expect(stripAddedUsage(chunk)).toBe(false);
    expect(chunk).toEqual({ choices: [{ delta: { content: 'hi' } }] });
    const last = { choices: [{ delta: {} }], usage: { prompt_tokens: 3 } };
    expect(stripAddedUsage(last)).toBe(false);
    expect(last.usage).toEqual({ prompt_tokens: 3 });
    expect(stripAddedUsage('[DONE]')).toBe(false);
  });
});

describe('variables', () => {
  const agent = { instrumentations: new Set(['openai', 'anthropic']), httpRouteLimit: 200 } as unknown as AgentConfig;

  it('parses provider maps, host lists and package names, refusing malformed ones', () => {
    expect(parseProviders('127.0.0.1:8080=vLLM')?.[0]?.[1]).toBe('vllm');
    expect(parseProviders('no-equals')).toBeUndefined();
    expect(parseProviders('host=bad name')).toBeUndefined();
    expect(parseHosts('none')).toEqual([]);
    expect(parseHosts('api.openai.com, *.openai.azure.com')).toHaveLength(2);
    expect(parseHosts('http://api.openai.com')).toBeUndefined();
    expect(parsePackageNames('openai-v4,@scope/sdk')).toEqual(['openai-v4', '@scope/sdk']);
    expect(parsePackageNames('../evil')).toBeUndefined();
  });

  it('warns once per bad variable, naming it and the default used', () => {
    const warnings: string[] = [];
    const config = readAiConfig(
      {
        TUTOR_OTEL_AI_MODEL_LIMIT: 'lots',
        TUTOR_OTEL_AI_SEMCONV_METRICS: 'maybe',
        TUTOR_OTEL_AI_INCLUDE_USAGE_HOSTS: 'https://x',
        TUTOR_OTEL_AI_PROVIDERS: 'oops',
        TUTOR_OTEL_AI_PRICES_FILE: '/nonexistent/prices.json',
        TUTOR_OTEL_AI_CAPTURE_CONTENT: 'yes',
      },
      agent,
      (m) => warnings.push(m),
    );
    expect(warnings).toHaveLength(5);
    expect(warnings.find((w) => w.startsWith('TUTOR_OTEL_AI_MODEL_LIMIT='))).toMatch(/default 50$/);
    expect(warnings.find((w) => w.startsWith('TUTOR_OTEL_AI_SEMCONV_METRICS='))).toMatch(/default false$/);
    expect(warnings.find((w) => w.startsWith('TUTOR_OTEL_AI_INCLUDE_USAGE_HOSTS='))).toMatch(/default api\.openai\.com$/);
    expect(warnings.find((w) => w.startsWith('TUTOR_OTEL_AI_PROVIDERS='))).toMatch(/default \(none\)$/);
    expect(warnings.find((w) => w.startsWith('TUTOR_OTEL_AI_PRICES_FILE='))).toMatch(/shipped price table/);
    expect(config.modelLimit).toBe(50);
    expect(config.semconvMetrics).toBe(false);
    expect(config.captureContentChars).toBeGreaterThan(0);
  });
});

describe('SDK version gate', () => {
  it('hooks the tested majors, by the name in package.json (an npm alias keeps it)', () => {
    for (const version of ['4.104.0', '5.23.2', '6.49.0', '7.59.0', '7.0.0-beta.1']) expect(sdkVerdict('openai', version)).toEqual({ hook: true });
    for (const version of ['0.137.0', '1.14.0']) expect(sdkVerdict('@anthropic-ai/sdk', version)).toEqual({ hook: true });
    expect(KNOWN_SDK_MAJORS.openai).toEqual([4, 5, 6, 7]);
  });

  it('leaves any other major alone, with a warning naming the package and version', () => {
    for (const [name, version] of [
      ['openai', '3.3.0'],
      ['openai', '8.0.0'],
      ['openai', '99.0.0'],
      ['@anthropic-ai/sdk', '2.0.0'],
    ]) {
      const verdict = sdkVerdict(name, version);
      expect(verdict.hook).toBe(false);
      expect(verdict.hook === false && verdict.warning).toContain(`${name} ${version} is a major version the agent does not know`);
    }
    const verdict = sdkVerdict('openai', '8.1.0');
    expect(verdict.hook === false && verdict.warning).toContain('(it knows openai 4.x, 5.x, 6.x, 7.x)');
  });

  it('leaves alone a package with no readable version, or one that is not an AI SDK', () => {
    expect(sdkVerdict('openai', undefined)).toMatchObject({ hook: false, warning: expect.stringContaining('openai (no version)') });
    expect(sdkVerdict('openai', 'latest')).toMatchObject({ hook: false });
    expect(sdkVerdict(undefined, undefined)).toMatchObject({ hook: false, warning: expect.stringContaining('(no name) (no version) is not an AI SDK') });
    expect(sdkVerdict('left-pad', '1.3.0')).toMatchObject({ hook: false, warning: expect.stringContaining('left-pad 1.3.0 is not an AI SDK') });
    expect(sdkVerdict('toString', '1.0.0')).toMatchObject({ hook: false });
    const long = sdkVerdict('x'.repeat(500), '1.0.0');
    expect(long.hook === false && long.warning.length).toBeLessThan(250);
  });
});
