/**
 * The package as a user installs it: `node --import @tutor/otel-agent` resolves through the
 * package's `exports`, the service name defaults to the app's package.json name, and the
 * published files are the compiled agent only.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentReady, REPO, startAgentApp } from '../helpers/agent-process';
import { total } from '../helpers/prometheus-text';

describe('installed package', () => {
  const appDir = mkdtempSync(path.join(tmpdir(), 'otel-agent-user-'));
  afterAll(() => rmSync(appDir, { recursive: true, force: true }));

  it('preloads by package name and names the service after the app', async () => {
    writeFileSync(path.join(appDir, 'package.json'), JSON.stringify({ name: 'user-app', version: '3.2.1', type: 'module' }));
    mkdirSync(path.join(appDir, 'node_modules/@tutor'), { recursive: true });
    symlinkSync(REPO, path.join(appDir, 'node_modules/@tutor/otel-agent'), 'dir');
    writeFileSync(
      path.join(appDir, 'server.mjs'),
      `import http from 'node:http';
       const server = http.createServer((req, res) => res.end('hi'));
       server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\\n'));`,
    );
    for (const flag of ['--import', '--require']) {
      // The specifier resolves from the app's directory, through the package's `exports`.
      const app = await startAgentApp({ fixture: path.join(appDir, 'server.mjs'), preload: 'none', nodeArgs: [flag, '@tutor/otel-agent'], cwd: appDir });
      try {
        await agentReady(app);
        expect((await app.request('/')).status).toBe(200);
        const samples = await app.scrape();
        expect(total(samples, 'http_requests_total', { service: 'user-app', route: '/', status_code: '200' })).toBe(1);
        expect((await app.endpoint('/health')).body).toMatchObject({ service: 'user-app', version: '3.2.1' });
      } finally {
        await app.stop();
      }
    }
  });

  it('publishes dist/ and the licence only: no sources, tests or source maps', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain('dist/register.js');
    expect(files).toContain('dist/register.d.ts');
    expect(files).toContain('LICENSE');
    for (const file of files) {
      expect(file, file).toMatch(/^(dist\/.*\.(js|d\.ts)|dist\/THIRD-PARTY-NOTICES|dist\/sbom\.cdx\.json|README\.md|package\.json|LICENSE)$/);
    }
  });
});
