/**
 * What never leaves the process for Sentry, applied to every error event and every span sent:
 * credentials (Authorization, Cookie and Set-Cookie headers, passwords, tokens, API keys, under
 * any key that names them), passwords in URLs and connection strings, bearer and basic tokens
 * in text, SQL parameter values and string literals, and LLM prompts and completions. Extra keys
 * and one extra pattern come from the environment. Pure functions, no Sentry code.
 */

export const FILTERED = '[Filtered]';

/** A key that names a credential: the value goes, whatever it is. Matched on the last segment. */
const SECRET_KEY =
  /(^|_)(authorization|proxy_authorization|cookies?|set_cookie|password|passwd|pwd|passphrase|secret|client_secret|token|access_token|refresh_token|id_token|auth_token|session_?id|csrf_?token|xsrf_?token|api_?key|private_?key|credentials?|dsn)$/;

/** Generative-AI content: prompts, messages, completions, tool arguments and results. */
const AI_CONTENT_KEY =
  /^(gen_ai\.(prompt|completion|input\.messages|output\.messages|system_instructions|tool\.call\.arguments|tool\.call\.result|tool\.definitions|request\.messages|response\.text|content)|llm\.(prompts?|completions?|input_messages|output_messages)|input\.value|output\.value|prompts?|completions?)(\.|$)/;

/** SQL bind values, under the names instrumentations record them with when asked to. */
const SQL_VALUES_KEY = /^db\.(query\.parameter|operation\.parameter|statement\.parameters|postgresql\.values|sql\.parameters|query\.parameters)(\.|$)/;

/** SQL text whose literals are replaced. */
const SQL_TEXT_KEY = /^(db\.statement|db\.query\.text|db\.query\.summary|sql|query)$/;

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/?#]*):([^\s/?#]*)@/gi;
const KEY_VALUE_SECRET =
  /\b(password|passwd|pwd|secret|client_secret|token|access_token|refresh_token|api[_-]?key|apikey|sslpassword)(["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,'"}]+)/gi;
const AUTH_TOKEN = /\b(Bearer|Basic|Digest|Negotiate)\s+[A-Za-z0-9._~+/-]{8,}=*/gi;
const SQL_STRING_LITERAL = /'(?:[^']|'')*'/g;

export class Scrubber {
  private readonly extraKeys: string[];

  constructor(
    extraKeys: string[] = [],
    private readonly extraPattern?: RegExp,
  ) {
    this.extraKeys = extraKeys.map((k) => normalizeKey(k)).filter((k) => k !== '');
  }

  /** Is every value under this key withheld? */
  isWithheldKey(key: string): boolean {
    const normalized = normalizeKey(key);
    const last = normalized.slice(normalized.lastIndexOf('.') + 1);
    if (SECRET_KEY.test(last) || SECRET_KEY.test(normalized)) return true;
    if (AI_CONTENT_KEY.test(normalized) || SQL_VALUES_KEY.test(normalized)) return true;
    return this.extraKeys.some((extra) => normalized.includes(extra));
  }

  /** Removes credentials from free text (messages, URLs, stack traces, source lines). */
  text(input: string): string {
    let out = input;
    if (out.includes('://')) out = out.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${FILTERED}@`);
    out = out.replace(KEY_VALUE_SECRET, (_m, key: string, sep: string) => `${key}${sep}${FILTERED}`);
    out = out.replace(AUTH_TOKEN, (_m, scheme: string) => `${scheme} ${FILTERED}`);
    if (this.extraPattern) {
      this.extraPattern.lastIndex = 0;
      out = out.replace(this.extraPattern, FILTERED);
    }
    return out;
  }

  /** SQL text with its string literals replaced by '?' (numbers stay: they are rarely secret). */
  sql(input: string): string {
    return this.text(input.replace(SQL_STRING_LITERAL, "'?'"));
  }

  /**
   * A database error message: quoted values and `Key (col)=(value)` details, which can carry
   * the row's data, are replaced; the rest of the message stays.
   */
  dbMessage(input: string): string {
    return this.text(
      input
        .replace(SQL_STRING_LITERAL, "'?'")
        .replace(/"(?:[^"\\]|\\.)*"/g, '"?"')
        .replace(/\(([^()]*)\)=\(([^()]*)\)/g, '($1)=(?)'),
    );
  }

  /** One attribute value under its key: withheld, SQL-scrubbed, or text-scrubbed. */
  attribute(key: string, value: unknown): unknown {
    if (this.isWithheldKey(key)) return FILTERED;
    if (typeof value === 'string') return SQL_TEXT_KEY.test(key) ? this.sql(value) : this.text(value);
    if (Array.isArray(value)) return (value as unknown[]).map((v) => (typeof v === 'string' ? this.text(v) : v));
    return value;
  }

  /** A fresh copy of span-style attributes with every rule applied. */
  attributes<T extends Record<string, unknown>>(attributes: T): T {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(attributes)) out[key] = this.attribute(key, value);
    return out as T;
  }

  /**
   * Applies every rule to a JSON-like value in place (an event about to be sent): strings are
   * scrubbed, values under withheld keys replaced. Cycles and depth are bounded.
   */
  deep<T>(value: T): T {
    return this.walk(value, 0, new WeakSet()) as T;
  }

  private walk(value: unknown, depth: number, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth > 16 || seen.has(value)) return value;
    seen.add(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.walk(value[i], depth + 1, seen);
      return value;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const child = record[key];
      if (child === undefined || child === null) continue;
      if (this.isWithheldKey(key) && (typeof child === 'string' || typeof child === 'object' || typeof child === 'number')) {
        record[key] = FILTERED;
      } else if (typeof child === 'string' && SQL_TEXT_KEY.test(key)) {
        record[key] = this.sql(child);
      } else {
        record[key] = this.walk(child, depth + 1, seen);
      }
    }
    return value;
  }
}

/** `X-Api-Key` -> `x_api_key`, `http.request.header.set-cookie` -> `http.request.header.set_cookie`. */
function normalizeKey(key: string): string {
  return key.trim().toLowerCase().replace(/-/g, '_');
}

/** Is this span event generative-AI content (a prompt, a message, a choice)? */
export function isAiContentEvent(name: string): boolean {
  return name.startsWith('gen_ai.') && !name.startsWith('gen_ai.client.operation.exception');
}
