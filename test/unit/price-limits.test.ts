/**
 * A price file is read through the safe reader (regular file, at most 1 MiB) and every price must
 * be a finite number from 0 to MAX_PRICE USD per million tokens: one bad entry rejects the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_PRICE, Pricer, readPriceFile, validatePriceTable } from '../../src/ai/pricing';

const dir = mkdtempSync(path.join(tmpdir(), 'otel-agent-prices-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('price limits', () => {
  it('rejects 1e308 (which made every cost +Inf) and anything above MAX_PRICE; accepts MAX_PRICE', () => {
    expect(validatePriceTable({ version: 'x', models: { m: { input: 1e308, output: 1 } } })).toMatch(/model "m" has no valid "input" price/);
    expect(validatePriceTable({ version: 'x', models: { m: { input: 1, output: MAX_PRICE + 1 } } })).toMatch(/"output"/);
    expect(validatePriceTable({ version: 'x', models: { m: { input: 1, output: 1, cache_write: 1e7 } } })).toMatch(/"cache_write"/);
    const table = validatePriceTable({ version: 'x', models: { m: { input: MAX_PRICE, output: 0 } } });
    expect(typeof table).toBe('object');
  });

  it('never returns a non-finite cost, whatever the token counts', () => {
    const pricer = new Pricer({ version: 'x', models: { m: { input: MAX_PRICE, output: MAX_PRICE } }, aliases: {} });
    expect(pricer.cost('m', { input: 1e308, output: 1e308 })).toBeUndefined();
    expect(pricer.cost('m', { input: 1, output: 0 })).toBe(1);
  });

  it('refuses a 15 MB price file by its size, before reading or parsing it', () => {
    const file = path.join(dir, 'huge.json');
    const models: Record<string, unknown> = {};
    for (let i = 0; i < 400_000; i++) models[`model-${i}`] = { input: 1, output: 2 };
    writeFileSync(file, JSON.stringify({ version: 'huge', models }));
    expect(readPriceFile(file)).toMatch(/^it is larger than the 1 MiB limit \(\d+ bytes\)$/);
  });

  it('refuses /dev/zero at once', () => {
    expect(readPriceFile('/dev/zero')).toBe('it is not a regular file (a character device)');
  });
});
