/**
 * The price table shipped with the agent: USD per million tokens, by model name as the providers
 * publish them (list prices for standard, non-batch use). Prices change; `version` says when this
 * table was last reviewed against the providers' pricing pages, and every release must review it
 * again. A deployment overrides or extends it with TUTOR_OTEL_AI_PRICES_FILE (docs/ai-meters.md).
 *
 * - `input`: uncached input tokens; `cached_input`: input tokens read from the prompt cache
 *   (OpenAI cached input, Anthropic cache reads); `cache_write`: Anthropic cache-creation input
 *   tokens (5-minute cache); `output`: output tokens, reasoning tokens included.
 * - Names are matched exactly after a date suffix is folded (`gpt-4o-2024-08-06` -> `gpt-4o`,
 *   `claude-sonnet-4-20250514` -> `claude-sonnet-4`), then through `aliases`; never by prefix.
 */

export interface ModelPrice {
  input: number;
  cached_input?: number;
  cache_write?: number;
  output: number;
}

export interface PriceTable {
  version: string;
  models: Record<string, ModelPrice>;
  aliases: Record<string, string>;
}

export const SHIPPED_PRICES: PriceTable = {
  version: '2025-10-31',
  models: {
    // OpenAI
    'gpt-5': { input: 1.25, cached_input: 0.125, output: 10 },
    'gpt-5-mini': { input: 0.25, cached_input: 0.025, output: 2 },
    'gpt-5-nano': { input: 0.05, cached_input: 0.005, output: 0.4 },
    'gpt-4.1': { input: 2, cached_input: 0.5, output: 8 },
    'gpt-4.1-mini': { input: 0.4, cached_input: 0.1, output: 1.6 },
    'gpt-4.1-nano': { input: 0.1, cached_input: 0.025, output: 0.4 },
    'gpt-4o': { input: 2.5, cached_input: 1.25, output: 10 },
    'gpt-4o-mini': { input: 0.15, cached_input: 0.075, output: 0.6 },
    'chatgpt-4o-latest': { input: 5, output: 15 },
    'gpt-4-turbo': { input: 10, output: 30 },
    'gpt-4': { input: 30, output: 60 },
    'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
    o1: { input: 15, cached_input: 7.5, output: 60 },
    'o1-mini': { input: 1.1, cached_input: 0.55, output: 4.4 },
    o3: { input: 2, cached_input: 0.5, output: 8 },
    'o3-mini': { input: 1.1, cached_input: 0.55, output: 4.4 },
    'o4-mini': { input: 1.1, cached_input: 0.275, output: 4.4 },
    'text-embedding-3-small': { input: 0.02, output: 0 },
    'text-embedding-3-large': { input: 0.13, output: 0 },
    'text-embedding-ada-002': { input: 0.1, output: 0 },
    // Anthropic
    'claude-sonnet-4-5': { input: 3, cached_input: 0.3, cache_write: 3.75, output: 15 },
    'claude-haiku-4-5': { input: 1, cached_input: 0.1, cache_write: 1.25, output: 5 },
    'claude-opus-4-1': { input: 15, cached_input: 1.5, cache_write: 18.75, output: 75 },
    'claude-opus-4': { input: 15, cached_input: 1.5, cache_write: 18.75, output: 75 },
    'claude-sonnet-4': { input: 3, cached_input: 0.3, cache_write: 3.75, output: 15 },
    'claude-3-7-sonnet': { input: 3, cached_input: 0.3, cache_write: 3.75, output: 15 },
    'claude-3-5-sonnet': { input: 3, cached_input: 0.3, cache_write: 3.75, output: 15 },
    'claude-3-5-haiku': { input: 0.8, cached_input: 0.08, cache_write: 1, output: 4 },
    'claude-3-opus': { input: 15, cached_input: 1.5, cache_write: 18.75, output: 75 },
    'claude-3-haiku': { input: 0.25, cached_input: 0.03, cache_write: 0.3, output: 1.25 },
  },
  aliases: {
    'gpt-4-turbo-preview': 'gpt-4-turbo',
    'gpt-4-1106-preview': 'gpt-4-turbo',
    'gpt-4-0125-preview': 'gpt-4-turbo',
    'gpt-35-turbo': 'gpt-3.5-turbo', // Azure's spelling
    'claude-opus-4-1-latest': 'claude-opus-4-1',
    'claude-opus-4-0': 'claude-opus-4',
    'claude-sonnet-4-0': 'claude-sonnet-4',
    'claude-3-7-sonnet-latest': 'claude-3-7-sonnet',
    'claude-3-5-sonnet-latest': 'claude-3-5-sonnet',
    'claude-3-5-haiku-latest': 'claude-3-5-haiku',
    'claude-3-opus-latest': 'claude-3-opus',
  },
};
