/**
 * Configuration an attacker (or an accident) controls must not open the endpoints, hang start-up
 * or eat the app's memory. Real processes: the app preloaded with the agent as a user runs it.
 *
 * - malformed or blank credentials lock /metrics and /health (401) with one warning naming the
 *   variable, never the value; /live stays open;
 * - a rotated token file is picked up (old token refused, new accepted) and a deleted one locks;
 * - the auth scheme is case-insensitive;
 * - a FIFO, /dev/zero, a 15 MB file or a 1e308 price as price file or token file: the app answers
 *   at once, with one warning naming the variable, and its memory does not grow.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { waitFor } from '../helpers/ports';

let app: AgentApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});
const dir = mkdtempSync(path.join(tmpdir(), 'otel-agent-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const status = async (url: string, authorization?: string) => (await fetch(url, { headers: authorization ? { authorization } : {} })).status;
const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

function file(name: string, content: string): string {
  const at = path.join(dir, name);
  writeFileSync(at, content);
  return at;
}

/** Resident memory of a process, from /proc (Linux). */
function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return kb ? Number(kb[1]) / 1024 : 0;
}

const RSS_CEILING_MB = 400;

/**
 * Starts the app and waits for the agent's /live, failing fast (rather than after the helper's 30 s,
 * or after the machine runs out of memory) when start-up hangs or memory runs away.
 */
async function startWithin(env: Record<string, string>, limitMs = 5000): Promise<{ app: AgentApp; ms: number; peakMb: number }> {
  const started = performance.now();
  const startedApp = await startAgentApp({ fixture: 'plain-server.cjs', env, waitForListening: false });
  app = startedApp;
  let peakMb = 0;
  await waitFor(
    async () => {
      if (startedApp.exited) throw new Error(`the app exited: ${startedApp.stderr}`);
      peakMb = Math.max(peakMb, rssMb(startedApp.child.pid!));
      if (peakMb > RSS_CEILING_MB) {
        startedApp.child.kill('SIGKILL');
        throw new Error(`the app grew to ${peakMb.toFixed(0)} MB before answering`);
      }
      return (await fetch(`${startedApp.metricsUrl}/live`).catch(() => undefined))?.status === 200 ? true : undefined;
    },
    limitMs,
    `/live within ${limitMs} ms`,
  ).catch((error: unknown) => {
    startedApp.child.kill('SIGKILL');
    throw new Error(`${String(error)} (peak ${peakMb.toFixed(0)} MB)`);
  });
  const ms = performance.now() - started;
  startedApp.appPort = await waitFor(
    () => {
      const m = /\{"listening":(\d+)\}/.exec(startedApp.stdout);
      return m ? Number(m[1]) : undefined;
    },
    limitMs,
    'the app to listen',
  );
  return { app: startedApp, ms, peakMb: Math.max(peakMb, rssMb(startedApp.child.pid!)) };
}

function warningsNaming(app: AgentApp, variable: string): string[] {
  return app.agentLines.filter((line) => line.includes(variable));
}

describe('malformed or blank credentials lock the endpoints', () => {
  const blankFile = () => file('blank', ' \n\n');
  it.each([
    ['TUTOR_OTEL_AUTH_BASIC', () => 'opsadmin7', 'opsadmin7'],
    ['TUTOR_OTEL_AUTH_BASIC', () => 'opsadmin7:', 'opsadmin7'],
    ['TUTOR_OTEL_AUTH_BASIC', () => ':', undefined],
    ['TUTOR_OTEL_AUTH_BASIC', () => ':hunter2pw', 'hunter2pw'],
    ['TUTOR_OTEL_AUTH_TOKEN', () => '', undefined],
    ['TUTOR_OTEL_AUTH_TOKEN', () => '   ', undefined],
    ['TUTOR_OTEL_AUTH_TOKEN_FILE', blankFile, undefined],
    ['TUTOR_OTEL_AUTH_BASIC_FILE', blankFile, undefined],
    ['TUTOR_OTEL_AUTH_BASIC_FILE', () => file('basic-no-password', 'opsadmin7:\n'), 'opsadmin7'],
  ])('%s malformed (case %#): 401 on /metrics and /health, /live 200, one warning without the value', async (variable, value, secret) => {
    app = await startAgentApp({ fixture: 'plain-server.cjs', env: { [variable]: value() } });
    await agentReady(app);
    for (const endpoint of ['/metrics', '/health']) {
      expect(await status(app.metricsUrl + endpoint)).toBe(401);
      for (const header of ['Bearer ', 'Basic ', basic('opsadmin7:'), basic(':'), basic('opsadmin7'), basic(':hunter2pw')]) {
        expect(await status(app.metricsUrl + endpoint, header)).toBe(401);
      }
    }
    expect(await status(`${app.metricsUrl}/live`)).toBe(200);
    expect((await app.request('/')).status).toBe(200);
    expect(warningsNaming(app, variable)).toHaveLength(1);
    expect(warningsNaming(app, variable)[0]).toMatch(/answer 401/);
    if (secret) expect(app.stderr).not.toContain(secret);
  });
});

