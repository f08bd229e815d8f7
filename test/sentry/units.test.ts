/**
 * The pure parts, held to the Sentry SDK's own functions where the agent re-implements them
 * (so it need not load the SDK at start): DSN parsing and the OTLP endpoint; then the settings,
 * the scrubbing rules, Node's rejection mode, Retry-After, and the span view sent to Sentry.
 */
import { sqlShape } from '../../src/sentry/breadcrumbs/sql-shape';
import { pathWithoutQuery, toBreadcrumbs, Trail } from '../../src/sentry/breadcrumbs/trail';
import { noProxyMatches, proxyFor, proxyLabel, readProxyEnv } from '../../src/sentry/proxy';
import { describe, expect, it } from 'vitest';
import { makeDsn } from '@sentry/core';
import { getOtlpTracesEndpoint } from '@sentry/node';
import { dsnToString, otlpTracesEndpoint, parseDsn } from '../../src/sentry/dsn';
import { unhandledRejectionsMode } from '../../src/sentry/hooks';
import { FILTERED, Scrubber } from '../../src/sentry/scrub';
import { readConfig } from '../../src/config/env';
import { readSentrySettings as readSettings } from '../../src/sentry/settings';
import { ErrorSpanIndex, scrubbedView } from '../../src/sentry/spans';
import { retryAfterMs } from '../../src/sentry/transport';

const DSNS = [
  'https://abc123@o447951.ingest.sentry.io/5434472',
  'https://abc123@o1.ingest.us.sentry.io/42',
  'http://publickey@127.0.0.1:9000/1',
  'https://key@sentry.example.com:8443/sub/path/7',
  'https://key:secret@sentry.example.com/3',
  'https://key@[::1]:9000/12',
  '  https://key@host.example/99  ',
];
const BAD_DSNS = ['', 'not a dsn', 'https://sentry.example.com/1', 'ftp://key@host/1', 'https://key@host/', 'https://key@host/project', 'key@host/1'];

describe('DSN', () => {
  it('accepts and rejects what the Sentry SDK does', () => {
    for (const dsn of [...DSNS, ...BAD_DSNS]) {
      expect(parseDsn(dsn) !== undefined, dsn).toBe(makeDsn(dsn.trim()) !== undefined);
    }
  });

  it("gives @sentry/node's OTLP traces endpoint and auth header", () => {
    for (const dsn of DSNS) expect(otlpTracesEndpoint(parseDsn(dsn)!), dsn).toEqual(getOtlpTracesEndpoint(dsn.trim()));
  });

  it('prints as the SDK prints it, without a secret key', () => {
    expect(dsnToString(parseDsn('https://key:secret@sentry.example.com:8443/sub/7')!)).toBe('https://key@sentry.example.com:8443/sub/7');
  });
});

