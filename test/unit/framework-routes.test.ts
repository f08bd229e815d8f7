import { describe, expect, it } from 'vitest';
import { expressTemplate, joinRoute, mountTemplate, noteMount, parentBase } from '../../src/http/express-routes';
import { fastifyTemplate, hapiTemplate, honoTemplate } from '../../src/http/framework-routes';

describe('Express mount templates', () => {
  it('takes the template piece from what use() mounted at', () => {
    expect(mountTemplate('/api')).toBe('/api');
    expect(mountTemplate('/api/')).toBe('/api');
    expect(mountTemplate('/:slug/comments')).toBe('/:slug/comments');
    expect(mountTemplate('/')).toBe('');
    expect(mountTemplate(() => {})).toBe('');
    expect(mountTemplate([() => {}, () => {}])).toBe('');
    expect(mountTemplate(/^\/files/)).toBeUndefined();
    expect(mountTemplate(['/a', '/b'])).toBeUndefined();
    expect(mountTemplate(undefined)).toBeUndefined();
  });

  it('finds the parent base only when the router stripped a part of the path', () => {
    expect(parentBase('/api/articles/x/comments', '/api')).toBe('/api');
    expect(parentBase('/api', '')).toBe('');
    expect(parentBase('/api', undefined)).toBe('/api');
    // A base restored to the parent's (a shorter one replaced): nothing was stripped.
    expect(parentBase('/api', '/api/articles/x')).toBe('/api');
    expect(parentBase('/api', '/other')).toBe('/api');
  });

  it('keeps the template of each parameterised base, nested ones on their parent', () => {
    let mounts = noteMount(undefined, '/api', '', '/api');
    expect(mounts).toBeUndefined(); // a static mount is its own template
    mounts = noteMount(mounts, '/api/articles', '/api', '/articles');
    expect(mounts).toBeUndefined();
    mounts = noteMount(mounts, '/api/articles/Hello-world-1/comments', '/api/articles', '/:slug/comments');
    expect(mounts?.get('/api/articles/Hello-world-1/comments')).toBe('/api/articles/:slug/comments');
    mounts = noteMount(mounts, '/api/articles/Hello-world-1/comments/v2', '/api/articles/Hello-world-1/comments', '/v2');
    expect(mounts?.get('/api/articles/Hello-world-1/comments/v2')).toBe('/api/articles/:slug/comments/v2');
    expect(expressTemplate({ route: { path: '/:id' }, baseUrl: '/api/articles/Hello-world-1/comments' }, mounts)).toBe(
      '/api/articles/:slug/comments/:id',
    );
  });

  it('lets a later static sibling with the same concrete base take it back', () => {
    let mounts = noteMount(undefined, '/api/feed', '/api', '/:kind');
    expect(mounts?.get('/api/feed')).toBe('/api/:kind');
    mounts = noteMount(mounts, '/api/feed', '/api', '/feed');
    expect(mounts?.has('/api/feed')).toBe(false);
  });

  it('joins a route to its base; a nested `/` route is its base', () => {
    expect(joinRoute('/api/articles', '/:slug')).toBe('/api/articles/:slug');
    expect(joinRoute('/api/articles', '/')).toBe('/api/articles');
    expect(joinRoute('', '/')).toBe('/');
    expect(joinRoute('', '')).toBe('/');
    expect(expressTemplate({ route: { path: /x/ }, baseUrl: '/api' })).toBeUndefined();
    expect(expressTemplate({ route: { path: '/ok' } })).toBe('/ok');
  });
});

describe('Fastify, Hono and hapi templates', () => {
  it('uses what the framework registered', () => {
    expect(fastifyTemplate('/api/articles/:slug')).toBe('/api/articles/:slug');
    expect(fastifyTemplate('')).toBe('/');
    expect(fastifyTemplate(undefined)).toBeUndefined();
    expect(honoTemplate('/api/articles/:slug')).toBe('/api/articles/:slug');
    expect(honoTemplate('')).toBeUndefined();
    expect(honoTemplate(42)).toBeUndefined();
  });

  it("keeps hapi's spelling and gives its internal not-found route no template", () => {
    expect(hapiTemplate({ method: 'get', path: '/api/articles/{slug}' })).toBe('/api/articles/{slug}');
    expect(hapiTemplate({ method: '_special', path: '/{p*}' })).toBeUndefined();
    expect(hapiTemplate(undefined)).toBeUndefined();
    expect(hapiTemplate({ method: 'get' })).toBeUndefined();
  });
});
