/**
 * The RealWorld ("Conduit") route set every framework fixture serves (test/fixtures/*-realworld.*,
 * koa-routes.cjs): the requests the framework tests send and the exact `http_requests_total`
 * series they expect. Slugs, usernames and ids that would each become a series without templates;
 * a handler's own 404 (keeps its template); a thrown 500; an unmatched path (`__not_found__`).
 */
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, REPO, startAgentApp, type AgentApp, type AgentAppOptions } from './agent-process';
import { select, total } from './prometheus-text';

/** [method, path, status] sent to every app. */
export const TRAFFIC: Array<[string, string, number]> = [
  ['GET', '/api/articles', 200],
  ['GET', '/api/articles/Hello-world-1', 200],
  ['GET', '/api/articles/how-to-train-your-dragon-2', 200],
  ['GET', '/api/articles/Hello-world-1', 200],
  ['HEAD', '/api/articles/Hello-world-1', 200],
  ['GET', '/api/articles/missing-article-7', 404],
  ['GET', '/api/articles/Hello-world-1/comments', 200],
  ['DELETE', '/api/articles/Hello-world-1/comments/42', 204],
  ['GET', '/api/profiles/jake', 200],
  ['GET', '/api/profiles/celeb_2', 200],
  ['POST', '/api/articles/Hello-world-1/favorite', 500],
  ['GET', '/api/tags-that-do-not-exist/abc-9', 404],
];

/** [method, route, status_code, count] expected on /metrics for TRAFFIC, in Express spelling. */
export const EXPECTED: Array<[string, string, string, number]> = [
  ['GET', '/api/articles', '200', 1],
  ['GET', '/api/articles/:slug', '200', 3],
  ['HEAD', '/api/articles/:slug', '200', 1],
  ['GET', '/api/articles/:slug', '404', 1],
  ['GET', '/api/articles/:slug/comments', '200', 1],
  ['DELETE', '/api/articles/:slug/comments/:id', '204', 1],
  ['GET', '/api/profiles/:username', '200', 2],
  ['POST', '/api/articles/:slug/favorite', '500', 1],
  ['GET', '__not_found__', '404', 1],
];

/** hapi spells parameters `{slug}`. */
export function hapiSpelling(route: string): string {
  return route.replace(/:(\w+)/g, '{$1}');
}

export async function sendTraffic(app: AgentApp, traffic: Array<[string, string, number]> = TRAFFIC): Promise<void> {
  for (const [method, pathname, status] of traffic) {
    const response = await app.request(pathname, { method });
    await response.arrayBuffer();
    expect(response.status, `${method} ${pathname}`).toBe(status);
  }
}

/** Exactly the EXPECTED series (counts and durations), and no other route. */
export async function expectRealWorldRoutes(app: AgentApp, spell: (route: string) => string = (route) => route): Promise<void> {
  const samples = await app.scrape();
  for (const [method, template, status_code, count] of EXPECTED) {
    const route = spell(template);
    expect(total(samples, 'http_requests_total', { method, route, status_code }), `${method} ${route} ${status_code}`).toBe(count);
    expect(total(samples, 'http_request_duration_seconds_count', { method, route, status_code })).toBe(count);
  }
  expect(total(samples, 'http_requests_total')).toBe(TRAFFIC.length);
  const routes = new Set(select(samples, 'http_requests_total').map((s) => s.labels.route));
  expect([...routes].sort()).toEqual([...new Set(EXPECTED.map(([, route]) => spell(route)))].sort());
}

/** Without templates: the slugs and usernames are routes of their own, the unmatched path stays `__not_found__`. */
export async function expectFoldedRoutes(app: AgentApp): Promise<void> {
  const samples = await app.scrape();
  expect(total(samples, 'http_requests_total', { route: '/api/articles/Hello-world-1', status_code: '200' })).toBeGreaterThanOrEqual(2);
  expect(total(samples, 'http_requests_total', { route: '/api/profiles/jake', status_code: '200' })).toBe(1);
  expect(total(samples, 'http_requests_total', { route: '__not_found__', status_code: '404' })).toBeGreaterThanOrEqual(1);
  expect(select(samples, 'http_requests_total').filter((s) => /:(slug|username)\b|\{/.test(s.labels.route ?? ''))).toHaveLength(0);
}

/**
 * A package installed under an npm alias (`express-v4`), reachable under its real name: a
 * directory in node_modules holding `node_modules/<name>` as a link to it. Run the app with
 * `--preserve-symlinks` and load it by this path: the agent's module hooks then see the package's
 * real name, as in an app that depends on that major directly.
 */
export function packageUnderItsName(alias: string, name: string): string {
  const link = path.join(REPO, 'node_modules', '.real-names', alias, 'node_modules', name);
  if (!existsSync(link)) {
    mkdirSync(path.dirname(link), { recursive: true });
    try {
      symlinkSync(path.join(REPO, 'node_modules', alias), link, 'dir');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return link;
}

export interface RealWorldCase {
  title: string;
  fixture: string;
  preload?: AgentAppOptions['preload'];
  env?: Record<string, string>;
  nodeArgs?: string[];
}

/**
 * One `describe` per case: the app serves TRAFFIC and /metrics holds exactly EXPECTED; and, with
 * the integration switched off by `OTEL_NODE_DISABLED_INSTRUMENTATIONS=<name>` (for the first case
 * of each fixture), the paths fold as without it, which is what the test would see without the
 * integration.
 */
export function realWorldSuite(
  name: string,
  cases: RealWorldCase[],
  options: { spell?: (route: string) => string; whenDisabled?: (app: AgentApp) => Promise<void> } = {},
): void {
  const { spell, whenDisabled = expectFoldedRoutes } = options;
  for (const testCase of cases) {
    describe(testCase.title, () => {
      let app: AgentApp;

      beforeAll(async () => {
        app = await startAgentApp({
          fixture: testCase.fixture,
          preload: testCase.preload,
          nodeArgs: testCase.nodeArgs,
          env: { OTEL_SERVICE_NAME: `${name}-fixture`, ...testCase.env },
        });
        await agentReady(app);
        await sendTraffic(app);
      });

      afterAll(async () => app?.stop());

      it('labels requests with the full route template; a handler 404 keeps it, an unmatched path is __not_found__', async () => {
        await expectRealWorldRoutes(app, spell);
        expect(app.agentLines.join('\n')).toMatch(new RegExp(`instrumentations: [^;]*\\b${name}\\b`));
      });
    });
  }

  describe(`OTEL_NODE_DISABLED_INSTRUMENTATIONS=${name}`, () => {
    const seen = new Set<string>();
    for (const testCase of cases) {
      if (seen.has(testCase.fixture)) continue;
      seen.add(testCase.fixture);
      it(`leaves ${testCase.title} without templates`, async () => {
        const app = await startAgentApp({
          fixture: testCase.fixture,
          preload: testCase.preload,
          nodeArgs: testCase.nodeArgs,
          env: { ...testCase.env, OTEL_NODE_DISABLED_INSTRUMENTATIONS: name },
        });
        try {
          await agentReady(app);
          await sendTraffic(app);
          await whenDisabled(app);
          expect(app.agentLines.join('\n')).not.toMatch(new RegExp(`instrumentations: [^;]*\\b${name}\\b`));
        } finally {
          await app.stop();
        }
      });
    }
  });
}
