/**
 * Credential validation in one place (health/credentials.ts): fail closed on anything malformed or
 * blank, one warning naming the variable and never the value; the scheme is case-insensitive; a
 * credential file is looked at again at most once a second and rotation, deletion and breakage
 * take effect on the next request after that.
 */
import { mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CredentialSource } from '../../src/config/types';
import { acceptedAuthorizations, parseAuthorization, RECHECK_MS } from '../../src/health/credentials';

const dir = mkdtempSync(path.join(tmpdir(), 'otel-agent-credentials-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const unset: CredentialSource = { value: undefined, file: undefined };
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

function gate(auth: { bearer?: Partial<CredentialSource>; basic?: Partial<CredentialSource> }, now = () => 0) {
  const warnings: string[] = [];
  const infos: string[] = [];
  const credentials = acceptedAuthorizations(
    { bearer: { ...unset, ...auth.bearer }, basic: { ...unset, ...auth.basic } },
    { warn: (m) => warnings.push(m), info: (m) => infos.push(m), now },
  );
  return { credentials, warnings, infos };
}

describe('acceptedAuthorizations', () => {
  it('is open (undefined) only when no setting is set at all', () => {
    expect(gate({}).credentials).toBeUndefined();
    expect(gate({ bearer: { value: '' } }).credentials).toBeDefined();
  });

  it.each([
    ['TUTOR_OTEL_AUTH_BASIC', { basic: { value: 'admin' } }, 'admin'],
    ['TUTOR_OTEL_AUTH_BASIC', { basic: { value: 'admin:' } }, 'admin:'],
    ['TUTOR_OTEL_AUTH_BASIC', { basic: { value: ':' } }, undefined],
    ['TUTOR_OTEL_AUTH_BASIC', { basic: { value: ':hunter2' } }, 'hunter2'],
    ['TUTOR_OTEL_AUTH_BASIC', { basic: { value: '  ' } }, undefined],
    ['TUTOR_OTEL_AUTH_TOKEN', { bearer: { value: '' } }, undefined],
    ['TUTOR_OTEL_AUTH_TOKEN', { bearer: { value: ' \n ' } }, undefined],
    ['TUTOR_OTEL_AUTH_TOKEN_FILE', { bearer: { file: ' ' } }, undefined],
    ['TUTOR_OTEL_AUTH_BASIC_FILE', { basic: { file: '' } }, undefined],
  ])('%s malformed or blank (%j) locks everything, with one warning that hides the value', async (variable, auth, secret) => {
    const { credentials, warnings } = gate(auth as never);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^${variable} .*answer 401`));
    if (secret) expect(warnings[0]).not.toContain(secret);
    for (const header of [
      undefined,
      '',
      'Bearer ',
      'Basic ',
      basic('admin:'),
      basic(':'),
      basic('admin'),
      `Basic ${Buffer.from(':hunter2').toString('base64')}`,
    ]) {
      expect(await credentials!.authorize(header)).toBe(false);
    }
  });

  it('a valid credential next to a malformed one does not open the endpoints (fail closed)', async () => {
    const { credentials, warnings } = gate({ bearer: { value: 'good-token' }, basic: { value: 'admin' } });
    expect(warnings).toHaveLength(1);
    expect(await credentials!.authorize('Bearer good-token')).toBe(false);
  });

  it('accepts the scheme in any case (RFC 7235), the credentials only exactly', async () => {
    const { credentials, warnings } = gate({ bearer: { value: ' tok-1 ' }, basic: { value: 'prom:pa:ss' } });
    expect(warnings).toEqual([]);
    for (const scheme of ['Bearer', 'bearer', 'BEARER', 'bEaReR']) expect(await credentials!.authorize(`${scheme} tok-1`)).toBe(true);
    for (const scheme of ['Basic', 'basic', 'BASIC'])
      expect(await credentials!.authorize(`${scheme} ${Buffer.from('prom:pa:ss').toString('base64')}`)).toBe(true);
    expect(await credentials!.authorize('Bearer TOK-1')).toBe(false);
    expect(await credentials!.authorize('Bearer tok-12')).toBe(false);
    expect(await credentials!.authorize('Basic tok-1')).toBe(false);
    expect(await credentials!.authorize(`Bearer ${Buffer.from('prom:pa:ss').toString('base64')}`)).toBe(false);
    expect(await credentials!.authorize('Bearertok-1')).toBe(false);
    expect(await credentials!.authorize('tok-1')).toBe(false);
  });

  it('parses the Authorization header: scheme lower-cased, one or more spaces, credentials as given', () => {
    expect(parseAuthorization('BEARER  abc def')).toEqual({ scheme: 'bearer', credentials: 'abc def' });
    expect(parseAuthorization('Basic')).toBeUndefined();
    expect(parseAuthorization(undefined)).toBeUndefined();
  });

  it('re-reads a rotated token file after RECHECK_MS, locks when it is deleted, opens when it is back', async () => {
    let now = 0;
    const file = path.join(dir, 'token');
    writeFileSync(file, 'old-token\n');
    const { credentials, warnings, infos } = gate({ bearer: { file } }, () => now);
    expect(await credentials!.authorize('Bearer old-token')).toBe(true);

    // Rotation the way Kubernetes does it: a new file renamed over the old one (new inode).
    writeFileSync(`${file}.new`, 'new-token\n');
    renameSync(`${file}.new`, file);
    now += RECHECK_MS - 1;
    expect(await credentials!.authorize('Bearer old-token')).toBe(true); // not looked at yet: cheap
    now += 1;
    expect(await credentials!.authorize('Bearer old-token')).toBe(false);
    expect(await credentials!.authorize('Bearer new-token')).toBe(true);

    // Rewritten in place (same inode, same length).
    writeFileSync(file, 'NEW-token\n');
    now += RECHECK_MS;
    expect(await credentials!.authorize('Bearer new-token')).toBe(false);
    expect(await credentials!.authorize('Bearer NEW-token')).toBe(true);

    unlinkSync(file);
    now += RECHECK_MS;
    expect(await credentials!.authorize('Bearer NEW-token')).toBe(false);
    now += RECHECK_MS;
    expect(await credentials!.authorize('Bearer NEW-token')).toBe(false);
    expect(warnings).toEqual([
      'TUTOR_OTEL_AUTH_TOKEN_FILE cannot be used: it cannot be read (ENOENT); /metrics and /health answer 401 until it is fixed (/live and /ready stay open)',
    ]);

    writeFileSync(file, 'back-token');
    now += RECHECK_MS;
    expect(await credentials!.authorize('Bearer back-token')).toBe(true);
    expect(infos).toHaveLength(1);
  });

  it('a basic-auth file that turns malformed or empty locks, with one warning per change, never the content', async () => {
    let now = 0;
    const file = path.join(dir, 'basic');
    writeFileSync(file, 'prom:s3cret-pw\n');
    const { credentials, warnings } = gate({ basic: { file } }, () => now);
    expect(await credentials!.authorize(basic('prom:s3cret-pw'))).toBe(true);
    writeFileSync(file, 'prom:\n');
    now += RECHECK_MS;
    expect(await credentials!.authorize(basic('prom:'))).toBe(false);
    expect(await credentials!.authorize(basic('prom:s3cret-pw'))).toBe(false);
    writeFileSync(file, '\n\n');
    now += RECHECK_MS;
    expect(await credentials!.authorize(basic('prom:s3cret-pw'))).toBe(false);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^TUTOR_OTEL_AUTH_BASIC_FILE names a file that is not user:password/);
    expect(warnings[1]).toMatch(/^TUTOR_OTEL_AUTH_BASIC_FILE names an empty file/);
    expect(warnings.join('\n')).not.toContain('prom');
  });

  it('many requests while a check is due share one look at the file', async () => {
    let now = 0;
    const file = path.join(dir, 'shared');
    writeFileSync(file, 'a-token');
    const { credentials } = gate({ bearer: { file } }, () => now);
    writeFileSync(file, 'b-token');
    now += RECHECK_MS;
    const answers = await Promise.all(Array.from({ length: 50 }, () => credentials!.authorize('Bearer b-token')));
    expect(answers.every(Boolean)).toBe(true);
  });
});
