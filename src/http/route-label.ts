/**
 * Keeps the `route` label bounded. Pure functions: a framework template is used as it is; a raw
 * path has its ids folded; a 404 without a template collapses to one value; and a cap on
 * distinct values sends the rest to an overflow value.
 */

import { pathOf } from './request-facts';

export const NOT_FOUND_ROUTE = '__not_found__';
export const OVERFLOW_ROUTE = '__overflow__';

const MAX_SEGMENTS = 8;
const MAX_SEGMENT_LENGTH = 64;

const NUMBER = /^-?\d+(\.\d+)?$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const HEX_ID = /^(0x)?[0-9a-f]{12,}$/i; // hashes, Mongo ObjectIds, hex tokens
const HAS_DIGIT = /\d/;
const TOKEN = /^[A-Za-z0-9_=~.-]{20,}$/; // long opaque tokens (base64url, ULIDs, nanoids) with digits

/** Is this path segment an identifier rather than a name? */
export function isIdSegment(segment: string): boolean {
  if (isShortWord(segment)) return false;
  if (NUMBER.test(segment) || UUID.test(segment)) return true;
  // Hashes and tokens: a word spelled only with a-f letters (`acceptedface`) is a name, not an id.
  if ((HEX_ID.test(segment) || TOKEN.test(segment)) && HAS_DIGIT.test(segment)) return true;
  if (segment.includes('@')) return true; // e-mail addresses
  // Percent-escapes and bytes outside the URL path alphabet: user data (or an attack), not a name.
  if (/[^A-Za-z0-9._~!$&'()*+,;=:-]/.test(segment)) return true;
  return false;
}

const WORD_PUNCTUATION = new Set(['-', '.', '_', '~'].map((c) => c.charCodeAt(0)));

/**
 * The segment most paths are made of (`lessons`, `api`, `user-settings`), answered without the id
 * rules' regular expressions: fewer than 12 characters, letters and `-_.~` only. None of the id
 * rules can hold for it (a number or a hash needs digits, a UUID or token more characters, and
 * every character is one a name may have).
 */
function isShortWord(segment: string): boolean {
  if (segment.length >= 12) return false;
  for (let i = 0; i < segment.length; i++) {
    const code = segment.charCodeAt(i) | 0x20; // ASCII letters to lower case; '-' '.' '_' '~' checked as they are
    if ((code < 0x61 || code > 0x7a) && !WORD_PUNCTUATION.has(segment.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * `/lessons/42?x=1` -> `/lessons/:id`. Query and fragment are dropped; `%` escapes are not
 * decoded (an invalid one must not throw) and fold to `:id` with their segment; segments beyond
 * MAX_SEGMENTS become one `*`.
 */
export function foldPath(rawUrl: string): string {
  let path = pathOf(rawUrl);
  if (!path.startsWith('/')) path = '/'; // `*` (OPTIONS *) and other non-path targets
  const segments = path.split('/').slice(1);
  const folded: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (segment === '') {
      if (i === segments.length - 1) folded.push('');
      continue;
    }
    if (folded.length === MAX_SEGMENTS) {
      folded.push('*');
      break;
    }
    folded.push(isIdSegment(segment) || segment.length > MAX_SEGMENT_LENGTH ? ':id' : segment);
  }
  return '/' + folded.join('/');
}

/** Remembers which label values exist and answers the overflow value past the cap. */
export class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(
    private readonly limit: number,
    private readonly overflow: string = OVERFLOW_ROUTE,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** Was this value admitted before? Spends nothing. */
  has(value: string): boolean {
    return this.seen.has(value);
  }

  admit(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.limit) return this.overflow;
    this.seen.add(value);
    return value;
  }
}

/** The route label for a finished request, before the cap. */
export function routeLabel(template: string | undefined, rawUrl: string | undefined, statusCode: number): string {
  if (template) return template;
  if (statusCode === 404) return NOT_FOUND_ROUTE;
  return foldPath(rawUrl ?? '/');
}

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/** Unknown or made-up methods share one value, as the HTTP semantic conventions do. */
export function methodLabel(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}
