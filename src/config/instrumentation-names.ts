/**
 * The short instrumentation names users already know from OTEL_NODE_ENABLED_INSTRUMENTATIONS /
 * OTEL_NODE_DISABLED_INSTRUMENTATIONS in auto-instrumentations-node, limited to what this agent
 * ships: the switchable integrations of the registry, and their aliases.
 */
import { INTEGRATIONS } from '../integrations/registry';

export const INSTRUMENTATION_NAMES: readonly string[] = INTEGRATIONS.filter((i) => i.switchable).map((i) => i.name);
export type InstrumentationName = string;

/** Other spellings users write for the same thing. */
const ALIASES: ReadonlyMap<string, string> = new Map(
  INTEGRATIONS.filter((i) => i.switchable).flatMap((i) => (i.aliases ?? []).map((alias) => [alias, i.name] as const)),
);

export function canonicalInstrumentationName(name: string): InstrumentationName | undefined {
  const short = name.replace(/^@opentelemetry\/instrumentation-/, '');
  if (INSTRUMENTATION_NAMES.includes(short)) return short;
  return ALIASES.get(short);
}

/** Enabled minus disabled, as upstream does it; names it does not know are left out (the config warns about each). */
export function resolveInstrumentations(enabled: string[] | undefined, disabled: string[]): Set<InstrumentationName> {
  const pick = (list: string[]): InstrumentationName[] => list.flatMap((name) => canonicalInstrumentationName(name) ?? []);
  const names = new Set<InstrumentationName>(enabled ? pick(enabled) : INSTRUMENTATION_NAMES);
  for (const name of pick(disabled)) names.delete(name);
  return names;
}
