import { describe, it, expect } from 'vitest';
import { BoundedLabel, NOT_FOUND_ROUTE, OVERFLOW_ROUTE, foldPath, isIdSegment, methodLabel, routeLabel } from '../../src/http/route-label';

describe('foldPath', () => {
  it.each([
    ['/lessons/42', '/lessons/:id'],
    ['/lessons/42/chapters/7', '/lessons/:id/chapters/:id'],
    ['/items/-1', '/items/:id'],
    ['/prices/3.14', '/prices/:id'],
    ['/api/v1/users', '/api/v1/users'],
    ['/health', '/health'],
    ['/', '/'],
  ])('%s -> %s', (raw, folded) => {
    expect(foldPath(raw)).toBe(folded);
  });

  it('folds UUIDs in any case, with or without dashes', () => {
    expect(foldPath('/users/3f2504e0-4f89-11d3-9a0c-0305e82c3301/profile')).toBe('/users/:id/profile');
    expect(foldPath('/users/3F2504E0-4F89-11D3-9A0C-0305E82C3301')).toBe('/users/:id');
    expect(foldPath('/users/3f2504e04f8911d39a0c0305e82c3301')).toBe('/users/:id');
  });

  it('keeps a word spelled only with hex letters', () => {
    expect(foldPath('/acceptedface/settings')).toBe('/acceptedface/settings');
  });

  it('folds hex hashes and object ids', () => {
    expect(foldPath('/commits/9fceb02d0ae598e95dc970b74767f19372d61af8')).toBe('/commits/:id');
    expect(foldPath('/docs/507f1f77bcf86cd799439011')).toBe('/docs/:id');
    expect(foldPath('/tx/0xdeadbeefcafe1234')).toBe('/tx/:id');
  });

  it('folds long opaque tokens that contain digits, but not long words', () => {
    expect(foldPath('/invites/01ARZ3NDEKTSV4RRFFQ69G5FAV')).toBe('/invites/:id');
    expect(foldPath('/reset/V1StGXR8_Z5jdHi6B-myT')).toBe('/reset/:id');
    expect(foldPath('/guides/getting-started-with-typescript')).toBe('/guides/getting-started-with-typescript');
  });

  it('folds any segment longer than 64 characters', () => {
    expect(foldPath(`/slug/${'a'.repeat(65)}`)).toBe('/slug/:id');
    expect(foldPath(`/slug/${'a'.repeat(64)}`)).toBe(`/slug/${'a'.repeat(64)}`);
  });

  it('folds e-mail addresses', () => {
    expect(foldPath('/users/jane.doe@example.com/settings')).toBe('/users/:id/settings');
  });

  it('drops the query string and the fragment', () => {
    expect(foldPath('/lessons/42?x=1&token=abc')).toBe('/lessons/:id');
    expect(foldPath('/search?q=/lessons/42')).toBe('/search');
    expect(foldPath('/page#section-2')).toBe('/page');
    expect(foldPath('/?a=1')).toBe('/');
  });

  it('keeps a trailing slash', () => {
    expect(foldPath('/lessons/42/')).toBe('/lessons/:id/');
    expect(foldPath('/lessons/')).toBe('/lessons/');
    expect(foldPath('/lessons/?page=2')).toBe('/lessons/');
  });

  it('collapses empty segments inside the path', () => {
    expect(foldPath('//lessons///42')).toBe('/lessons/:id');
  });

  it('folds segments with % escapes or bytes outside the path alphabet, and never throws on invalid ones', () => {
    expect(() => foldPath('/files/%E0%A4%A')).not.toThrow();
    expect(foldPath('/files/%E0%A4%A')).toBe('/files/:id');
    expect(foldPath('/%')).toBe('/:id');
    expect(foldPath('/a%20b')).toBe('/:id');
    expect(foldPath('/items/\u00ff\u00fe')).toBe('/items/:id');
    expect(foldPath('/v1/chat.completions')).toBe('/v1/chat.completions');
  });

  it('reduces absolute-form request targets to their path', () => {
    expect(foldPath('http://example.com/lessons/42?x=1')).toBe('/lessons/:id');
    expect(foldPath('https://user:pw@example.com:8443/a/b')).toBe('/a/b');
    expect(foldPath('http://example.com')).toBe('/');
    expect(foldPath('http://example.com?x=1')).toBe('/');
    expect(foldPath('HTTP://EXAMPLE.COM/x')).toBe('/x');
  });

  it('maps `*` and other non-path targets to /', () => {
    expect(foldPath('*')).toBe('/');
    expect(foldPath('')).toBe('/');
    expect(foldPath('example.com:443')).toBe('/');
    expect(foldPath('lessons/42')).toBe('/');
  });

  it('keeps up to 8 segments and folds the rest into one *', () => {
    expect(foldPath('/a/b/c/d/e/f/g/h')).toBe('/a/b/c/d/e/f/g/h');
    expect(foldPath('/a/b/c/d/e/f/g/h/i')).toBe('/a/b/c/d/e/f/g/h/*');
    const deep = '/' + Array.from({ length: 50 }, (_, i) => `s${String.fromCharCode(97 + (i % 26))}`).join('/');
    const folded = foldPath(deep);
    expect(folded.split('/').length - 1).toBe(9);
    expect(folded.endsWith('/*')).toBe(true);
  });

  it('gives one value for many different ids (bounded cardinality)', () => {
    const values = new Set<string>();
    for (let i = 0; i < 1000; i++) values.add(foldPath(`/lessons/${i}/attempts/${i * 7919}?t=${i}`));
    expect([...values]).toEqual(['/lessons/:id/attempts/:id']);
  });
});

