import { describe, it, expect } from 'vitest';
import { parseBindHost, parseBoolean, parseHttpUrl, parseInteger, parseKeyValueList, parseList, parseRatio } from '../../src/config/parse';

describe('parseBoolean', () => {
  it.each(['true', '1', 'yes', 'on', ' TRUE ', 'On'])('%j is true', (text) => {
    expect(parseBoolean(text)).toBe(true);
  });
  it.each(['false', '0', 'no', 'off', ' FALSE\n', 'Off'])('%j is false', (text) => {
    expect(parseBoolean(text)).toBe(false);
  });
  it.each(['', 'maybe', 'truee', '2', 'y', 'enabled'])('%j is not a boolean', (text) => {
    expect(parseBoolean(text)).toBeUndefined();
  });
});

describe('parseInteger', () => {
  it('accepts whole numbers in range, with surrounding whitespace', () => {
    expect(parseInteger('9464', 0, 65535)).toBe(9464);
    expect(parseInteger(' 80 ', 0, 65535)).toBe(80);
    expect(parseInteger('0', 0, 65535)).toBe(0);
    expect(parseInteger('65535', 0, 65535)).toBe(65535);
    expect(parseInteger('-5', -10, 10)).toBe(-5);
  });
  it('rejects values outside [min, max]', () => {
    expect(parseInteger('-1', 0, 65535)).toBeUndefined();
    expect(parseInteger('65536', 0, 65535)).toBeUndefined();
    expect(parseInteger('9', 10, 20)).toBeUndefined();
  });
  it.each(['9464.5', '1e3', '1E3', '0x10', '80abc', 'abc', '', ' ', '+80', '8 0', '9464.', '.5', 'Infinity', 'NaN'])(
    'rejects %j (fractions, exponents, junk)',
    (text) => {
      expect(parseInteger(text, -1_000_000, 1_000_000)).toBeUndefined();
    },
  );
  it('rejects numbers too long to be safe integers', () => {
    expect(parseInteger('99999999999999999999', 0, Number.MAX_SAFE_INTEGER)).toBeUndefined();
    expect(parseInteger('12345678901234567', 0, Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });
});

describe('parseRatio', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['0.25', 0.25],
    ['.5', 0.5],
    ['1.', 1],
    [' 0.1 ', 0.1],
    ['1.0', 1],
  ])('%j -> %d', (text, expected) => {
    expect(parseRatio(text)).toBe(expected);
  });
  it.each(['1.5', '2', '-0.1', '1e-1', 'half', '', '.', '0.5x', 'NaN', '50%'])('rejects %j', (text) => {
    expect(parseRatio(text)).toBeUndefined();
  });
});

describe('parseHttpUrl', () => {
  it('accepts absolute http and https URLs, normalised', () => {
    expect(parseHttpUrl('http://collector:4318')).toBe('http://collector:4318/');
    expect(parseHttpUrl(' https://otel.example.com/otlp ')).toBe('https://otel.example.com/otlp');
  });
  it.each(['collector:4318', 'localhost', '/v1/traces', 'ftp://host/x', 'grpc://collector:4317', '', 'http//missing-colon', 'http://'])(
    'rejects %j',
    (text) => {
      expect(parseHttpUrl(text)).toBeUndefined();
    },
  );
});

describe('parseList', () => {
  it('splits on commas, trims, lower-cases and drops empties', () => {
    expect(parseList('a,B , c')).toEqual(['a', 'b', 'c']);
    expect(parseList(' , ,HTTP,,')).toEqual(['http']);
    expect(parseList('')).toEqual([]);
  });
});

describe('parseKeyValueList', () => {
  it('parses pairs and percent-decodes values', () => {
    expect(parseKeyValueList('service.name=api,deployment.environment=prod')).toEqual({
      'service.name': 'api',
      'deployment.environment': 'prod',
    });
    expect(parseKeyValueList('Authorization=Bearer%20abc')).toEqual({ Authorization: 'Bearer abc' });
  });
  it('trims keys and values, keeps `=` inside a value and allows an empty value', () => {
    expect(parseKeyValueList(' k = v ,x=a=b, e=')).toEqual({ k: 'v', x: 'a=b', e: '' });
  });
  it('ignores empty pairs and returns {} for blank text', () => {
    expect(parseKeyValueList('a=1,,b=2,')).toEqual({ a: '1', b: '2' });
    expect(parseKeyValueList('')).toEqual({});
  });
  it('the later of two equal keys wins', () => {
    expect(parseKeyValueList('a=1,a=2')).toEqual({ a: '2' });
  });
  it.each(['a=1,broken', '=value', 'a=1, =2', 'token=%E0%A4%A', 'a=%'])('rejects the whole list for %j', (text) => {
    expect(parseKeyValueList(text)).toBeUndefined();
  });
});

describe('parseBindHost', () => {
  it.each([
    ['0.0.0.0', '0.0.0.0'],
    ['localhost', 'localhost'],
    [' 127.0.0.1 ', '127.0.0.1'],
    ['my-host.internal', 'my-host.internal'],
    ['::', '::'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['fe80::1', 'fe80::1'],
  ])('%j -> %j', (text, expected) => {
    expect(parseBindHost(text)).toBe(expected);
  });
  it.each(['', '   ', 'http://localhost', '127.0.0.1:9464', 'host:9464', 'two words', 'host/path', '[::1]:9464'])('rejects %j', (text) => {
    expect(parseBindHost(text)).toBeUndefined();
  });
});
