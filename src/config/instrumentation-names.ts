/**
 * The short instrumentation names users already know from OTEL_NODE_ENABLED_INSTRUMENTATIONS /
 * OTEL_NODE_DISABLED_INSTRUMENTATIONS in auto-instrumentations-node, limited to what this agent
 * ships. Pure: used by config and by the start-up line.
 */
export const INSTRUMENTATION_NAMES = ['http', 'undici', 'pg', 'ioredis', 'express', 'fastify', 'openai', 'anthropic'] as const;
export type InstrumentationName = (typeof INSTRUMENTATION_NAMES)[number];

/** Other spellings users write for the same thing. */
const ALIASES: Record<string, InstrumentationName> = {
  https: 'http',
  fetch: 'undici',
  'pg-pool': 'pg',
  redis: 'ioredis',
  '@anthropic-ai/sdk': 'anthropic',
};

export function canonicalInstrumentationName(name: string): InstrumentationName | undefined {
  const short = name.replace(/^@opentelemetry\/instrumentation-/, '');
  if ((INSTRUMENTATION_NAMES as readonly string[]).includes(short)) return short as InstrumentationName;
  return Object.hasOwn(ALIASES, short) ? ALIASES[short] : undefined;
}

/**
 * Enabled minus disabled, as upstream does it. Unknown names are returned so the caller can
 * warn about each once.
 */
export function resolveInstrumentations(
  enabled: string[] | undefined,
  disabled: string[],
): { names: Set<InstrumentationName>; unknown: string[] } {
  const unknown: string[] = [];
  const pick = (list: string[]): InstrumentationName[] =>
    list.flatMap((name) => {
      const canonical = canonicalInstrumentationName(name);
      if (!canonical) unknown.push(name);
      return canonical ? [canonical] : [];
    });
  const names = new Set<InstrumentationName>(enabled ? pick(enabled) : INSTRUMENTATION_NAMES);
  for (const name of pick(disabled)) names.delete(name);
  return { names, unknown };
}