describe('settings', () => {
  const agentConfig = { serviceName: 'auth-service', serviceVersion: '1.4.2', resourceAttributes: {} as Record<string, string> };
  /** The agent's config as readConfig makes it from this environment: SENTRY_DSN is read there, once. */
  const readSentrySettings = (env: Record<string, string | undefined>, config: typeof agentConfig = agentConfig) =>
    readSettings(env, { ...config, sentryDsn: readConfig(env).config.sentryDsn });
  const config = agentConfig;

  it('are absent without a DSN, and a malformed DSN is one warning that never echoes it', () => {
    expect(readSentrySettings({}, config)).toEqual({ settings: undefined, warnings: [] });
    const { settings, warnings } = readSentrySettings({ SENTRY_DSN: 'https://sentry.example.com/secret-ish' }, config);
    expect(settings).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('SENTRY_DSN');
    expect(warnings[0]).not.toContain('secret-ish');
  });

  it('default the environment to production and the release to <service>@<version>', () => {
    const { settings, warnings } = readSentrySettings({ SENTRY_DSN: DSNS[0] }, config);
    expect(warnings).toEqual([]);
    expect(settings).toMatchObject({
      environment: 'production',
      release: 'auth-service@1.4.2',
      tracesSampleRate: 0,
      maxBreadcrumbs: 50,
      profileSessionSampleRate: 0,
      debug: false,
    });
  });

  it('take SENTRY_RELEASE over GIT_COMMIT_SHA over the package version, and no release without a version', () => {
    const env = { SENTRY_DSN: DSNS[0] };
    expect(readSentrySettings({ ...env, GIT_COMMIT_SHA: 'f00d' }, config).settings!.release).toBe('f00d');
    expect(readSentrySettings({ ...env, GIT_COMMIT_SHA: 'f00d', SENTRY_RELEASE: 'r9' }, config).settings!.release).toBe('r9');
    expect(readSentrySettings(env, { ...config, serviceVersion: '0.0.0' }).settings!.release).toBeUndefined();
  });

  it('take the environment from SENTRY_ENVIRONMENT, else deployment.environment.name', () => {
    const attrs = { ...config, resourceAttributes: { 'deployment.environment.name': 'staging' } };
    expect(readSentrySettings({ SENTRY_DSN: DSNS[0] }, attrs).settings!.environment).toBe('staging');
    expect(readSentrySettings({ SENTRY_DSN: DSNS[0], SENTRY_ENVIRONMENT: 'qa' }, attrs).settings!.environment).toBe('qa');
  });

  it('warn once per bad value and keep the default', () => {
    const { settings, warnings } = readSentrySettings(
      { SENTRY_DSN: DSNS[0], SENTRY_TRACES_SAMPLE_RATE: '2', SENTRY_DEBUG: 'maybe', TUTOR_OTEL_SENTRY_SCRUB_PATTERN: '(' },
      config,
    );
    expect(settings).toMatchObject({ tracesSampleRate: 0, debug: false, scrubPattern: undefined });
    expect(warnings.map((w) => w.split(/[= ]/)[0])).toEqual(['SENTRY_TRACES_SAMPLE_RATE', 'SENTRY_DEBUG', 'TUTOR_OTEL_SENTRY_SCRUB_PATTERN']);
    expect(readSentrySettings({ SENTRY_DSN: DSNS[0], SENTRY_TRACES_SAMPLE_RATE: '0.25', SENTRY_DEBUG: 'true' }, config).settings).toMatchObject({
      tracesSampleRate: 0.25,
      debug: true,
    });
  });
});

