/**
 * Hono 4 route templates on `@hono/node-server` 2 and 1 (`hono-node-server-v1`), ESM and CommonJS:
 * sub-apps mounted with `route()`, a middleware on every path, a handler's own 404.
 */
import { realWorldSuite } from '../helpers/realworld';

realWorldSuite('hono', [
  { title: 'ESM Hono 4 on @hono/node-server 2', fixture: 'hono-realworld.mjs' },
  { title: 'CommonJS Hono 4 on @hono/node-server 2 under --require', fixture: 'hono-realworld.cjs', preload: ['require'] },
  { title: 'ESM Hono 4 on @hono/node-server 1', fixture: 'hono-realworld.mjs', env: { NODE_SERVER_PACKAGE: 'hono-node-server-v1' } },
  { title: 'CommonJS Hono 4 on @hono/node-server 1', fixture: 'hono-realworld.cjs', env: { NODE_SERVER_PACKAGE: 'hono-node-server-v1' } },
]);
