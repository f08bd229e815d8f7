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

  it('prefers the later of two routes, as the router does', () => {
    const matched = [layer('/api/articles/:slug', ['GET']), layer('/api/articles/feed', ['GET'])];
    expect(koaRouteTemplate({ method: 'GET', matched })).toBe('/api/articles/feed');
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