describe('credential files are re-read', () => {
  it('a rotated token file: the old token is refused and the new one accepted within ~1 s; deleted: 401', async () => {
    const tokenFile = file('rotating-token', 'old-token-1\n');
    app = await startAgentApp({ fixture: 'plain-server.cjs', env: { TUTOR_OTEL_AUTH_TOKEN_FILE: tokenFile } });
    await agentReady(app);
    const metrics = `${app.metricsUrl}/metrics`;
    expect(await status(metrics, 'Bearer old-token-1')).toBe(200);
    expect(await status(metrics, 'Bearer new-token-2')).toBe(401);

    // Rotate as a mounted secret does: a new file renamed over the old one.
    writeFileSync(`${tokenFile}.tmp`, 'new-token-2\n');
    renameSync(`${tokenFile}.tmp`, tokenFile);
    const rotatedAt = performance.now();
    await waitFor(async () => ((await status(metrics, 'Bearer new-token-2')) === 200 ? true : undefined), 3000, 'the new token to be accepted');
    const rotationMs = performance.now() - rotatedAt;
    expect(rotationMs).toBeLessThan(2500);
    expect(await status(metrics, 'Bearer old-token-1')).toBe(401);
    expect(await status(`${app.metricsUrl}/health`, 'Bearer old-token-1')).toBe(401);
    expect(await status(`${app.metricsUrl}/health`, 'Bearer new-token-2')).toBe(200);

    unlinkSync(tokenFile);
    await waitFor(async () => ((await status(metrics, 'Bearer new-token-2')) === 401 ? true : undefined), 3000, 'the deleted file to lock');
    expect(await status(`${app.metricsUrl}/health`, 'Bearer new-token-2')).toBe(401);
    expect(await status(`${app.metricsUrl}/live`)).toBe(200);
    await new Promise((r) => setTimeout(r, 1200)); // another recheck: still one warning
    expect(await status(metrics, 'Bearer new-token-2')).toBe(401);
    expect(warningsNaming(app, 'TUTOR_OTEL_AUTH_TOKEN_FILE')).toHaveLength(1);
    expect(app.stderr).not.toContain('token-2');
    console.log(`token rotation picked up after ${rotationMs.toFixed(0)} ms`);
  });
});

describe('the Authorization scheme', () => {
  it('is matched case-insensitively (RFC 7235); the credentials are not', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs', env: { TUTOR_OTEL_AUTH_TOKEN: 'tok-42', TUTOR_OTEL_AUTH_BASIC: 'prom:pa55' } });
    await agentReady(app);
    const metrics = `${app.metricsUrl}/metrics`;
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) expect(await status(metrics, `${scheme} tok-42`)).toBe(200);
    for (const scheme of ['Basic', 'basic', 'BASIC']) expect(await status(metrics, `${scheme} ${Buffer.from('prom:pa55').toString('base64')}`)).toBe(200);
    expect(await status(metrics, 'bearer TOK-42')).toBe(401);
    expect(await status(metrics, 'Basic tok-42')).toBe(401);
  });
});

describe('hostile files at start-up', () => {
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const results: string[] = [];
  afterAll(() => console.log(results.join('\n')));

  let baselineMb = 0;
  it('baseline: the same app with no such file', async () => {
    const started = await startWithin({});
    baselineMb = started.peakMb;
    results.push(`baseline: /live after ${started.ms.toFixed(0)} ms, ${started.peakMb.toFixed(0)} MB`);
  });

  const prices = (price: number) => file(`prices-${price}.json`, JSON.stringify({ version: 'v', models: { m: { input: price, output: 1 } } }));
  const hugePrices = () => {
    const models: Record<string, unknown> = {};
    for (let i = 0; i < 400_000; i++) models[`model-${i}`] = { input: 1, output: 2 };
    const at = file('huge-prices.json', JSON.stringify({ version: 'huge', models }));
    expect(readFileSync(at).length).toBeGreaterThan(15_000_000);
    return at;
  };
  it.each([
    ['TUTOR_OTEL_AI_PRICES_FILE', 'a FIFO', () => fifo, /not a regular file \(a FIFO\)/],
    ['TUTOR_OTEL_AI_PRICES_FILE', '/dev/zero', () => '/dev/zero', /not a regular file \(a character device\)/],
    ['TUTOR_OTEL_AI_PRICES_FILE', 'a 15 MB file', hugePrices, /larger than the 1 MiB limit/],
    ['TUTOR_OTEL_AI_PRICES_FILE', 'a price of 1e308', () => prices(1e308), /no valid "input" price/],
    ['TUTOR_OTEL_AUTH_TOKEN_FILE', 'a FIFO', () => fifo, /not a regular file \(a FIFO\)/],
    ['TUTOR_OTEL_AUTH_TOKEN_FILE', '/dev/zero', () => '/dev/zero', /not a regular file \(a character device\)/],
    ['TUTOR_OTEL_AUTH_BASIC_FILE', 'a FIFO', () => fifo, /not a regular file \(a FIFO\)/],
  ])('%s as %s: the app answers within 5 s, memory flat, one warning naming the variable', async (variable, what, value, reason) => {
    const started = await startWithin({ [variable]: value() });
    results.push(`${variable} = ${what}: /live after ${started.ms.toFixed(0)} ms, ${started.peakMb.toFixed(0)} MB`);
    expect(started.ms).toBeLessThan(5000);
    expect(started.peakMb - baselineMb).toBeLessThan(40);
    const warnings = warningsNaming(started.app, variable);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(reason);
    expect((await started.app.request('/')).status).toBe(200);
    if (variable.startsWith('TUTOR_OTEL_AUTH')) expect(await status(`${started.app.metricsUrl}/metrics`)).toBe(401);
    else expect(await status(`${started.app.metricsUrl}/metrics`)).toBe(200);
  });
});
