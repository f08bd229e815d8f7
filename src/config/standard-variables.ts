/**
 * The OpenTelemetry SDK environment variables the agent does not implement. Pure. A user who sets
 * one expects an effect; the agent says, once per variable, that there is none, instead of
 * ignoring it silently. (Each variable the agent implements is read in config/env.ts and listed in
 * the README's configuration table.)
 */
import type { Env } from './reader';

/** Variables with no effect in this agent, and why (shown in the warning). */
const UNIMPLEMENTED: ReadonlyArray<{ match: RegExp; why: string; unless?: RegExp }> = [
  { match: /^OTEL_LOGS_EXPORTER$/, unless: /^\s*none\s*$/i, why: 'the agent exports no logs' },
  { match: /^OTEL_EXPORTER_OTLP_LOGS_/, why: 'the agent exports no logs' },
  { match: /^OTEL_BLRP_/, why: 'the agent exports no logs' },
  { match: /^OTEL_LOGRECORD_/, why: 'the agent exports no logs' },
  {
    match: /^OTEL_EXPORTER_OTLP_(TRACES_|METRICS_)?(CERTIFICATE|CLIENT_KEY|CLIENT_CERTIFICATE|INSECURE)$/,
    why: 'TLS settings are not implemented: use an https:// endpoint with a publicly trusted certificate, or NODE_EXTRA_CA_CERTS',
  },
  { match: /^OTEL_EXPORTER_(ZIPKIN|JAEGER)_/, why: 'the agent exports traces over OTLP only' },
  { match: /^OTEL_METRICS_EXEMPLAR_FILTER$/, why: 'the agent records no exemplars' },
  {
    match: /^OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE$/,
    unless: /^\s*cumulative\s*$/i,
    why: 'the agent pushes cumulative metrics, as Prometheus reads them',
  },
  { match: /^OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION$/, why: 'the agent pushes explicit-bucket histograms, as /metrics serves them' },
  { match: /^OTEL_EXPERIMENTAL_CONFIG_FILE$|^OTEL_CONFIG_FILE$/, why: 'the agent is configured by environment variables only' },
  { match: /^OTEL_SEMCONV_STABILITY_OPT_IN$/, why: 'the agent emits the stable semantic conventions only' },
];

export interface UnimplementedVariable {
  variable: string;
  why: string;
}

/** The set (non-blank) OpenTelemetry variables that have no effect here, in name order. */
export function unimplementedStandardVariables(env: Env): UnimplementedVariable[] {
  const found: UnimplementedVariable[] = [];
  for (const variable of Object.keys(env).sort()) {
    if (!variable.startsWith('OTEL_')) continue;
    const value = env[variable];
    if (value === undefined || value.trim() === '') continue;
    const rule = UNIMPLEMENTED.find((r) => r.match.test(variable) && !(r.unless?.test(value) ?? false));
    if (rule) found.push({ variable, why: rule.why });
  }
  return found;
}
