/**
 * Who may read /metrics and /health. Credentials come from four settings: TUTOR_OTEL_AUTH_TOKEN,
 * TUTOR_OTEL_AUTH_TOKEN_FILE, TUTOR_OTEL_AUTH_BASIC, TUTOR_OTEL_AUTH_BASIC_FILE. This is the one
 * place they are validated, and it fails closed:
 *
 * - none set: the endpoints are open;
 * - any set but blank or malformed (a token that is empty, basic that is not `user:password` with
 *   both parts non-empty), in a variable or in a file, or a file that cannot be read safely (see
 *   config/safe-file.ts): the endpoints are locked (every request 401) with one warning that names
 *   the variable and never shows the value;
 * - otherwise any configured credential is accepted.
 *
 * A file is a mounted secret that may be rotated: it is stat'ed at most once a second, on a
 * request, and re-read (without blocking the event loop) when its inode, size or times change.
 * A rotated file takes effect on the first request after that check; a deleted or unreadable one
 * locks until it is back. Only a change of state is logged, once.
 */
import type { AgentConfig, CredentialSource } from '../config/types';
import {
  CREDENTIAL_FILE_LIMIT,
  identityOf,
  readFileSafely,
  readFileSafelySync,
  sameIdentity,
  type FileIdentity,
  type SafeRead,
} from '../config/safe-file';
import { log } from '../logging/logger';

/** How often a credential file is looked at again, at most (on a request). */
export const RECHECK_MS = 1000;

type Kind = 'bearer' | 'basic';

export interface Credentials {
  /** Whether this Authorization header value opens /metrics and /health. */
  authorize(header: string | undefined): Promise<boolean>;
}

export interface CredentialOptions {
  warn?: (message: string) => void;
  info?: (message: string) => void;
  now?: () => number;
}

/**
 * The endpoints' gatekeeper, or undefined when no credential setting is set at all (open).
 * Start-up reads (the credential files) are synchronous but bounded by the safe reader.
 */
export function acceptedAuthorizations(auth: AgentConfig['auth'], options: CredentialOptions = {}): Credentials | undefined {
  const warn = options.warn ?? log.warn;
  const info = options.info ?? log.info;
  const now = options.now ?? Date.now;
  const slots: Slot[] = [];
  const settings: Array<[Kind, CredentialSource, string, string]> = [
    ['bearer', auth.bearer, 'TUTOR_OTEL_AUTH_TOKEN', 'TUTOR_OTEL_AUTH_TOKEN_FILE'],
    ['basic', auth.basic, 'TUTOR_OTEL_AUTH_BASIC', 'TUTOR_OTEL_AUTH_BASIC_FILE'],
  ];
  for (const [kind, source, variable, fileVariable] of settings) {
    if (source.value !== undefined) {
      const secret = parseSecret(kind, source.value);
      if (typeof secret !== 'string' || secret === '') {
        warn(lockMessage(variable, secret === '' ? 'is set but blank' : secret.problem));
        slots.push({ kind, secret: undefined });
      } else {
        slots.push({ kind, secret });
      }
    }
    if (source.file !== undefined) {
      const path = source.file.trim();
      if (path === '') {
        warn(lockMessage(fileVariable, 'is set but blank'));
        slots.push({ kind, secret: undefined });
      } else {
        slots.push(new FileSlot(kind, path, fileVariable, warn, info, now));
      }
    }
  }
  if (slots.length === 0) return undefined;
  return new Gate(slots);
}

/** One configured credential; `secret` undefined means it is unusable and locks the endpoints. */
interface Slot {
  kind: Kind;
  secret: string | undefined;
  refresh?(): Promise<void> | undefined;
}

class Gate implements Credentials {
  constructor(private readonly slots: Slot[]) {}

  async authorize(header: string | undefined): Promise<boolean> {
    const pending: Array<Promise<void>> = [];
    for (const slot of this.slots) {
      const refreshing = slot.refresh?.();
      if (refreshing) pending.push(refreshing);
    }
    if (pending.length > 0) await Promise.all(pending);
    // Fail closed: while any configured credential is unusable, nothing opens the endpoints.
    if (this.slots.some((slot) => slot.secret === undefined)) return false;
    const given = parseAuthorization(header);
    if (!given) return false;
    // Compare against every accepted value, in constant time (fixed-length digests, so the length
    // of the secret does not show either).
    let ok = false;
    for (const slot of this.slots) {
      if (constantTimeEqual(given.credentials, expectedCredentials(slot)) && given.scheme === slot.kind) ok = true;
    }
    return ok;
  }
}

