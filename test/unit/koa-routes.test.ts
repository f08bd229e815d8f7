import { describe, expect, it } from 'vitest';
import { koaRouteTemplate } from '../../src/http/koa-routes';

const layer = (path: unknown, methods: string[]) => ({ path, methods });

describe('koaRouteTemplate', () => {
  it('names the last matched layer that has the request method, skipping middleware layers', () => {
    const matched = [layer('{/*rest}', []), layer('/api/articles/:slug', ['HEAD', 'GET']), layer('/api/articles/:slug', ['PUT']), layer('/api/(.*)', [])];
    expect(koaRouteTemplate({ method: 'GET', matched })).toBe('/api/articles/:slug');
    expect(koaRouteTemplate({ method: 'head', matched })).toBe('/api/articles/:slug');
    expect(koaRouteTemplate({ method: 'POST', matched })).toBeUndefined();
  });

  it('names the route whose step ran last, not the last match (feed registered before :slug)', () => {
    const matched = [layer('/api/articles/feed', ['GET']), layer('/api/articles/:slug', ['GET'])];
    expect(koaRouteTemplate({ method: 'GET', matched, _matchedRoute: '/api/articles/feed' })).toBe('/api/articles/feed');
    expect(koaRouteTemplate({ method: 'GET', matched, _matchedRoute: '/api/articles/:slug' })).toBe('/api/articles/:slug');
  });

  it('falls back to the last matching route when a middleware layer answered or nothing ran yet', () => {
    const matched = [layer('/api/(.*)', []), layer('/api/articles/:slug', ['GET'])];
    expect(koaRouteTemplate({ method: 'GET', matched, _matchedRoute: '/api/(.*)' })).toBe('/api/articles/:slug');
    expect(koaRouteTemplate({ method: 'GET', matched })).toBe('/api/articles/:slug');
  });

  it('gives no template for a RegExp route, no match, or a context the router never saw', () => {
    expect(koaRouteTemplate({ method: 'GET', matched: [layer(/^\/files\/.*/, ['GET'])] })).toBeUndefined();
    expect(koaRouteTemplate({ method: 'GET', matched: [] })).toBeUndefined();
    expect(koaRouteTemplate({ method: 'GET' })).toBeUndefined();
    expect(koaRouteTemplate({ method: undefined, matched: [layer('/x', ['GET'])] })).toBeUndefined();
    expect(koaRouteTemplate({ method: 'GET', matched: [null, { path: '/x' }] })).toBeUndefined();
  });

  it('an empty path is the root', () => {
    expect(koaRouteTemplate({ method: 'GET', matched: [layer('', ['GET'])] })).toBe('/');
  });
});
