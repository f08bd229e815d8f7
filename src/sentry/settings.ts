/**
 * Sentry settings from the environment. Pure: the environment and the agent's config come in,
 * the settings and one warning per bad variable come out (the same contract as config/env.ts).
 * Every variable read here is listed in docs/sentry.md.
 */
import { parseBoolean, parseInteger, parseList, parseRatio } from '../config/parse';
import { EnvReader, nonBlank, type Env } from '../config/reader';
import type { AgentConfig } from '../config/types';
import { parseDsn, type Dsn } from './dsn';
import { readProxyEnv, type ProxyEnv } from './proxy';
import { unsafeScrubPattern } from './scrub-pattern';

export interface SentrySettings {
  dsn: Dsn;
  /** The DSN as given, for the SDK. */
  dsnText: string;
  environment: string;
  release: string | undefined;
  /**
   * Share of traces (by trace id) whose spans go to Sentry, after the agent's own sampler; 0 (the
   * default, as in Sentry's SDK: no rate set, no spans) sends none.
   */
  tracesSampleRate: number;
  /** Breadcrumbs kept per request (or for the work outside requests), the oldest dropped first; 0: none recorded. */
  maxBreadcrumbs: number;
  /** Chance (per process) that this process sends continuous profiles; 0: the profiler is never loaded. */
  profileSessionSampleRate: number;
  /** https_proxy / http_proxy / no_proxy, as read from the environment. */
  proxy: ProxyEnv;
  debug: boolean;
  /** Extra keys (lower case) whose values are replaced wherever they appear. */
  scrubKeys: string[];
  /** An extra pattern replaced in every string sent. */
  scrubPattern: RegExp | undefined;
}

export const SENTRY_DEFAULTS = {
  environment: 'production',
  tracesSampleRate: 0,
  maxBreadcrumbs: 50,
  profileSessionSampleRate: 0,
};

/** Sentry's own ceiling for breadcrumbs on one event. */
export const MAX_BREADCRUMBS_LIMIT = 100;

export function readSentrySettings(
  env: Env,
  config: Pick<AgentConfig, 'serviceName' | 'serviceVersion' | 'resourceAttributes' | 'sentryDsn'>,
): { settings: SentrySettings | undefined; warnings: string[] } {
  const reader = new EnvReader(env);
  const warnings: string[] = [];
  const dsnText = config.sentryDsn;
  if (dsnText === undefined) return { settings: undefined, warnings };
  const dsn = parseDsn(dsnText);
  if (!dsn) {
    // The value is never echoed: it carries the project's key.
    warnings.push(
      'SENTRY_DSN (value hidden) is not a Sentry DSN like https://<key>@<host>/<project id>; nothing is sent to Sentry, the app runs without it',
    );
    return { settings: undefined, warnings };
  }

  const tracesSampleRate = reader.read('SENTRY_TRACES_SAMPLE_RATE', parseRatio, SENTRY_DEFAULTS.tracesSampleRate, 'a ratio from 0 to 1');
  const maxBreadcrumbs = reader.read(
    'SENTRY_MAX_BREADCRUMBS',
    (text) => parseInteger(text, 0, MAX_BREADCRUMBS_LIMIT),
    SENTRY_DEFAULTS.maxBreadcrumbs,
    `a whole number from 0 to ${MAX_BREADCRUMBS_LIMIT}`,
  );
  const profileSessionSampleRate = reader.read(
    'SENTRY_PROFILE_SESSION_SAMPLE_RATE',
    parseRatio,
    SENTRY_DEFAULTS.profileSessionSampleRate,
    'a ratio from 0 to 1',
  );
  const debug = reader.read('SENTRY_DEBUG', parseBoolean, false, 'true or false');
  for (const warning of reader.warnings) warnings.push(warning.message);

  let scrubPattern: RegExp | undefined;
  const pattern = nonBlank(env.TUTOR_OTEL_SENTRY_SCRUB_PATTERN);
  const unsafe = pattern === undefined ? undefined : unsafeScrubPattern(pattern);
  if (unsafe !== undefined) {
    // It would run over every string sent, on the app's thread: a catastrophic one freezes the app.
    warnings.push(`TUTOR_OTEL_SENTRY_SCRUB_PATTERN is not safe to run (${unsafe}); it is ignored (the built-in scrubbing still applies)`);
  } else if (pattern !== undefined) {
    try {
      scrubPattern = new RegExp(pattern, 'gi');
      if (scrubPattern.test('')) {
        scrubPattern = undefined;
        warnings.push('TUTOR_OTEL_SENTRY_SCRUB_PATTERN matches the empty string; it is ignored (the built-in scrubbing still applies)');
      }
    } catch {
      warnings.push('TUTOR_OTEL_SENTRY_SCRUB_PATTERN is not a valid regular expression; it is ignored (the built-in scrubbing still applies)');
    }
  }

  return {
    settings: {
      dsn,
      dsnText,
      environment:
        nonBlank(env.SENTRY_ENVIRONMENT) ??
        nonBlank(config.resourceAttributes['deployment.environment.name']) ??
        nonBlank(config.resourceAttributes['deployment.environment']) ??
        SENTRY_DEFAULTS.environment,
      release: defaultRelease(env, config),
      tracesSampleRate,
      maxBreadcrumbs,
      profileSessionSampleRate,
      proxy: readProxyEnv(env),
      debug,
      scrubKeys: parseList(env.TUTOR_OTEL_SENTRY_SCRUB_KEYS ?? ''),
      scrubPattern,
    },
    warnings,
  };
}

/**
 * SENTRY_RELEASE, else the commit in GIT_COMMIT_SHA, else `<service>@<version>` when the
 * version is known (service.version in OTEL_RESOURCE_ATTRIBUTES, or the app's package.json).
 */
function defaultRelease(env: Env, config: Pick<AgentConfig, 'serviceName' | 'serviceVersion'>): string | undefined {
  const explicit = nonBlank(env.SENTRY_RELEASE) ?? nonBlank(env.GIT_COMMIT_SHA);
  if (explicit !== undefined) return explicit;
  if (config.serviceVersion && config.serviceVersion !== '0.0.0') return `${config.serviceName}@${config.serviceVersion}`;
  return undefined;
}
