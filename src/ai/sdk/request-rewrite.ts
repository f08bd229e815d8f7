/**
 * Asking an OpenAI-style stream for its usage. A streamed chat or text completion reports its
 * token counts only when the request says `stream_options.include_usage`; then the server sends one
 * more chunk, `choices: []` with the `usage`, and `usage: null` on every other chunk. On an
 * allow-listed host, `fetchWithTimeout` sends a streamed request that did not ask for it with the
 * option added, and the stream the app reads has both additions taken back out, so the app sees
 * what it would see without the agent. Pure functions: no I/O.
 */
import { hostAddress, type Endpoint, type HostList } from '../endpoints';
import { hasOwn, isObject, type Json } from './values';

const INCLUDE_USAGE = '"stream_options":{"include_usage":true}';

/** What the agent knows of a call when one of its attempts goes out. */
export interface UsageRequest {
  endpoint: Endpoint;
  /** The call is streamed. */
  stream: boolean;
  /** The app reads the raw Response body. */
  rawRead: boolean;
  /** The params the app passed, when the SDK gave them as an object. */
  params: Json | undefined;
}

/** Whether an attempt to `url` should go out with `stream_options.include_usage` added. */
export function shouldAddUsage(request: UsageRequest, url: unknown, hosts: HostList): boolean {
  if (!request.stream || request.endpoint.protocol !== 'openai') return false;
  if (request.endpoint.operation !== 'chat' && request.endpoint.operation !== 'text_completion') return false;
  if (request.rawRead) return false; // the app reads the raw body: nothing could hide the extra chunk
  const options = request.params?.stream_options;
  if (isObject(options) && options.include_usage === true) return false;
  const address = typeof url === 'string' || url instanceof URL ? hostAddress(url) : undefined;
  return address !== undefined && hosts.has(address);
}

/**
 * The request with `stream_options.include_usage` set, or the same request when it cannot be
 * changed safely (a body that is not a JSON string). The body is the SDK's own serialisation of
 * the params, so a params object without `stream_options` gets the member inserted as text.
 */
export function withIncludeUsage(init: unknown, params: Json | undefined): unknown {
  if (!isObject(init) || typeof init.body !== 'string') return init;
  const body = init.body;
  let changed: string | undefined;
  const open = /^\s*\{/.exec(body);
  if (!open) return init;
  if (params && !hasOwn(params, 'stream_options')) {
    const rest = body.slice(open[0].length);
    changed = open[0] + (/^\s*\}/.test(rest) ? INCLUDE_USAGE : `${INCLUDE_USAGE},`) + rest;
  } else {
    try {
      const parsed = JSON.parse(body) as unknown;
      if (!isObject(parsed)) return init;
      parsed.stream_options = { ...(isObject(parsed.stream_options) ? parsed.stream_options : {}), include_usage: true };
      changed = JSON.stringify(parsed);
    } catch {
      return init;
    }
  }
  const headers = withContentLength(init.headers, changed);
  return headers === undefined ? { ...init, body: changed } : { ...init, body: changed, headers };
}

/** Request headers with a content-length the new body matches, or undefined when there is none to fix. */
function withContentLength(headers: unknown, body: string): unknown {
  if (!headers || typeof headers !== 'object') return undefined;
  const length = String(Buffer.byteLength(body));
  const h = headers as { has?: unknown; set?: unknown };
  if (typeof h.has === 'function' && typeof h.set === 'function') {
    const instance = headers as Headers;
    if (!instance.has('content-length')) return undefined;
    const copy = new Headers(instance);
    copy.set('content-length', length);
    return copy;
  }
  const record = headers as Record<string, unknown>;
  const key = Object.keys(record).find((name) => name.toLowerCase() === 'content-length');
  if (key === undefined) return undefined;
  return { ...record, [key]: length };
}

/**
 * Takes out of one streamed chunk what asking for usage added: true for the usage-only chunk
 * (`choices: []` with a `usage`), which the app must not see; from any other chunk it removes the
 * `usage: null` member.
 */
export function stripAddedUsage(chunk: unknown): boolean {
  if (!isObject(chunk)) return false;
  if (Array.isArray(chunk.choices) && chunk.choices.length === 0 && isObject(chunk.usage)) return true;
  if (chunk.usage === null) delete chunk.usage;
  return false;
}