describe('isIdSegment', () => {
  it.each(['42', '0', '-7', '1.5', 'a@b', '0123456789ab', 'abcdefghij0123456789'])('%j is an id', (segment) => {
    expect(isIdSegment(segment)).toBe(true);
  });
  it.each([
    'lessons',
    'v1',
    'v2.1',
    'me',
    'abc123',
    'short-token-123',
    'abcdefghijklmnopqrstuvwxyz',
    '1.2.3',
    'acceptedface',
    'deadbeefcafe',
    'fadedfacadebeadedcafebabe',
  ])('%j is a name', (segment) => {
    expect(isIdSegment(segment)).toBe(false);
  });
  // Short words skip the regular expressions: the characters beside the letters in ASCII
  // (@ [ ` { and friends) must still make an id, and letters with - . _ ~ a name.
  it.each(['a[b', 'a`b', 'a{b', 'a^b', 'a]b', 'a\\b', 'a|b', 'a/b', 'é', 'a b'])(
    '%j, a short segment with a character outside the path alphabet, is an id',
    (segment) => {
      expect(isIdSegment(segment)).toBe(true);
    },
  );
  it.each(['A-Z', 'a.b', '~x', '_x_', 'Abcdefghijk', 'ZZ'])('%j, a short word, is a name', (segment) => {
    expect(isIdSegment(segment)).toBe(false);
  });
});

describe('BoundedLabel', () => {
  it('admits values up to the limit, then answers the overflow value', () => {
    const label = new BoundedLabel(2);
    expect(label.admit('/a')).toBe('/a');
    expect(label.admit('/b')).toBe('/b');
    expect(label.admit('/c')).toBe(OVERFLOW_ROUTE);
    expect(label.admit('/d')).toBe(OVERFLOW_ROUTE);
    expect(label.size).toBe(2);
  });

  it('keeps answering values already admitted after the cap is reached', () => {
    const label = new BoundedLabel(2);
    label.admit('/a');
    label.admit('/b');
    label.admit('/c');
    expect(label.admit('/a')).toBe('/a');
    expect(label.admit('/b')).toBe('/b');
    expect(label.size).toBe(2);
  });

  it('does not count a repeated value twice', () => {
    const label = new BoundedLabel(2);
    label.admit('/a');
    label.admit('/a');
    expect(label.size).toBe(1);
    expect(label.admit('/b')).toBe('/b');
  });

  it('uses a custom overflow value', () => {
    const label = new BoundedLabel(1, 'other');
    label.admit('x');
    expect(label.admit('y')).toBe('other');
  });

  it('with a limit of 0 sends everything to overflow', () => {
    const label = new BoundedLabel(0);
    expect(label.admit('/a')).toBe(OVERFLOW_ROUTE);
    expect(label.size).toBe(0);
  });

  it('bounds a flood of distinct values', () => {
    const label = new BoundedLabel(200);
    const out = new Set<string>();
    for (let i = 0; i < 5000; i++) out.add(label.admit(`/random-${i}`));
    expect(out.size).toBe(201);
    expect(out.has(OVERFLOW_ROUTE)).toBe(true);
  });
});

describe('routeLabel', () => {
  it('uses the framework template as it is', () => {
    expect(routeLabel('/lessons/:lessonId', '/lessons/42', 200)).toBe('/lessons/:lessonId');
  });

  it('the template wins even for a 404', () => {
    expect(routeLabel('/lessons/:lessonId', '/lessons/42', 404)).toBe('/lessons/:lessonId');
  });

  it('a 404 without a template collapses to one value', () => {
    expect(routeLabel(undefined, '/wp-admin/setup.php', 404)).toBe(NOT_FOUND_ROUTE);
    expect(routeLabel(undefined, '/.env', 404)).toBe(NOT_FOUND_ROUTE);
    expect(routeLabel('', '/x', 404)).toBe(NOT_FOUND_ROUTE);
  });

  it('folds the raw path without a template', () => {
    expect(routeLabel(undefined, '/lessons/42?x=1', 200)).toBe('/lessons/:id');
    expect(routeLabel(undefined, '/lessons/42', 500)).toBe('/lessons/:id');
  });

  it('uses / when there is no URL', () => {
    expect(routeLabel(undefined, undefined, 200)).toBe('/');
  });
});

describe('methodLabel', () => {
  it.each(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'])('%s is kept', (method) => {
    expect(methodLabel(method)).toBe(method);
  });

  it('upper-cases known methods', () => {
    expect(methodLabel('get')).toBe('GET');
    expect(methodLabel('Patch')).toBe('PATCH');
  });

  it.each(['PROPFIND', 'QUERY', 'FOO', '', 'G E T', 'GET '])('%j is _OTHER', (method) => {
    expect(methodLabel(method)).toBe('_OTHER');
  });

  it('undefined is _OTHER', () => {
    expect(methodLabel(undefined)).toBe('_OTHER');
  });
});
