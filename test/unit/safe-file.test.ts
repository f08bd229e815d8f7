/**
 * The one reader for files someone else controls (price file, credential files): only a regular
 * file under its limit is read; a FIFO, a device, a directory, a missing or a too-large file is a
 * reason string, returned at once.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_FILE_LIMIT, PRICE_FILE_LIMIT, readFileSafely, readFileSafelySync } from '../../src/config/safe-file';

const dir = mkdtempSync(path.join(tmpdir(), 'otel-agent-safe-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fifo = path.join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);

describe('readFileSafelySync / readFileSafely', () => {
  it('reads a regular file, also one exactly at the limit', async () => {
    const file = path.join(dir, 'ok');
    writeFileSync(file, 'hello\n');
    expect(readFileSafelySync(file, 64)).toMatchObject({ ok: true, text: 'hello\n' });
    expect(await readFileSafely(file, 64)).toMatchObject({ ok: true, text: 'hello\n' });
    const full = path.join(dir, 'full');
    writeFileSync(full, 'x'.repeat(64));
    expect(readFileSafelySync(full, 64)).toMatchObject({ ok: true, text: 'x'.repeat(64) });
  });

  it('refuses a file over the limit without reading it', async () => {
    const big = path.join(dir, 'big');
    writeFileSync(big, 'x'.repeat(65));
    expect(readFileSafelySync(big, 64)).toEqual({ ok: false, reason: 'it is larger than the 64 bytes limit (65 bytes)' });
    expect(await readFileSafely(big, 64)).toMatchObject({ ok: false, reason: expect.stringMatching(/larger than/) });
  });

  it('returns at once for a FIFO with no writer (the old readFileSync blocked forever)', async () => {
    const started = performance.now();
    expect(readFileSafelySync(fifo, CREDENTIAL_FILE_LIMIT)).toEqual({ ok: false, reason: 'it is not a regular file (a FIFO)' });
    expect(await readFileSafely(fifo, CREDENTIAL_FILE_LIMIT)).toEqual({ ok: false, reason: 'it is not a regular file (a FIFO)' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses /dev/zero without reading from it, and a directory', async () => {
    const before = process.memoryUsage().rss;
    expect(readFileSafelySync('/dev/zero', PRICE_FILE_LIMIT)).toEqual({ ok: false, reason: 'it is not a regular file (a character device)' });
    expect(await readFileSafely('/dev/zero', PRICE_FILE_LIMIT)).toMatchObject({ ok: false });
    expect(process.memoryUsage().rss - before).toBeLessThan(32 * 1024 * 1024);
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    expect(readFileSafelySync(sub, 64)).toEqual({ ok: false, reason: 'it is not a regular file (a directory)' });
  });

  it('says why a missing file cannot be read', async () => {
    expect(readFileSafelySync(path.join(dir, 'missing'), 64)).toEqual({ ok: false, reason: 'it cannot be read (ENOENT)' });
    expect(await readFileSafely(path.join(dir, 'missing'), 64)).toEqual({ ok: false, reason: 'it cannot be read (ENOENT)' });
  });

  it('documents its limits: 1 MiB for prices, 64 KiB for credentials', () => {
    expect(PRICE_FILE_LIMIT).toBe(1024 * 1024);
    expect(CREDENTIAL_FILE_LIMIT).toBe(64 * 1024);
  });
});