/** A credential read from a file, looked at again at most once per RECHECK_MS. */
class FileSlot implements Slot {
  secret: string | undefined;
  private identity: FileIdentity | undefined;
  private problem: string | undefined;
  private checkedAt: number;
  private inFlight: Promise<void> | undefined;

  constructor(
    readonly kind: Kind,
    private readonly path: string,
    private readonly variable: string,
    private readonly warn: (message: string) => void,
    private readonly info: (message: string) => void,
    private readonly now: () => number,
  ) {
    this.checkedAt = now();
    this.apply(readFileSafelySync(path, CREDENTIAL_FILE_LIMIT));
  }

  refresh(): Promise<void> | undefined {
    if (this.inFlight) return this.inFlight;
    if (this.now() - this.checkedAt < RECHECK_MS) return undefined;
    this.checkedAt = this.now();
    this.inFlight = this.check().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async check(): Promise<void> {
    // node:fs/promises only once a credential file is configured: most processes never have one.
    const { stat } = require('node:fs/promises') as typeof import('node:fs/promises');
    try {
      const current = identityOf(await stat(this.path));
      if (this.problem === undefined && sameIdentity(current, this.identity)) return;
    } catch {
      // Gone or unreadable: read() below says why, and that locks.
    }
    this.apply(await readFileSafely(this.path, CREDENTIAL_FILE_LIMIT));
  }

  private apply(read: SafeRead): void {
    let problem: string | undefined;
    let secret: string | undefined;
    if (!read.ok) {
      problem = `cannot be used: ${read.reason}`;
    } else {
      const parsed = parseSecret(this.kind, read.text);
      if (parsed === '') problem = 'names an empty file';
      else if (typeof parsed !== 'string') problem = `names a file that ${parsed.problem}`;
      else secret = parsed;
    }
    this.identity = read.ok ? read.identity : undefined;
    this.secret = secret;
    if (problem !== undefined && problem !== this.problem) this.warn(lockMessage(this.variable, problem));
    if (problem === undefined && this.problem !== undefined)
      this.info(`${this.variable}: the file is usable again; /metrics and /health accept its credential`);
    this.problem = problem;
  }
}

/** '' for blank, the trimmed secret, or why it is malformed (never quoting it). */
export function parseSecret(kind: Kind, raw: string): string | { problem: string } {
  const text = raw.trim();
  if (text === '') return '';
  // A value that can never arrive in a header (a control character) would lock silently: say so.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(text)) return { problem: 'contains a control character (value hidden)' };
  if (kind === 'basic') {
    const colon = text.indexOf(':');
    if (colon <= 0 || colon === text.length - 1) return { problem: 'is not user:password with both parts non-empty (value hidden)' };
  }
  return text;
}

/**
 * `Bearer abc`, `bearer abc`, `BASIC dXNlcjpwdw==`: the scheme is case-insensitive (RFC 7235),
 * then one or more spaces, then the credentials.
 */
export function parseAuthorization(header: string | undefined): { scheme: string; credentials: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^[ \t]*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)[ ]+(.*?)[ \t]*$/.exec(header);
  if (!match || match[2] === '') return undefined;
  return { scheme: match[1]!.toLowerCase(), credentials: match[2]! };
}

function expectedCredentials(slot: Slot): string {
  const secret = slot.secret ?? '';
  return slot.kind === 'basic' ? Buffer.from(secret, 'utf8').toString('base64') : secret;
}

function constantTimeEqual(given: string, expected: string): boolean {
  // node:crypto only when credentials are configured: it is not needed at start otherwise.
  const { createHash, timingSafeEqual } = require('node:crypto') as typeof import('node:crypto');
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

function lockMessage(variable: string, problem: string): string {
  return `${variable} ${problem}; /metrics and /health answer 401 until it is fixed (/live and /ready stay open)`;
}
