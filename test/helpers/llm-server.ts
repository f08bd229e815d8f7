/**
 * A local stand-in for the model APIs, on loopback over real HTTP, speaking their wire formats:
 * OpenAI chat completions, completions, responses (JSON and server-sent events) and embeddings, and
 * Anthropic messages (JSON and its event stream), with usage that includes cached and reasoning
 * tokens.
 *
 * Behaviour per request comes from headers the fixture apps send (the SDKs repeat them on
 * retries):
 * - `x-llm-key`: names a logical call, so attempts of one call can be counted and failed in turn;
 * - `x-llm-mode`: `fail:<status>:<n>` answers the first n attempts of the key with that status
 *   (with `retry-after-ms: 10`, so SDK retries are quick) and then succeeds; `delay:<ms>` waits
 *   before answering; `slow:<ms>` spaces the streamed events; `cut` ends a stream mid-event by
 *   destroying the socket; `overloaded` ends a stream with the API's in-stream error event (after
 *   three events); `gzip` compresses the body.
 *
 * Streams follow OpenAI's rule for usage: only with `stream_options.include_usage` does each chunk
 * carry `"usage":null` and a last chunk with empty `choices` carry the usage.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** The usage every answer reports, by API. */
export const USAGE = {
  openai: { input: 120, cached: 20, output: 30, reasoning: 10 },
  embeddings: { input: 8 },
  anthropic: { input: 100, cacheRead: 15, cacheWrite: 5, output: 40, outputAtStart: 1, outputMidway: 20 },
};

export const WORDS = ['Hello', ' there', ',', ' learner', '!'];

/** The model the server says answered: the asked-for name with a date, as the real APIs do. */
export function answeringModel(model: string, anthropic = false): string {
  return anthropic ? `${model}-20250514` : `${model}-2024-08-06`;
}

export class LlmServer {
  readonly requests: RecordedRequest[] = [];
  private readonly attempts = new Map<string, number>();
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      void this.answer(req, res, body).catch(() => res.destroy());
    });
  });
  url = '';

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  get hostPort(): string {
    return this.url.replace(/^http:\/\//, '');
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests of one logical call (its `x-llm-key`). */
  requestsFor(key: string): RecordedRequest[] {
    return this.requests.filter((r) => r.headers['x-llm-key'] === key);
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse, body: any): Promise<void> {
    const key = String(req.headers['x-llm-key'] ?? '');
    const mode = String(req.headers['x-llm-mode'] ?? '');
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    if (key) this.attempts.set(key, attempt);

    const fail = /^fail:(\d{3}):(\d+)$/.exec(mode);
    if (fail && attempt <= Number(fail[2])) {
      const status = Number(fail[1]);
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after-ms': '10', 'x-should-retry': 'true' });
      res.end(JSON.stringify({ error: { message: `simulated ${status}`, type: status === 429 ? 'rate_limit_error' : 'server_error' }, type: 'error' }));
      return;
    }
    const delay = /^delay:(\d+)$/.exec(mode);
    if (delay) await sleep(Number(delay[1]));
    if (res.destroyed) return;

    const path = (req.url ?? '').split('?')[0] ?? '';
    const gap = Number(/^slow:(\d+)$/.exec(mode)?.[1] ?? 0);
    const options: SseOptions = { gzip: mode === 'gzip', cut: mode === 'cut', overloaded: mode === 'overloaded', gap };
    if (path.endsWith('/v1/messages')) {
      return body?.stream ? this.anthropicStream(res, body, options) : this.json(res, anthropicMessage(body), options);
    }
    if (path.endsWith('/chat/completions')) {
      return body?.stream ? this.chatStream(res, body, options) : this.json(res, chatCompletion(body), options);
    }
    if (path.endsWith('/completions')) {
      return body?.stream ? this.completionStream(res, body, options) : this.json(res, textCompletion(body), options);
    }
    if (path.endsWith('/responses')) {
      return body?.stream ? this.responsesStream(res, body, options) : this.json(res, response(body), options);
    }
    if (path.endsWith('/embeddings')) return this.json(res, embeddings(body), options);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'no such endpoint' } }));
  }

  private json(res: http.ServerResponse, value: unknown, options: { gzip: boolean }): void {
    const text = JSON.stringify(value);
    if (options.gzip) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(zlib.gzipSync(text));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  }

  private async sse(res: http.ServerResponse, events: SseEvent[], options: SseOptions, errorEvent?: SseEvent): Promise<void> {
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
    const gzip = options.gzip ? zlib.createGzip({ flush: zlib.constants.Z_SYNC_FLUSH }) : undefined;
    if (gzip) {
      headers['content-encoding'] = 'gzip';
      gzip.pipe(res);
    }
    res.writeHead(200, headers);
    const write = (text: string) => (gzip ? gzip.write(text) : res.write(text));
    for (let i = 0; i < events.length; i++) {
      if (res.destroyed) return;
      const e = events[i] as SseEvent;
      const text = `${e.event ? `event: ${e.event}\n` : ''}data: ${e.data}\n\n`;
      if (options.overloaded && i === 3 && errorEvent) {
        write(`${errorEvent.event ? `event: ${errorEvent.event}\n` : ''}data: ${errorEvent.data}\n\n`);
        break;
      }
      if (options.cut && i === 3) {
        // Half an event, then the connection drops.
        res.write(text.slice(0, Math.floor(text.length / 2)));
        await sleep(30);
        res.socket?.destroy();
        return;
      }
      write(text);
      if (options.gap > 0) await sleep(options.gap);
    }
    if (gzip) gzip.end();
    else res.end();
  }

  private chatStream(res: http.ServerResponse, body: any, options: SseOptions): Promise<void> {
    const includeUsage = body?.stream_options?.include_usage === true;
    const model = answeringModel(String(body?.model));
    const base = { id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1_700_000_000, model, system_fingerprint: 'fp_test' };
    const chunk = (choices: unknown[]) => JSON.stringify({ ...base, choices, ...(includeUsage ? { usage: null } : {}) });
    const events = [
      { data: chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]) },
      ...WORDS.map((word) => ({ data: chunk([{ index: 0, delta: { content: word }, logprobs: null, finish_reason: null }]) })),
      { data: chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]) },
    ];
    if (includeUsage) events.push({ data: JSON.stringify({ ...base, choices: [], usage: openAiUsage() }) });
    events.push({ data: '[DONE]' });
    return this.sse(res, events, options, { data: JSON.stringify({ error: { message: 'The server is overloaded', type: 'server_error', code: null } }) });
  }

  private completionStream(res: http.ServerResponse, body: any, options: SseOptions): Promise<void> {
    const includeUsage = body?.stream_options?.include_usage === true;
    const base = { id: 'cmpl-test', object: 'text_completion', created: 1_700_000_000, model: answeringModel(String(body?.model)) };
    const events = WORDS.map((word, i) => ({
      data: JSON.stringify({
        ...base,
        choices: [{ index: 0, text: word, logprobs: null, finish_reason: i === WORDS.length - 1 ? 'stop' : null }],
        ...(includeUsage ? { usage: null } : {}),
      }),
    }));
    if (includeUsage) events.push({ data: JSON.stringify({ ...base, choices: [], usage: openAiUsage() }) });
    events.push({ data: '[DONE]' });
    return this.sse(res, events, options);
  }

  private responsesStream(res: http.ServerResponse, body: any, options: SseOptions): Promise<void> {
    const model = answeringModel(String(body?.model));
    let sequence = 0;
    const event = (type: string, rest: Record<string, unknown>) => ({
      event: type,
      data: JSON.stringify({ type, sequence_number: sequence++, ...rest }),
    });
    const shell = { id: 'resp_test', object: 'response', created_at: 1_700_000_000, model, output: [] as unknown[], usage: null as unknown };
    const events = [
      event('response.created', { response: { ...shell, status: 'in_progress' } }),
      ...WORDS.map((delta) => event('response.output_text.delta', { item_id: 'msg_test', output_index: 0, content_index: 0, delta })),
      event('response.completed', { response: { ...response(body), status: 'completed' } }),
    ];
    return this.sse(res, events, options);
  }

  private anthropicStream(res: http.ServerResponse, body: any, options: SseOptions): Promise<void> {
    const u = USAGE.anthropic;
    const model = answeringModel(String(body?.model), true);
    const event = (type: string, rest: Record<string, unknown>) => ({ event: type, data: JSON.stringify({ type, ...rest }) });
    const events = [
      event('message_start', {
        message: {
          id: 'msg_test',
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: {
            input_tokens: u.input,
            cache_creation_input_tokens: u.cacheWrite,
            cache_read_input_tokens: u.cacheRead,
            output_tokens: u.outputAtStart,
          },
        },
      }),
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      event('ping', {}),
      ...WORDS.map((text) => event('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })),
      event('content_block_stop', { index: 0 }),
      // Running totals: the second replaces the first.
      event('message_delta', { delta: { stop_reason: null, stop_sequence: null }, usage: { output_tokens: u.outputMidway } }),
      event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: u.output } }),
      event('message_stop', {}),
    ];
    return this.sse(res, events, options, event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }));
  }
}

