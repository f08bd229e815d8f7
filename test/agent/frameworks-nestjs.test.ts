/**
 * NestJS 12 (ESM only) on Express 5 and on Fastify 5: controller routes under a global prefix get
 * their templates from the platform's integration; an unknown path stays `__not_found__` (on
 * Express, Nest answers it from a catch-all route, which the `nestjs` integration unmarks).
 */
import { expect } from 'vitest';
import { total } from '../helpers/prometheus-text';
import { realWorldSuite } from '../helpers/realworld';

realWorldSuite(
  'nestjs',
  [
    { title: 'NestJS 12 on Express 5', fixture: 'nest-realworld.mjs' },
    { title: 'NestJS 12 on Fastify 5', fixture: 'nest-realworld.mjs', env: { NEST_PLATFORM: 'fastify' } },
  ],
  {
    // Without it, the templates stay (they come from `express`) but the unknown path is labelled
    // with Nest's catch-all route.
    whenDisabled: async (app) => {
      const samples = await app.scrape();
      expect(total(samples, 'http_requests_total', { method: 'GET', route: '/api/articles/:slug', status_code: '200' })).toBe(3);
      expect(total(samples, 'http_requests_total', { route: '/api*path', status_code: '404' })).toBe(1);
      expect(total(samples, 'http_requests_total', { route: '__not_found__' })).toBe(0);
    },
  },
);
