/**
 * Prices a generation from its token usage. A model is found by its exact name, then by the name
 * with a date suffix folded, each also through the alias table; never by prefix, so `gpt-4.1` is
 * not `gpt-4` and `gpt-4o-mini` is not `gpt-4o`. A model the table does not know has no cost: it
 * is counted as unpriced instead of costing 0.
 */
import { clip } from '../config/reader';
import { PRICE_FILE_LIMIT, readFileSafelySync } from '../config/safe-file';
import type { ModelPrice, PriceTable } from './prices';
import type { Usage } from './usage';

const DATE_SUFFIXES = [
  /-\d{4}-\d{2}-\d{2}$/, // gpt-4o-2024-08-06
  /[-@]\d{8}$/, // claude-sonnet-4-20250514, claude-3-5-sonnet@20240620 (Vertex)
  /-\d{4}$/, // gpt-4-0613, gpt-3.5-turbo-0125
];

/** `gpt-4o-2024-08-06` -> `gpt-4o`; a name without a date suffix is returned as it is. */
export function foldDateSuffix(model: string): string {
  for (const suffix of DATE_SUFFIXES) {
    if (suffix.test(model)) return model.replace(suffix, '');
  }
  return model;
}

export class Pricer {
  constructor(readonly table: PriceTable) {}

  /** The table's key for a model name, or undefined when the model is not priced. */
  key(model: string): string | undefined {
    const name = model.trim().toLowerCase();
    for (const candidate of [name, foldDateSuffix(name)]) {
      if (Object.hasOwn(this.table.models, candidate)) return candidate;
      const alias = Object.hasOwn(this.table.aliases, candidate) ? this.table.aliases[candidate] : undefined;
      if (alias !== undefined && Object.hasOwn(this.table.models, alias)) return alias;
    }
    return undefined;
  }

  price(model: string): ModelPrice | undefined {
    const key = this.key(model);
    return key === undefined ? undefined : this.table.models[key];
  }

  /** USD for this usage, or undefined when the model is not priced. */
  cost(model: string, usage: Usage): number | undefined {
    const price = this.price(model);
    if (!price) return undefined;
    const input = usage.input ?? 0;
    const cached = Math.min(usage.cachedInput ?? 0, input);
    const written = Math.min(usage.cacheWrite ?? 0, input - cached);
    const plain = input - cached - written;
    const dollars =
      plain * price.input +
      cached * (price.cached_input ?? price.input) +
      written * (price.cache_write ?? price.input) +
      (usage.output ?? 0) * price.output;
    // Token counts come from the provider's answer: an absurd count must not put +Inf in a counter.
    return Number.isFinite(dollars) ? dollars / 1_000_000 : undefined;
  }
}

/**
 * The highest price accepted, in USD per million tokens. The dearest shipped model costs well under
 * 1000; a price above this is a typo or a hostile file, and `1e308` would make every cost +Inf.
 */
export const MAX_PRICE = 1_000_000;

/**
 * Validates a price file's parsed JSON: `{ "version": "...", "models": { name: { input, output,
 * cached_input?, cache_write? } }, "aliases"?: { name: model } }`. Returns the problem, or the table.
 * Every price must be a finite number from 0 to MAX_PRICE; one bad entry rejects the whole file (the
 * caller then keeps the shipped table), so a half-applied file never prices some models wrongly.
 */
export function validatePriceTable(value: unknown): PriceTable | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'it is not a JSON object';
  const record = value as Record<string, unknown>;
  if (typeof record.version !== 'string' || record.version.trim() === '') return 'it has no "version" string';
  const models = record.models;
  if (typeof models !== 'object' || models === null || Array.isArray(models)) return 'it has no "models" object';
  const out: PriceTable = { version: record.version.trim(), models: {}, aliases: {} };
  for (const [name, price] of Object.entries(models as Record<string, unknown>)) {
    if (typeof price !== 'object' || price === null) return `model "${clip(name, 40)}" is not an object`;
    const p = price as Record<string, unknown>;
    const entry: ModelPrice = { input: 0, output: 0 };
    for (const field of ['input', 'output', 'cached_input', 'cache_write'] as const) {
      const n = p[field];
      if (n === undefined && (field === 'cached_input' || field === 'cache_write')) continue;
      if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > MAX_PRICE) {
        return `model "${clip(name, 40)}" has no valid "${field}" price (a number from 0 to ${MAX_PRICE} USD per million tokens)`;
      }
      entry[field] = n;
    }
    out.models[name.trim().toLowerCase()] = entry;
  }
  const aliases = record.aliases ?? {};
  if (typeof aliases !== 'object' || aliases === null || Array.isArray(aliases)) return '"aliases" is not an object';
  for (const [name, target] of Object.entries(aliases as Record<string, unknown>)) {
    if (typeof target !== 'string') return `alias "${clip(name, 40)}" does not name a model`;
    out.aliases[name.trim().toLowerCase()] = target.trim().toLowerCase();
  }
  return out;
}

/** The shipped table with a file's entries laid over it (the file wins). */
export function mergePriceTables(base: PriceTable, override: PriceTable): PriceTable {
  return {
    version: `${base.version}+${override.version}`,
    models: { ...base.models, ...override.models },
    aliases: { ...base.aliases, ...override.aliases },
  };
}

/**
 * Reads and validates a price file; a string is the reason it cannot be used. Read with the safe
 * reader: a regular file of at most PRICE_FILE_LIMIT (1 MiB), so a FIFO, a device or a huge file
 * costs one warning, not a hung start-up or the app's memory.
 */
export function readPriceFile(path: string): PriceTable | string {
  const read = readFileSafelySync(path, PRICE_FILE_LIMIT);
  if (!read.ok) return read.reason;
  let parsed: unknown;
  try {
    parsed = JSON.parse(read.text);
  } catch {
    return 'it is not valid JSON';
  }
  return validatePriceTable(parsed);
}