interface SseEvent {
  event?: string;
  data: string;
}

interface SseOptions {
  gzip: boolean;
  cut: boolean;
  overloaded: boolean;
  gap: number;
}

function openAiUsage() {
  const u = USAGE.openai;
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function chatCompletion(body: any) {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: answeringModel(String(body?.model)),
    system_fingerprint: 'fp_test',
    choices: [{ index: 0, message: { role: 'assistant', content: WORDS.join(''), refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: openAiUsage(),
  };
}

function textCompletion(body: any) {
  return {
    id: 'cmpl-test',
    object: 'text_completion',
    created: 1_700_000_000,
    model: answeringModel(String(body?.model)),
    choices: [{ index: 0, text: WORDS.join(''), logprobs: null, finish_reason: 'stop' }],
    usage: openAiUsage(),
  };
}

function response(body: any) {
  const u = USAGE.openai;
  return {
    id: 'resp_test',
    object: 'response',
    created_at: 1_700_000_000,
    status: 'completed',
    model: answeringModel(String(body?.model)),
    output: [
      {
        type: 'message',
        id: 'msg_test',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: WORDS.join(''), annotations: [] }],
      },
    ],
    usage: {
      input_tokens: u.input,
      input_tokens_details: { cached_tokens: u.cached },
      output_tokens: u.output,
      output_tokens_details: { reasoning_tokens: u.reasoning },
      total_tokens: u.input + u.output,
    },
  };
}

function embeddings(body: any) {
  const inputs: unknown[] = Array.isArray(body?.input) ? body.input : [body?.input];
  const vector = [0.25, -0.5, 0.125, 1];
  return {
    object: 'list',
    data: inputs.map((_, index) => ({
      object: 'embedding',
      index,
      embedding: body?.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
    })),
    model: answeringModel(String(body?.model)),
    usage: { prompt_tokens: USAGE.embeddings.input, total_tokens: USAGE.embeddings.input },
  };
}

function anthropicMessage(body: any) {
  const u = USAGE.anthropic;
  return {
    id: 'msg_test',
    type: 'message',
    role: 'assistant',
    model: answeringModel(String(body?.model), true),
    content: [{ type: 'text', text: WORDS.join('') }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: u.input, cache_creation_input_tokens: u.cacheWrite, cache_read_input_tokens: u.cacheRead, output_tokens: u.output },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
