/**
 * hapi 21 route templates, in hapi's own spelling (`/api/articles/{slug}`), ESM and CommonJS: a
 * plugin registered with a route prefix, an awaiting extension, a handler's own 404.
 */
import { hapiSpelling, realWorldSuite } from '../helpers/realworld';

realWorldSuite(
  'hapi',
  [
    { title: 'ESM hapi 21', fixture: 'hapi-realworld.mjs' },
    { title: 'CommonJS hapi 21 under --require', fixture: 'hapi-realworld.cjs', preload: ['require'] },
  ],
  { spell: hapiSpelling },
);
