import { describe, expect, it } from 'vitest';
import { NOT_FOUND_ROUTE, OVERFLOW_ROUTE, foldPath, routeLabel } from '../../src/http/route-label';
import { HttpSeriesBudget, OTHER_METHOD, OVERFLOW_RESERVE, statusClass } from '../../src/http/series-budget';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];
/** Letters only, so foldPath keeps each as its own route. */
const word = (n: number) => n.toString(26).replace(/\d/g, (d) => 'qrstuvwxyz'[Number(d)] as string);

/** What the HTTP server consumer does per request: routeLabel, then the budget. */
function record(budget: HttpSeriesBudget, method: string, url: string, status: number, template?: string) {
  return budget.labels(method, routeLabel(template, url, status), template !== undefined, status).labels;
}

describe('HttpSeriesBudget: routes', () => {
  it('admits framework templates whatever the route budget, without spending it', () => {
    const budget = new HttpSeriesBudget(2, 1000);
    for (let i = 0; i < 50; i++) expect(record(budget, 'GET', `/t/${i}`, 200, `/template-${i}`)[1]).toBe(`/template-${i}`);
    expect(record(budget, 'GET', '/raw-a', 200)[1]).toBe('/raw-a');
    expect(record(budget, 'GET', '/raw-b', 200)[1]).toBe('/raw-b');
    expect(record(budget, 'GET', '/raw-c', 200)[1]).toBe(OVERFLOW_ROUTE);
    expect(record(budget, 'GET', '/late/:id', 200, '/late/:id')[1]).toBe('/late/:id');
  });

  it('never spends the route budget on 404s or other 4xx of paths it has not seen answered', () => {
    const budget = new HttpSeriesBudget(1, 1000);
    for (const status of [400, 401, 403, 404, 405, 410, 418, 451, 499]) {
      expect(record(budget, 'GET', `/junk-${status}`, status)[1]).toBe(NOT_FOUND_ROUTE);
    }
    expect(record(budget, 'GET', '/real', 200)[1]).toBe('/real'); // the one raw route is still free
  });

  it('keeps the path of a 4xx on a raw route that was answered before', () => {
    const budget = new HttpSeriesBudget(10, 1000);
    expect(record(budget, 'POST', '/login', 401)[1]).toBe(NOT_FOUND_ROUTE); // not learned yet
    expect(record(budget, 'POST', '/login', 200)[1]).toBe('/login');
    expect(record(budget, 'POST', '/login', 401)[1]).toBe('/login');
    expect(record(budget, 'PUT', '/login', 405)[1]).toBe('/login');
  });

  it('spends the route budget on folded raw paths of other statuses (bare http apps)', () => {
    const budget = new HttpSeriesBudget(3, 1000);
    expect(record(budget, 'GET', '/a/1', 500)[1]).toBe('/a/:id');
    expect(record(budget, 'GET', '/a/2', 200)[1]).toBe('/a/:id');
    expect(record(budget, 'GET', '/b', 302)[1]).toBe('/b');
    expect(record(budget, 'GET', '/c', 200)[1]).toBe('/c');
    expect(record(budget, 'GET', '/d', 200)[1]).toBe(OVERFLOW_ROUTE);
    expect(record(budget, 'GET', '/b', 200)[1]).toBe('/b');
  });

  it('keeps a template on its 404 (the route matched; the item did not)', () => {
    const budget = new HttpSeriesBudget(1, 1000);
    expect(record(budget, 'GET', '/items/9', 404, '/items/:id')[1]).toBe('/items/:id');
  });
});

describe('HttpSeriesBudget: label sets', () => {
  it('caps the method x route x status product of a junk flood and folds the rest by status class', () => {
    const limit = 500;
    const budget = new HttpSeriesBudget(200, limit);
    const series = new Map<string, number>();
    let sent = 0;
    for (let p = 0; p < 200; p++) {
      for (const method of METHODS) {
        for (const status of [200, 500]) {
          const labels = record(budget, method, `/junk-${word(p)}`, status);
          series.set(labels.join(' '), (series.get(labels.join(' ')) ?? 0) + 1);
          sent++;
        }
      }
    }
    expect(series.size).toBeLessThanOrEqual(limit);
    expect([...series.values()].reduce((a, b) => a + b, 0)).toBe(sent); // folded, never dropped
    expect(series.get(`${OTHER_METHOD} ${OVERFLOW_ROUTE} 2xx`)).toBeGreaterThan(0);
    expect(series.get(`${OTHER_METHOD} ${OVERFLOW_ROUTE} 5xx`)).toBeGreaterThan(0);
    // Untemplated label sets take at most half of the limit.
    expect(budget.size).toBe(limit / 2);
  });

  it('keeps room for framework templates after raw label sets used their half', () => {
    const budget = new HttpSeriesBudget(10_000, 200);
    for (let i = 0; i < 1000; i++) record(budget, 'GET', `/raw-${word(i)}`, 200);
    expect(budget.size).toBe(100);
    expect(record(budget, 'GET', '/raw-new', 200)).toEqual([OTHER_METHOD, OVERFLOW_ROUTE, '2xx']);
    // A real route first requested after the flood is kept under its template.
    expect(record(budget, 'POST', '/lessons/7', 201, '/lessons/:id')).toEqual(['POST', '/lessons/:id', '201']);
    // Templates fill the rest, short of the reserve for folded label sets; then they fold too.
    for (let i = 0; i < 200; i++) record(budget, 'GET', '/x', 200, `/t${i}`);
    expect(budget.size).toBe(200 - OVERFLOW_RESERVE);
    expect(record(budget, 'GET', '/x', 503, '/t-late')).toEqual([OTHER_METHOD, OVERFLOW_ROUTE, '5xx']);
  });

  it('keeps a label set admitted before as it is, whatever came after', () => {
    const budget = new HttpSeriesBudget(10_000, 100);
    expect(record(budget, 'GET', '/first', 200)).toEqual(['GET', '/first', '200']);
    for (let i = 0; i < 500; i++) record(budget, 'GET', `/raw-${word(i)}`, 200);
    expect(record(budget, 'GET', '/first', 200)).toEqual(['GET', '/first', '200']);
    expect(record(budget, 'GET', '/first', 500)).toEqual([OTHER_METHOD, OVERFLOW_ROUTE, '5xx']);
  });

  it('bounds the total by the limit: at most ten folded label sets, reserved inside it', () => {
    const limit = 100;
    const budget = new HttpSeriesBudget(10_000, limit);
    const seen = new Set<string>();
    for (let s = 100; s <= 999; s++) {
      for (const method of METHODS) seen.add(record(budget, method, `/p-${word(s)}`, s, `/t${s}`).join(' '));
    }
    expect(seen.size).toBeLessThanOrEqual(limit);
  });

  it('names status classes', () => {
    expect(statusClass(200)).toBe('2xx');
    expect(statusClass(404)).toBe('4xx');
    expect(statusClass(599)).toBe('5xx');
    expect(statusClass(999)).toBe('9xx');
    expect(statusClass(42)).toBe('other');
  });

  it('folds ids before the budget sees them: one route for many ids', () => {
    expect(foldPath('/lessons/123')).toBe('/lessons/:id');
    const budget = new HttpSeriesBudget(1, 100);
    for (let i = 0; i < 100; i++) expect(record(budget, 'GET', `/lessons/${i}`, 200)[1]).toBe('/lessons/:id');
    expect(budget.size).toBe(1);
  });
});
