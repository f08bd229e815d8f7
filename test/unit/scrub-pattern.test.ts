/**
 * TUTOR_OTEL_SENTRY_SCRUB_PATTERN runs over every string sent to Sentry on the app's thread: a
 * catastrophic pattern is refused before it is compiled; ordinary scrub patterns pass.
 */
import { describe, expect, it } from 'vitest';
import { readSentrySettings } from '../../src/sentry/settings';
import { MAX_PATTERN_LENGTH, unsafeScrubPattern } from '../../src/sentry/scrub-pattern';

describe('unsafeScrubPattern', () => {
  it.each([
    ['(a+)+$', /nested quantifier/],
    ['(a*)*', /nested quantifier/],
    ['(.*)*x', /nested quantifier/],
    ['((a+))+', /nested quantifier/],
    ['(x+x+)+y', /nested quantifier/],
    ['(\\w+\\s?)+$', /nested quantifier/],
    ['(a|a)*', /alternatives can match the same text/],
    ['(\\d|\\w)+$', /alternatives can match the same text/],
    ['(?:A|a)+$', /alternatives can match the same text/], // the pattern is case-insensitive
    ['(a)\\1', /backreference/],
    ['(?<x>a)\\k<x>', /backreference/],
  ])('refuses %s', (pattern, reason) => {
    expect(unsafeScrubPattern(pattern)).toMatch(reason);
  });

  it.each([
    'EMP-[0-9a-f]{16}',
    'sk-[A-Za-z0-9]{20,}',
    '\\b\\d{3}-\\d{2}-\\d{4}\\b',
    '(?:\\d{1,3}\\.){3}\\d{1,3}',
    '[\\w.+-]+@([\\w-]+\\.)+[\\w-]+',
    '(foo|bar)+',
    '[a-z]{1,10}(-[a-z]{1,10})*',
    '(a{2})+',
    '[(]+\\d+[)]',
  ])('accepts %s', (pattern) => {
    expect(unsafeScrubPattern(pattern)).toBeUndefined();
  });

  it('refuses a very long pattern and leaves syntax errors to RegExp', () => {
    expect(unsafeScrubPattern('a'.repeat(MAX_PATTERN_LENGTH + 1))).toMatch(/longer than/);
    expect(unsafeScrubPattern('(')).toBeUndefined();
  });

  it('the refused patterns really are catastrophic, the accepted ones are not (measured on a short adversarial string)', () => {
    const time = (pattern: string, text: string) => {
      const started = performance.now();
      new RegExp(pattern, 'gi').test(text);
      return performance.now() - started;
    };
    // 2^20 paths: tens of milliseconds at least; each added character doubles it. The accepted
    // patterns on the same 21 characters: well under a millisecond.
    const adversarial = `${'a'.repeat(20)}!`;
    expect(time('(a+)+$', adversarial)).toBeGreaterThan(20);
    expect(time('[\\w.+-]+@([\\w-]+\\.)+[\\w-]+$', adversarial)).toBeLessThan(5);
    expect(time('(a{2})+$', adversarial)).toBeLessThan(5);
  });
});

describe('readSentrySettings with TUTOR_OTEL_SENTRY_SCRUB_PATTERN', () => {
  const DSN = 'https://public@o1.ingest.sentry.io/1';
  const config = { serviceName: 's', serviceVersion: '1.0.0', resourceAttributes: {} as Record<string, string>, sentryDsn: DSN };

  it('ignores (a+)+$ with one warning naming the variable; built-in scrubbing is unaffected', () => {
    const { settings, warnings } = readSentrySettings({ SENTRY_DSN: DSN, TUTOR_OTEL_SENTRY_SCRUB_PATTERN: '(a+)+$' }, config);
    expect(settings?.scrubPattern).toBeUndefined();
    expect(settings?.dsnText).toBe(DSN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^TUTOR_OTEL_SENTRY_SCRUB_PATTERN is not safe to run \(.*nested quantifier.*\); it is ignored \(the built-in scrubbing still applies\)$/,
    );
  });

  it('keeps a safe pattern', () => {
    const { settings, warnings } = readSentrySettings({ SENTRY_DSN: DSN, TUTOR_OTEL_SENTRY_SCRUB_PATTERN: 'EMP-[0-9a-f]{16}' }, config);
    expect(warnings).toEqual([]);
    expect(settings?.scrubPattern?.source).toBe('EMP-[0-9a-f]{16}');
  });
});