describe('scrubbing', () => {
  const scrubber = new Scrubber();

  it('removes passwords from URLs and connection strings, and tokens from text', () => {
    expect(scrubber.text('connect postgres://app:s3cret@db:5432/x failed')).toBe(`connect postgres://app:${FILTERED}@db:5432/x failed`);
    expect(scrubber.text('redis://:p%40ss@cache:6379')).toBe(`redis://:${FILTERED}@cache:6379`);
    expect(scrubber.text('mongodb://u:p@ss@host/db')).toBe(`mongodb://u:${FILTERED}@host/db`);
    expect(scrubber.text('host=db password=hunter2 user=app')).toBe(`host=db password=${FILTERED} user=app`);
    expect(scrubber.text('/cb?code=1&access_token=abc.def&x=1')).toBe(`/cb?code=1&access_token=${FILTERED}&x=1`);
    expect(scrubber.text('{"password":"x y z"}')).toBe(`{"password":${FILTERED}}`);
    expect(scrubber.text('Authorization: Bearer eyJhbGciOi.J9.xyz')).toBe(`Authorization: Bearer ${FILTERED}`);
    expect(scrubber.text('password authentication failed for user "app"')).toBe('password authentication failed for user "app"');
    expect(scrubber.text('https://example.com/a?b=1')).toBe('https://example.com/a?b=1');
  });

  it('withholds values under credential, LLM-content and SQL-parameter keys, whatever their case', () => {
    for (const key of [
      'Authorization',
      'cookie',
      'Set-Cookie',
      'http.request.header.authorization',
      'x-api-key',
      'db_password',
      'client_secret',
      'refresh_token',
      'gen_ai.prompt',
      'gen_ai.input.messages',
      'gen_ai.completion.0.content',
      'llm.prompts',
      'db.query.parameter.0',
      'db.postgresql.values',
    ]) {
      expect(scrubber.isWithheldKey(key), key).toBe(true);
    }
    for (const key of ['gen_ai.usage.input_tokens', 'gen_ai.request.model', 'http.route', 'db.query.text', 'tokens', 'status_code']) {
      expect(scrubber.isWithheldKey(key), key).toBe(false);
    }
  });

  it('replaces SQL string literals, and quoted values in database errors', () => {
    expect(scrubber.attribute('db.query.text', "SELECT * FROM u WHERE email = 'a@b.c' AND n = $1")).toBe("SELECT * FROM u WHERE email = '?' AND n = $1");
    expect(scrubber.dbMessage('invalid input syntax for type integer: "abc"')).toBe('invalid input syntax for type integer: "?"');
    expect(scrubber.dbMessage('Key (email)=(bob@example.com) already exists.')).toBe('Key (email)=(?) already exists.');
  });

  it('applies extra keys and an extra pattern from the environment', () => {
    const extra = new Scrubber(['employee_id'], /EMP-\d+/gi);
    expect(extra.isWithheldKey('x.employee_id')).toBe(true);
    expect(extra.text('for EMP-1234 and emp-99')).toBe(`for ${FILTERED} and ${FILTERED}`);
    expect(extra.text('for EMP-1234')).toBe(`for ${FILTERED}`); // the global pattern is reusable
  });

  it('walks a whole event in place', () => {
    const event = {
      message: 'postgres://a:b@h/d',
      request: { headers: { Authorization: 'Basic dXNlcjpwYXNzd29yZA==', accept: '*/*' } },
      extra: { nested: [{ api_key: 'k', note: 'token=abc' }] },
      contexts: { trace: { trace_id: 'a'.repeat(32) } },
    };
    const scrubbed = scrubber.deep(event);
    expect(scrubbed).toBe(event);
    expect(scrubbed).toEqual({
      message: `postgres://a:${FILTERED}@h/d`,
      request: { headers: { Authorization: FILTERED, accept: '*/*' } },
      extra: { nested: [{ api_key: FILTERED, note: `token=${FILTERED}` }] },
      contexts: { trace: { trace_id: 'a'.repeat(32) } },
    });
  });
});

