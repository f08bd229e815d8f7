/** redactUrl: the one function every URL the agent logs or puts on a span goes through. */
import { describe, expect, it } from 'vitest';
import { redactUrl, SENSITIVE_QUERY_PARAMS } from '../../src/http/request-facts';

describe('redactUrl', () => {
  it('replaces user and password, keeping scheme, host, port, path and the other parameters', () => {
    expect(redactUrl('http://user:PASSWORD@collector.internal:4318/v1/traces?apikey=SECRET&region=eu')).toBe(
      'http://REDACTED:REDACTED@collector.internal:4318/v1/traces?apikey=REDACTED&region=eu',
    );
  });

  it('replaces a user alone (a token as user name) and an empty user with a password', () => {
    expect(redactUrl('https://ghp_token123@api.example.com/x')).toBe('https://REDACTED@api.example.com/x');
    expect(redactUrl('redis://:leftover@127.0.0.1:6379/0')).toBe('redis://REDACTED:REDACTED@127.0.0.1:6379/0');
  });

  it('takes the last @ of the authority, so an unencoded @ in the password does not leak its tail', () => {
    expect(redactUrl('http://u:p@ss@host/a@b')).toBe('http://REDACTED:REDACTED@host/a@b');
    expect(redactUrl('http://u:p@ss@host?x=a@b')).toBe('http://REDACTED:REDACTED@host?x=a@b');
  });

  it('leaves a URL without credentials or sensitive parameters exactly as given (no re-encoding)', () => {
    for (const url of ['http://127.0.0.1:4318/v1/traces', 'https://h/a%20b?q=a+b&x=%7E&empty=&flag', 'http://[::1]:8080/p?page=2#top', '/relative?a=1']) {
      expect(redactUrl(url)).toBe(url);
    }
    expect(redactUrl('http://host/@not-userinfo')).toBe('http://host/@not-userinfo');
  });

  it('redacts every listed parameter in any case, and a percent-encoded or +-spaced name', () => {
    for (const name of SENSITIVE_QUERY_PARAMS) {
      for (const spelled of [name, name.toUpperCase(), name.toLowerCase()]) {
        expect(redactUrl(`http://h/p?${spelled}=S3cr3t&keep=1`)).toBe(`http://h/p?${spelled}=REDACTED&keep=1`);
      }
    }
    expect(redactUrl('http://h/?%74oken=abc')).toBe('http://h/?%74oken=REDACTED');
    expect(redactUrl('http://h/?api%5Fkey=abc')).toBe('http://h/?api%5Fkey=REDACTED');
    expect(redactUrl('http://h/?Api_Key=abc&TOKEN=def&Sig=ghi')).toBe('http://h/?Api_Key=REDACTED&TOKEN=REDACTED&Sig=REDACTED');
  });

  it('redacts repeated parameters and empty values, and leaves a name without a value alone', () => {
    expect(redactUrl('/x?token=a&token=b&token=&token')).toBe('/x?token=REDACTED&token=REDACTED&token=REDACTED&token');
  });

  it('does not redact names that only contain a sensitive name', () => {
    expect(redactUrl('/x?tokens=1&monkey=2&keyboard=3&my_token=4')).toBe('/x?tokens=1&monkey=2&keyboard=3&my_token=4');
  });

  it('redacts the whole value, = and encoded & included', () => {
    expect(redactUrl('/x?sig=a=b==&token=x%26y&n=1')).toBe('/x?sig=REDACTED&token=REDACTED&n=1');
  });

  it('redacts parameters in the fragment (OAuth implicit flow, hash routes)', () => {
    expect(redactUrl('https://app/cb#access_token=abc&state=1')).toBe('https://app/cb#access_token=REDACTED&state=1');
    expect(redactUrl('https://app/#/login?token=abc')).toBe('https://app/#/login?token=REDACTED');
    expect(redactUrl('https://app/page#section-2')).toBe('https://app/page#section-2');
  });

  it('handles relative, protocol-relative and scheme-less input', () => {
    expect(redactUrl('/lessons/1?token=abc')).toBe('/lessons/1?token=REDACTED');
    expect(redactUrl('?apikey=abc')).toBe('?apikey=REDACTED');
    expect(redactUrl('//user:pw@cdn.example.com/x')).toBe('//REDACTED:REDACTED@cdn.example.com/x');
    expect(redactUrl('http:\\\\user:pw@host\\path')).toBe('http:\\\\REDACTED:REDACTED@host\\path');
  });

  it('never throws on malformed escapes, odd characters or non-URLs, and still redacts', () => {
    expect(redactUrl('http://us%ZZer:p%@host/%E0%A4%A?token=%ZZ&x=%')).toBe('http://REDACTED:REDACTED@host/%E0%A4%A?token=REDACTED&x=%');
    expect(redactUrl('/x?%ZZtoken=abc&%=1')).toBe('/x?%ZZtoken=abc&%=1');
    for (const odd of ['', '?', '#', '@', '://', 'http://', 'http://@', 'not a url at all', '\u0000\uffff', '?&&==&', 'x'.repeat(10_000)]) {
      expect(() => redactUrl(odd)).not.toThrow();
    }
    expect(redactUrl('')).toBe('');
    expect(redactUrl('http://@host/')).toBe('http://@host/');
    expect(redactUrl(undefined as unknown as string)).toBe('');
  });
});
