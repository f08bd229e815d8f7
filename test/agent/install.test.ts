/**
 * `npm install @tutor/otel-agent` as a user runs it: the package is packed, installed from the
 * tarball into a fresh app (its few runtime dependencies and its @opentelemetry/api peer from the
 * registry or npm's cache), and then measured and run. The install stays small, `npm ls` is clean, the licence, notices and
 * SBOM are in it, each bundled package is in the bundle once, and Sentry works when the app
 * installs @sentry/node beside the agent (an optional peer) and says what to do when it does not.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, REPO, startAgentApp } from '../helpers/agent-process';
import { waitFor } from '../helpers/ports';
import { total } from '../helpers/prometheus-text';
import { SentryIngest } from '../helpers/sentry-ingest';

/** The installed footprint without Sentry may not pass this. */
const FOOTPRINT_BUDGET_BYTES = 15 * 1024 * 1024;
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

function bytesUnder(dir: string): number {
  let sum = 0;
  for (const entry of readdirSync(dir)) {
    const file = path.join(dir, entry);
    const stat = lstatSync(file);
    sum += stat.isDirectory() ? bytesUnder(file) : stat.size;
  }
  return sum;
}

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000 });
}

describe('npm install from the packed tarball', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'otel-agent-install-'));
  const appDir = path.join(work, 'app');
  const installed = path.join(appDir, 'node_modules/@tutor/otel-agent');

  beforeAll(() => {
    const packed = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], REPO))[0].filename as string;
    execFileSync('mkdir', [appDir]);
    writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'installed-app', version: '1.0.0', private: true }));
    writeFileSync(
      path.join(appDir, 'server.cjs'),
      `const http = require('node:http');
       const { metrics } = require('@opentelemetry/api');
       const hits = metrics.getMeter('installed-app').createCounter('installed_app_hits');
       const server = http.createServer((req, res) => { hits.add(1); res.statusCode = req.url === '/fail' ? 500 : 200; res.end('ok'); });
       server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\\n'));`,
    );
    npm(['install', ...NPM_FLAGS, path.join(work, packed)], appDir);
  }, 300_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(`stays within ${FOOTPRINT_BUDGET_BYTES / 1024 / 1024} MB installed; of OpenTelemetry only the API (shared with the app), no Sentry`, () => {
    const bytes = bytesUnder(path.join(appDir, 'node_modules'));
    console.log(`installed footprint: ${(bytes / 1024 / 1024).toFixed(1)} MB`);
    expect(bytes).toBeLessThanOrEqual(FOOTPRINT_BUDGET_BYTES);
    expect(readdirSync(path.join(appDir, 'node_modules/@opentelemetry'))).toEqual(['api']);
    expect(existsSync(path.join(appDir, 'node_modules/@sentry'))).toBe(false);
  });

  it('leaves npm ls clean', () => {
    const ls = spawnSync('npm', ['ls', '--all'], { cwd: appDir, encoding: 'utf8' });
    expect(ls.status, ls.stdout + ls.stderr).toBe(0);
  });

  it('ships the licence, the third-party notices and an SBOM naming each bundled package once', () => {
    expect(readFileSync(path.join(installed, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    const notices = readFileSync(path.join(installed, 'dist/THIRD-PARTY-NOTICES'), 'utf8');
    const sbom = JSON.parse(readFileSync(path.join(installed, 'dist/sbom.cdx.json'), 'utf8'));
    expect(sbom.bomFormat).toBe('CycloneDX');
    const bundled: Array<{ name: string; version: string }> = sbom.components.filter((c: { properties: Array<{ name: string; value: string }> }) =>
      c.properties.some((p) => p.name === 'cdx:npm:package:bundled' && p.value === 'true'),
    );
    const names = bundled.map((c) => c.name);
    expect(names).toContain('@opentelemetry/sdk-metrics');
    expect(new Set(names).size).toBe(names.length);
    for (const { name, version } of bundled) expect(notices).toContain(`${name}@${version} (`);
    // The runtime dependencies are in the SBOM too, as not bundled.
    expect(sbom.components.map((c: { name: string }) => c.name)).toContain('import-in-the-middle');
  });

  it('preloads from the installed copy; SENTRY_DSN without @sentry/node is one warning naming what to install', async () => {
    const ingest = new SentryIngest();
    const dsn = await ingest.start();
    const app = await startAgentApp({
      fixture: path.join(appDir, 'server.cjs'),
      preload: 'none',
      nodeArgs: ['--import', '@tutor/otel-agent'],
      cwd: appDir,
      env: { SENTRY_DSN: dsn },
    });
    try {
      await agentReady(app);
      expect((await app.request('/fail')).status).toBe(500);
      const samples = await app.scrape();
      expect(total(samples, 'http_requests_total', { service: 'installed-app', status_code: '500' })).toBe(1);
      // The app's own counter, made with the @opentelemetry/api installed beside the agent.
      expect(total(samples, 'installed_app_hits_total', { service: 'installed-app' })).toBe(1);
      await waitFor(() => (app.agentLines.some((l) => l.includes('@sentry/node')) ? true : undefined), 10_000, 'the Sentry warning');
      expect(app.agentLines.filter((l) => l.includes('npm install @sentry/node'))).toHaveLength(1);
    } finally {
      await app.stop();
      await ingest.stop();
    }
  });

  it('sends errors to Sentry once the app installs @sentry/node beside the agent', async () => {
    npm(['install', ...NPM_FLAGS, '@sentry/node@^11.12.0'], appDir);
    const ls = spawnSync('npm', ['ls'], { cwd: appDir, encoding: 'utf8' });
    expect(ls.status, ls.stdout + ls.stderr).toBe(0);
    const ingest = new SentryIngest();
    const dsn = await ingest.start();
    const app = await startAgentApp({
      fixture: path.join(appDir, 'server.cjs'),
      preload: 'none',
      nodeArgs: ['--require', '@tutor/otel-agent'],
      cwd: appDir,
      env: { SENTRY_DSN: dsn },
    });
    try {
      await agentReady(app);
      expect((await app.request('/fail')).status).toBe(500);
      await waitFor(() => (ingest.events().length > 0 ? true : undefined), 30_000, 'a Sentry event');
      expect(app.agentLines.join('\n')).not.toMatch(/Sentry SDK could not be loaded|not installed/);
    } finally {
      await app.stop();
      await ingest.stop();
    }
  }, 300_000);
});