describe('the span view sent to Sentry', () => {
  const span = {
    name: 'GET /cb',
    kind: 1,
    spanContext: () => ({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 }),
    parentSpanContext: undefined,
    startTime: [1, 0],
    endTime: [2, 0],
    status: { code: 2, message: 'connect postgres://u:pw@h/d' },
    attributes: { 'url.full': 'http://u:pw@h/cb?token=abc', 'http.request.header.cookie': ['a=b'], 'gen_ai.input.messages': '[..]', 'http.route': '/cb' },
    links: [],
    events: [
      { name: 'gen_ai.user.message', attributes: { content: 'hi' }, time: [1, 0] },
      { name: 'exception', attributes: { 'exception.message': 'password=pw', 'exception.stacktrace': 'Error: password=pw\n at x' }, time: [1, 0] },
    ],
    duration: [1, 0],
    ended: true,
    resource: {},
    instrumentationScope: { name: 'x' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as any;

  it('scrubs attributes, status and exception events, drops GenAI content events, and leaves the span alone', () => {
    const view = scrubbedView(span, new Scrubber());
    expect(view.attributes).toEqual({
      'url.full': `http://u:${FILTERED}@h/cb?token=${FILTERED}`,
      'http.request.header.cookie': FILTERED,
      'gen_ai.input.messages': FILTERED,
      'http.route': '/cb',
    });
    expect(view.status.message).toBe(`connect postgres://u:${FILTERED}@h/d`);
    expect(view.events.map((e) => e.name)).toEqual(['exception']);
    expect(view.events[0]!.attributes).toEqual({
      'exception.message': `password=${FILTERED}`,
      'exception.stacktrace': `Error: password=${FILTERED}\n at x`,
    });
    expect(view.spanContext().traceId).toBe('1'.repeat(32));
    expect(span.attributes['url.full']).toBe('http://u:pw@h/cb?token=abc');
  });

  it('remembers server spans that ended with an exception, by stack trace', () => {
    const index = new ErrorSpanIndex();
    const error = new Error('boom');
    index.note({
      ...span,
      kind: 1,
      attributes: { 'http.request.method': 'GET', 'url.path': '/x/1' },
      events: [{ name: 'exception', attributes: { 'exception.stacktrace': error.stack }, time: [1, 0] }],
    });
    expect(index.find(error)).toMatchObject({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), method: 'GET', path: '/x/1', sampled: true });
    expect(index.find(new Error('boom'))).toBeUndefined();
  });
});

describe("Node's unhandled-rejections mode", () => {
  it('is read from the command line and NODE_OPTIONS, the command line winning', () => {
    expect(unhandledRejectionsMode([], undefined)).toBe('throw');
    expect(unhandledRejectionsMode(['--unhandled-rejections=warn'], undefined)).toBe('warn');
    expect(unhandledRejectionsMode([], '--max-old-space-size=100 --unhandled-rejections=none')).toBe('none');
    expect(unhandledRejectionsMode(['--unhandled-rejections=strict'], '--unhandled-rejections=none')).toBe('strict');
  });
});

describe('Retry-After', () => {
  it('is seconds or an HTTP date, and 60 s when absent', () => {
    expect(retryAfterMs('120')).toBe(120_000);
    expect(retryAfterMs(new Date(10_000 + 30_000).toUTCString(), 10_000)).toBe(30_000);
    expect(retryAfterMs(null)).toBe(60_000);
    expect(retryAfterMs('soon')).toBe(60_000);
  });
});

describe('proxy choice', () => {
  const env = (vars: Record<string, string>) => readProxyEnv(vars);

  it('takes the variable for the scheme, lower case before upper case', () => {
    expect(readProxyEnv({ https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:1', HTTP_PROXY: 'c:3128', NO_PROXY: 'x' })).toEqual({
      https: 'http://a:1',
      http: 'c:3128',
      noProxy: 'x',
    });
    const proxy = env({ http_proxy: 'http://user:p%40ss@proxy:3128', https_proxy: 'proxy.corp:8080' });
    expect(proxyFor(new URL('http://o1.ingest.sentry.io/api/1/envelope/'), proxy)?.host).toBe('proxy:3128');
    expect(proxyFor(new URL('https://o1.ingest.sentry.io/api/1/envelope/'), proxy)?.toString()).toBe('http://proxy.corp:8080/');
    expect(proxyFor(new URL('https://o1.ingest.sentry.io/'), env({ http_proxy: 'proxy:1' }))).toBeUndefined();
    expect(proxyLabel(proxyFor(new URL('http://s/'), proxy)!)).toBe('http://proxy:3128');
    expect(proxyFor(new URL('https://s/'), env({ https_proxy: 'socks5://p:1' }))).toBeUndefined();
  });

  it('matches no_proxy as curl does: hosts, domain suffixes, ports, IP ranges, *', () => {
    const cases: Array<[string, string, string, boolean]> = [
      ['sentry.io', '443', 'sentry.io', true],
      ['o1.ingest.sentry.io', '443', 'sentry.io', true],
      ['o1.ingest.sentry.io', '443', '.sentry.io', true],
      ['o1.ingest.sentry.io', '443', '*.sentry.io', true],
      ['notsentry.io', '443', 'sentry.io', false],
      ['SENTRY.IO.', '443', 'Sentry.io', true],
      ['sentry.io', '443', 'sentry.io:8443', false],
      ['sentry.io', '8443', 'sentry.io:8443', true],
      ['10.1.2.3', '80', '10.0.0.0/8', true],
      ['11.1.2.3', '80', '10.0.0.0/8', false],
      ['127.0.0.1', '80', 'localhost, 127.0.0.1', true],
      ['::1', '80', '[::1]', true],
      ['[::1]', '9000', '[::1]:9000', true],
      ['fd00::5', '80', 'fd00::/8', true],
      ['anything', '1', '*', true],
      ['a.example', '1', '', false],
      ['1.2.3.4', '80', '2.3.4', false],
    ];
    for (const [host, port, list, expected] of cases) expect(noProxyMatches(host, port, list), `${host}:${port} in "${list}"`).toBe(expected);
    expect(proxyFor(new URL('https://o1.ingest.sentry.io/'), env({ https_proxy: 'p:1', no_proxy: 'sentry.io' }))).toBeUndefined();
  });
});

describe('breadcrumbs', () => {
  it('shape SQL: literals, numbers and comments out, identifiers and placeholders kept', () => {
    expect(sqlShape(`SELECT * FROM users WHERE email = 'a@b.c' AND id = 42 -- by admin`)).toBe('SELECT * FROM users WHERE email = ? AND id = ?');
    expect(sqlShape(`INSERT INTO t (a, "b2") VALUES ($1, E'it\\'s', 'O''Brien', 1.5e3, $$body$$, $x$y$x$) /* secret */`)).toBe(
      'INSERT INTO t (a, "b2") VALUES ($1, ?, ?, ?, ?, ?)',
    );
    expect(sqlShape('SELECT col1, t2.x3 FROM t2')).toBe('SELECT col1, t2.x3 FROM t2');
    expect(sqlShape(undefined)).toBeUndefined();
    expect(sqlShape(`SELECT '${'x'.repeat(50)}', ${'a, '.repeat(600)}b`, 100)).toMatch(/^SELECT \?, a, a.*…$/);
  });

  it('keep the latest notes up to the cap, the request first, oldest first', () => {
    const trail = new Trail(3);
    for (let i = 1; i <= 5; i++) trail.add({ kind: 'cache', at: i * 1000, command: `C${i}`, result: 'hit' });
    expect(trail.ordered().map((n) => (n.kind === 'cache' ? n.command : ''))).toEqual(['C3', 'C4', 'C5']);
    const crumbs = toBreadcrumbs(trail.ordered(), { at: 500, method: 'GET', route: '/a' }, 3);
    expect(crumbs.map((c) => c.message)).toEqual(['GET /a', 'C4', 'C5']);
    expect(crumbs.map((c) => c.timestamp)).toEqual([0.5, 4, 5]);
    expect(toBreadcrumbs(trail.ordered(), undefined, 0)).toEqual([]);
  });

  it('turn notes into Sentry breadcrumbs with no values', () => {
    const [http, db, ai] = toBreadcrumbs(
      [
        { kind: 'http', at: 1000, method: 'GET', origin: 'https://api.example.com', path: '/v1/users/7', status: 503, ms: 12.345 },
        { kind: 'db', at: 2000, verb: 'SELECT', text: "SELECT 1 FROM t WHERE a = 'secret'", failed: true, errorCode: '42P01', ms: 1 },
        { kind: 'ai', at: 3000, provider: 'openai', operation: 'chat', model: 'gpt-4o', inputTokens: 5, outputTokens: 7, status: 'success', ms: 900 },
      ],
      undefined,
      10,
    );
    expect(http).toMatchObject({
      category: 'http',
      level: 'error',
      data: { method: 'GET', url: 'https://api.example.com/v1/users/7', status_code: 503, duration_ms: 12.35 },
    });
    expect(db).toMatchObject({ category: 'db.query', level: 'error', message: 'SELECT ? FROM t WHERE a = ?', data: { error_code: '42P01' } });
    expect(ai).toMatchObject({ category: 'ai', message: 'openai chat gpt-4o', data: { input_tokens: 5, output_tokens: 7, status: 'success' } });
    expect(pathWithoutQuery('/a/b?token=x#f')).toBe('/a/b');
  });
});
