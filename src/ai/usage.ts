/**
 * Reads what a generation reports about itself from its response: the model that answered, token
 * usage, and whether a streamed event carries generated content (for time to first token). Works
 * on parsed objects, whether the SDK parsed them or the agent did from the bytes of a plain HTTP
 * call, for OpenAI's chat completions, completions, embeddings and responses, and Anthropic's
 * messages.
 *
 * Token accounting: `input` is every input token (cached and cache-written included), `output`
 * every output token (reasoning included); `cachedInput` and `reasoning` are the parts of those
 * that go to their own counters, never added to `input`/`output` a second time.
 */
import type { Endpoint } from './endpoints';

export interface Usage {
  input?: number;
  output?: number;
  cachedInput?: number;
  reasoning?: number;
  /** Anthropic cache-creation input tokens (a part of `input`), priced apart. */
  cacheWrite?: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** OpenAI usage in either naming: chat/completions/embeddings (`prompt_tokens`) or responses (`input_tokens`). */
export function openAiUsage(usage: unknown): Usage | undefined {
  if (!isObject(usage)) return undefined;
  const input = count(usage.prompt_tokens) ?? count(usage.input_tokens);
  const output = count(usage.completion_tokens) ?? count(usage.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const inputDetails = usage.prompt_tokens_details ?? usage.input_tokens_details;
  const outputDetails = usage.completion_tokens_details ?? usage.output_tokens_details;
  const result: Usage = {};
  if (input !== undefined) result.input = input;
  if (output !== undefined) result.output = output;
  const cached = isObject(inputDetails) ? count(inputDetails.cached_tokens) : undefined;
  const reasoning = isObject(outputDetails) ? count(outputDetails.reasoning_tokens) : undefined;
  if (cached) result.cachedInput = cached;
  if (reasoning) result.reasoning = reasoning;
  return result;
}

/** Anthropic's usage fields as last reported (message_delta values are running totals). */
interface AnthropicUsageFields {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

const ANTHROPIC_FIELDS = ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const;

function anthropicUsage(fields: AnthropicUsageFields): Usage | undefined {
  const plain = fields.input_tokens;
  const written = fields.cache_creation_input_tokens ?? 0;
  const read = fields.cache_read_input_tokens ?? 0;
  if (plain === undefined && fields.output_tokens === undefined) return undefined;
  const result: Usage = {};
  // Anthropic's input_tokens excludes cache reads and writes; the agent's input includes them.
  if (plain !== undefined || written || read) result.input = (plain ?? 0) + written + read;
  if (fields.output_tokens !== undefined) result.output = fields.output_tokens;
  if (read) result.cachedInput = read;
  if (written) result.cacheWrite = written;
  return result;
}

/** A bounded name for an error object an API sent: its `type` or `code` when it looks like one. */
function errorKind(error: unknown): string {
  if (isObject(error)) {
    for (const field of ['type', 'code']) {
      const value = error[field];
      if (typeof value === 'string' && /^[A-Za-z0-9_.-]{1,60}$/.test(value)) return value;
    }
  }
  return 'stream_error';
}

/** What one generation's response said so far. */
export class ResponseReader {
  responseModel: string | undefined;
  /** Set from the final report; a stream's later report replaces an earlier one. */
  usage: Usage | undefined;
  /** Generated text, kept only when content capture is on, up to a bound. */
  outputText = '';
  /** An error the API reported inside a stream (its type), which makes the generation an error. */
  streamError: string | undefined;
  private readonly anthropic: AnthropicUsageFields = {};

  constructor(
    private readonly endpoint: Endpoint,
    private readonly captureLimit: number,
  ) {}

  /** A whole (non-streamed) response body. */
  readBody(body: unknown): void {
    if (!isObject(body)) return;
    if (typeof body.model === 'string') this.responseModel = body.model;
    if (this.endpoint.protocol === 'anthropic') {
      this.mergeAnthropic(body.usage);
      if (this.captureLimit > 0 && Array.isArray(body.content)) {
        for (const block of body.content) if (isObject(block) && typeof block.text === 'string') this.capture(block.text);
      }
      return;
    }
    const usage = openAiUsage(body.usage);
    if (usage) this.usage = usage;
    if (this.captureLimit > 0) this.captureOpenAiBody(body);
  }

  /** One streamed event; returns true when it carries generated content. */
  readEvent(event: unknown): boolean {
    if (!isObject(event)) return false;
    if (this.endpoint.protocol === 'anthropic') return this.readAnthropicEvent(event);
    if (this.endpoint.operation === 'responses') return this.readResponsesEvent(event);
    if (isObject(event.error)) this.streamError = errorKind(event.error);
    if (typeof event.model === 'string' && event.model) this.responseModel = event.model;
    const usage = openAiUsage(event.usage);
    if (usage) this.usage = usage;
    let content = false;
    if (Array.isArray(event.choices)) {
      for (const choice of event.choices) {
        if (!isObject(choice)) continue;
        const delta = isObject(choice.delta) ? choice.delta : undefined;
        const text = delta ? (delta.content ?? delta.refusal ?? delta.reasoning_content ?? delta.reasoning) : choice.text;
        if (typeof text === 'string' && text !== '') {
          content = true;
          this.capture(text);
        } else if (delta && (delta.tool_calls !== undefined || delta.function_call !== undefined)) {
          content = true;
        }
      }
    }
    return content;
  }

  private readResponsesEvent(event: Json): boolean {
    const type = typeof event.type === 'string' ? event.type : '';
    const response = isObject(event.response) ? event.response : undefined;
    if (type === 'error') this.streamError = errorKind(event);
    else if (type === 'response.failed') this.streamError = errorKind(response?.error);
    if (response) {
      if (typeof response.model === 'string') this.responseModel = response.model;
      const usage = openAiUsage(response.usage);
      if (usage) this.usage = usage;
    }
    if (type.endsWith('.delta')) {
      if (type === 'response.output_text.delta' && typeof event.delta === 'string') this.capture(event.delta);
      return true;
    }
    return false;
  }

  private readAnthropicEvent(event: Json): boolean {
    switch (event.type) {
      case 'message_start': {
        const message = isObject(event.message) ? event.message : undefined;
        if (message && typeof message.model === 'string') this.responseModel = message.model;
        if (message) this.mergeAnthropic(message.usage);
        return false;
      }
      case 'message_delta':
        this.mergeAnthropic(event.usage);
        return false;
      case 'error':
        this.streamError = errorKind(event.error);
        return false;
      case 'content_block_delta': {
        const delta = isObject(event.delta) ? event.delta : undefined;
        if (delta && typeof delta.text === 'string') this.capture(delta.text);
        return true;
      }
      default:
        return false;
    }
  }

  /** Anthropic reports running totals: each field present replaces the one before, never adds. */
  private mergeAnthropic(usage: unknown): void {
    if (!isObject(usage)) return;
    for (const field of ANTHROPIC_FIELDS) {
      const n = count(usage[field]);
      if (n !== undefined) this.anthropic[field] = n;
    }
    const merged = anthropicUsage(this.anthropic);
    if (merged) this.usage = merged;
  }

  private captureOpenAiBody(body: Json): void {
    if (Array.isArray(body.choices)) {
      for (const choice of body.choices) {
        if (!isObject(choice)) continue;
        const message = isObject(choice.message) ? choice.message : undefined;
        const text = message ? message.content : choice.text;
        if (typeof text === 'string') this.capture(text);
      }
    }
    if (typeof body.output_text === 'string') this.capture(body.output_text);
    else if (Array.isArray(body.output)) {
      for (const item of body.output) {
        if (!isObject(item) || !Array.isArray(item.content)) continue;
        for (const part of item.content) if (isObject(part) && typeof part.text === 'string') this.capture(part.text);
      }
    }
  }

  private capture(text: string): void {
    if (this.captureLimit <= 0 || this.outputText.length >= this.captureLimit) return;
    this.outputText += text.slice(0, this.captureLimit - this.outputText.length);
  }
}
