/**
 * Fastify route templates at each supported major (5: `fastify`; 4: `fastify-v4`, which has no
 * `fastify.request.handler` tracing channel): plugins registered with prefixes, an awaiting
 * onRequest hook, a handler's own 404.
 */
import { realWorldSuite } from '../helpers/realworld';

realWorldSuite('fastify', [
  { title: 'Fastify 5 under --import', fixture: 'fastify-realworld.cjs' },
  { title: 'Fastify 4 under --import', fixture: 'fastify-realworld.cjs', env: { FASTIFY_PACKAGE: 'fastify-v4' } },
  { title: 'Fastify 4 under --require', fixture: 'fastify-realworld.cjs', preload: ['require'], env: { FASTIFY_PACKAGE: 'fastify-v4' } },
]);
