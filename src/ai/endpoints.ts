/**
 * Which calls are generations, and the labels that name them: the provider from the host, the
 * operation from the path, and a normalised model name. Pure functions and small lookup tables.
 */

/** The wire format of a call: OpenAI's (also Azure and OpenAI-compatible gateways) or Anthropic's. */
export type Protocol = 'openai' | 'anthropic';

/** The `operation` label. Anthropic's messages API is `chat`, like OpenAI's chat completions. */
export type Operation = 'chat' | 'text_completion' | 'embeddings' | 'responses';

export interface Endpoint {
  protocol: Protocol;
  operation: Operation;
}

/** The GenAI semantic-convention operation name for an operation. */
export function semconvOperation(operation: Operation): string {
  return operation === 'responses' ? 'chat' : operation;
}

/**
 * An SDK request path (relative to the client's base URL, as the SDK's resource methods pass it)
 * that creates a generation; anything else (`/chat/completions/{id}`, `/responses/{id}/cancel`,
 * `/v1/messages/count_tokens`, batches, files) is not one.
 */
export function sdkEndpoint(path: unknown): Endpoint | undefined {
  if (typeof path !== 'string') return undefined;
  const cut = path.indexOf('?');
  const bare = (cut >= 0 ? path.slice(0, cut) : path).replace(/\/+$/, '');
  switch (bare) {
    case '/chat/completions':
      return { protocol: 'openai', operation: 'chat' };
    case '/completions':
      return { protocol: 'openai', operation: 'text_completion' };
    case '/embeddings':
      return { protocol: 'openai', operation: 'embeddings' };
    case '/responses':
      return { protocol: 'openai', operation: 'responses' };
    case '/v1/messages':
    case '/messages':
      return { protocol: 'anthropic', operation: 'chat' };
    default:
      return undefined;
  }
}

/**
 * A full URL path of a plain HTTP call that creates a generation: the last segments name the
 * operation (`/v1/chat/completions`, Azure's `/openai/deployments/{name}/chat/completions`,
 * a gateway's `/api/v1/embeddings`). Only called for hosts known to be AI hosts.
 */
export function httpEndpoint(path: string): Endpoint | undefined {
  const cut = path.search(/[?#]/);
  const bare = (cut >= 0 ? path.slice(0, cut) : path).replace(/\/+$/, '');
  if (bare.endsWith('/chat/completions')) return { protocol: 'openai', operation: 'chat' };
  if (bare.endsWith('/completions')) return { protocol: 'openai', operation: 'text_completion' };
  if (bare.endsWith('/embeddings')) return { protocol: 'openai', operation: 'embeddings' };
  if (bare.endsWith('/responses')) return { protocol: 'openai', operation: 'responses' };
  if (bare.endsWith('/messages')) return { protocol: 'anthropic', operation: 'chat' };
  return undefined;
}

/** One host pattern: `api.example.com`, `api.example.com:8443`, or `*.example.com`. */
export interface HostPattern {
  host: string;
  port: string | undefined;
  wildcard: boolean;
}

const HOST_PATTERN = /^(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:(\d{1,5}))?$/;

/** Parses `host`, `host:port` or `*.suffix`; undefined when it is not one of those. */
export function parseHostPattern(text: string): HostPattern | undefined {
  const value = text.trim().toLowerCase();
  const m = HOST_PATTERN.exec(value);
  if (!m) return undefined;
  return { wildcard: m[1] !== undefined, host: m[2] as string, port: m[5] };
}

export function hostMatches(pattern: HostPattern, hostname: string, port: string): boolean {
  if (pattern.port !== undefined && pattern.port !== port) return false;
  if (pattern.wildcard) return hostname.endsWith('.' + pattern.host);
  return hostname === pattern.host;
}

/** The providers the agent knows by host, before the configured ones. */
const BUILT_IN_PROVIDERS: Array<[HostPattern, string]> = [
  [{ host: 'api.openai.com', port: undefined, wildcard: false }, 'openai'],
  [{ host: 'openai.azure.com', port: undefined, wildcard: true }, 'azure.ai.openai'],
  [{ host: 'api.anthropic.com', port: undefined, wildcard: false }, 'anthropic'],
];

export interface HostAddress {
  hostname: string;
  port: string;
}

/** Host name (lower case, IPv6 in brackets) and port, with the scheme's default port filled in. */
export function hostAddress(url: string | URL): HostAddress | undefined {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    const port = parsed.port || (parsed.protocol === 'https:' ? '443' : parsed.protocol === 'http:' ? '80' : '');
    return { hostname: parsed.hostname.toLowerCase(), port };
  } catch {
    return undefined;
  }
}

export class ProviderMap {
  constructor(private readonly configured: Array<[HostPattern, string]>) {}

  /** The provider name of a host: a configured one first (it may rename a built-in), else built-in, else undefined. */
  lookup(address: HostAddress): string | undefined {
    for (const [pattern, name] of this.configured) if (hostMatches(pattern, address.hostname, address.port)) return name;
    for (const [pattern, name] of BUILT_IN_PROVIDERS) if (hostMatches(pattern, address.hostname, address.port)) return name;
    return undefined;
  }
}

export class HostList {
  constructor(private readonly patterns: HostPattern[]) {}

  has(address: HostAddress): boolean {
    return this.patterns.some((pattern) => hostMatches(pattern, address.hostname, address.port));
  }
}

export const UNKNOWN_MODEL = 'unknown';
const MAX_MODEL_LENGTH = 80;

/**
 * The model label: trimmed, lower case, at most 80 characters, characters outside
 * `[a-z0-9._:/@+-]` replaced by `_`. Date suffixes are kept here (the price lookup folds them).
 */
export function normalizeModel(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  const value = raw
    .trim()
    .toLowerCase()
    .slice(0, MAX_MODEL_LENGTH)
    .replace(/[^a-z0-9._:/@+-]/g, '_');
  return value === '' ? undefined : value;
}
