/**
 * The AI meters' own variables, read from the agent's environment with the shared parsers. A bad
 * value is one warning naming the variable and the default used instead. Listed in docs/ai-meters.md.
 */
import type { AgentConfig } from '../config/types';
import { parseBoolean, parseInteger, parseList } from '../config/parse';
import { clip, EnvReader, type Env } from '../config/reader';
import { parseHostPattern, type HostPattern } from './endpoints';
import { SHIPPED_PRICES, type PriceTable } from './prices';
import { mergePriceTables, readPriceFile } from './pricing';

export interface AiConfig {
  openai: boolean;
  anthropic: boolean;
  /** Configured host -> provider names (gateways), checked before the built-in ones. */
  providers: Array<[HostPattern, string]>;
  /** Hosts where the agent may add `stream_options.include_usage` to a streamed request. */
  includeUsageHosts: HostPattern[];
  prices: PriceTable;
  modelLimit: number;
  routeLimit: number;
  /** Count plain fetch calls to AI hosts too. */
  http: boolean;
  semconvMetrics: boolean;
  /** Characters of prompt and output kept on spans; 0 = content is never recorded. */
  captureContentChars: number;
}

export const AI_DEFAULTS = {
  includeUsageHosts: 'api.openai.com',
  modelLimit: 50,
  captureContentChars: 16 * 1024,
};

const PROVIDER_NAME = /^[a-z0-9][a-z0-9._-]{0,39}$/;
export function readAiConfig(env: Env, agent: AgentConfig, warn: (message: string) => void): AiConfig {
  const reader = new EnvReader(env);
  const read = <T>(variable: string, parse: (text: string) => T | undefined, fallback: T, expected: string, shownDefault: string): T =>
    reader.read(variable, parse, fallback, expected, shownDefault);
  try {
    return readAiSettings(env, agent, read, warn);
  } finally {
    for (const warning of reader.warnings) warn(warning.message);
  }
}

type Read = <T>(variable: string, parse: (text: string) => T | undefined, fallback: T, expected: string, shownDefault: string) => T;

function readAiSettings(env: Env, agent: AgentConfig, read: Read, warn: (message: string) => void): AiConfig {
  const providers = read('TUTOR_OTEL_AI_PROVIDERS', parseProviders, [], 'a host[:port]=provider,... list', '(none)');
  const includeUsageHosts = read(
    'TUTOR_OTEL_AI_INCLUDE_USAGE_HOSTS',
    parseHosts,
    parseHosts(AI_DEFAULTS.includeUsageHosts) ?? [],
    'a comma list of host[:port] or *.domain (or none)',
    AI_DEFAULTS.includeUsageHosts,
  );

  let prices = SHIPPED_PRICES;
  const pricesFile = env.TUTOR_OTEL_AI_PRICES_FILE?.trim();
  if (pricesFile) {
    const table = readPriceFile(pricesFile);
    if (typeof table === 'string') {
      warn(
        `TUTOR_OTEL_AI_PRICES_FILE=${JSON.stringify(clip(pricesFile, 80))} cannot be used: ${table}; using the default, the shipped price table ${SHIPPED_PRICES.version}`,
      );
    } else {
      prices = mergePriceTables(SHIPPED_PRICES, table);
    }
  }

  const capture = read('TUTOR_OTEL_AI_CAPTURE_CONTENT', parseBoolean, false, 'true or false', 'false');

  return {
    openai: agent.instrumentations.has('openai'),
    anthropic: agent.instrumentations.has('anthropic'),
    providers,
    includeUsageHosts,
    prices,
    modelLimit: read(
      'TUTOR_OTEL_AI_MODEL_LIMIT',
      (t) => parseInteger(t, 1, 1000),
      AI_DEFAULTS.modelLimit,
      'a whole number from 1 to 1000',
      String(AI_DEFAULTS.modelLimit),
    ),
    routeLimit: agent.httpRouteLimit,
    http: read('TUTOR_OTEL_AI_HTTP', parseBoolean, true, 'true or false', 'true'),
    semconvMetrics: read('TUTOR_OTEL_AI_SEMCONV_METRICS', parseBoolean, false, 'true or false', 'false'),
    captureContentChars: capture ? AI_DEFAULTS.captureContentChars : 0,
  };
}

export function parseProviders(text: string): Array<[HostPattern, string]> | undefined {
  const out: Array<[HostPattern, string]> = [];
  for (const item of text.split(',')) {
    if (item.trim() === '') continue;
    const eq = item.lastIndexOf('=');
    if (eq <= 0) return undefined;
    const pattern = parseHostPattern(item.slice(0, eq));
    const name = item
      .slice(eq + 1)
      .trim()
      .toLowerCase();
    if (!pattern || !PROVIDER_NAME.test(name)) return undefined;
    out.push([pattern, name]);
  }
  return out.length > 0 ? out : undefined;
}

export function parseHosts(text: string): HostPattern[] | undefined {
  const items = parseList(text);
  if (items.length === 1 && items[0] === 'none') return [];
  const out: HostPattern[] = [];
  for (const item of items) {
    const pattern = parseHostPattern(item);
    if (!pattern) return undefined;
    out.push(pattern);
  }
  return out.length > 0 ? out : undefined;
}
