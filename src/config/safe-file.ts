/**
 * Reads a small configuration file that someone else controls (a mounted secret, a price file)
 * without trusting it. The file is looked at (stat) before it is opened, so a device is never
 * opened; it is opened with O_NONBLOCK, so a FIFO swapped in between cannot block the open; the
 * open descriptor must still be a regular file no larger than the limit; and the read is a
 * bounded loop, so a file that grows while it is read is refused, not followed. Anything else is
 * a reason string (for one warning) and the caller keeps its default.
 *
 * Limits (documented in the README's configuration table):
 * - price file (TUTOR_OTEL_AI_PRICES_FILE): 1 MiB; the shipped table is about 10 KB.
 * - credential files (TUTOR_OTEL_AUTH_TOKEN_FILE, TUTOR_OTEL_AUTH_BASIC_FILE): 64 KiB.
 */
import * as fs from 'node:fs';

export const PRICE_FILE_LIMIT = 1024 * 1024;
export const CREDENTIAL_FILE_LIMIT = 64 * 1024;

/** What identifies one version of a file: a change in any of these means it was replaced or rewritten. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

export type SafeRead = { ok: true; text: string; identity: FileIdentity } | { ok: false; reason: string };

const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOCTTY ?? 0);

export function identityOf(stat: fs.Stats): FileIdentity {
  return { dev: stat.dev, ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs, ctimeMs: stat.ctimeMs };
}

export function sameIdentity(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  return (
    a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs
  );
}

/** Synchronous, for start-up: bounded in time (no blocking open, no unbounded read) and in memory. */
export function readFileSafelySync(path: string, limit: number): SafeRead {
  let fd: number;
  try {
    const problem = unusable(fs.statSync(path), limit);
    if (problem) return { ok: false, reason: problem };
    fd = fs.openSync(path, OPEN_FLAGS);
  } catch (error) {
    return { ok: false, reason: cannotRead(error) };
  }
  try {
    const stat = fs.fstatSync(fd);
    const problem = unusable(stat, limit);
    if (problem) return { ok: false, reason: problem };
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return done(buffer, length, limit, stat);
  } catch (error) {
    return { ok: false, reason: cannotRead(error) };
  } finally {
    try {
      fs.closeSync(fd);
    } catch {
      // Nothing to do: the descriptor is gone either way.
    }
  }
}

/** The same checks without blocking the event loop, for re-reading a rotated file. */
export async function readFileSafely(path: string, limit: number): Promise<SafeRead> {
  let handle: fs.promises.FileHandle;
  try {
    const problem = unusable(await fs.promises.stat(path), limit);
    if (problem) return { ok: false, reason: problem };
    handle = await fs.promises.open(path, OPEN_FLAGS);
  } catch (error) {
    return { ok: false, reason: cannotRead(error) };
  }
  try {
    const stat = await handle.stat();
    const problem = unusable(stat, limit);
    if (problem) return { ok: false, reason: problem };
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return done(buffer, length, limit, stat);
  } catch (error) {
    return { ok: false, reason: cannotRead(error) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function unusable(stat: fs.Stats, limit: number): string | undefined {
  if (!stat.isFile()) return `it is not a regular file (${kind(stat)})`;
  if (stat.size > limit) return `it is larger than the ${describeLimit(limit)} limit (${stat.size} bytes)`;
  return undefined;
}

function done(buffer: Buffer, length: number, limit: number, stat: fs.Stats): SafeRead {
  if (length > limit) return { ok: false, reason: `it is larger than the ${describeLimit(limit)} limit (it grew while being read)` };
  return { ok: true, text: buffer.toString('utf8', 0, length), identity: identityOf(stat) };
}

function kind(stat: fs.Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}

export function describeLimit(limit: number): string {
  if (limit % (1024 * 1024) === 0) return `${limit / (1024 * 1024)} MiB`;
  if (limit % 1024 === 0) return `${limit / 1024} KiB`;
  return `${limit} bytes`;
}

function cannotRead(error: unknown): string {
  return `it cannot be read (${(error as NodeJS.ErrnoException)?.code ?? 'error'})`;
}
