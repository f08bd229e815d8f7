/**
 * SIGTERM while requests are in flight: they finish as they would without the agent, and the
 * process exits within the deadline, with traces on and their destination down.
 */
import { describe, expect, it } from 'vitest';
import { agentReady, startAgentApp } from '../helpers/agent-process';
import { freePort, waitFor } from '../helpers/ports';

describe('SIGTERM during load', () => {
  for (const withAgent of [false, true]) {
    it(`in-flight requests complete and the app exits 0 (${withAgent ? 'with' : 'without'} the agent)`, async () => {
      const app = await startAgentApp({
        fixture: 'graceful-slow-server.cjs',
        preload: withAgent ? ['import'] : 'none',
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`, TUTOR_OTEL_SHUTDOWN_TIMEOUT_MS: '2000' },
      });
      try {
        if (withAgent) await agentReady(app);
        const inFlight = Array.from({ length: 10 }, () => app.request('/slow').then(async (r) => [r.status, await r.text()] as const));
        await new Promise((r) => setTimeout(r, 200)); // requests are being handled
        const signalledAt = Date.now();
        app.child.kill('SIGTERM');
        const results = await Promise.all(inFlight);
        for (const result of results) expect(result).toEqual([200, 'slow done']);
        expect(await waitFor(() => app.exited, 10_000, 'exit')).toEqual({ code: 0, signal: null });
        // The app's own close takes ~0.8 s; the agent's flush runs beside it, bounded by 2 s.
        expect(Date.now() - signalledAt).toBeLessThan(8000);
        if (withAgent) expect(app.agentLines.filter((l) => /error/.test(l))).toEqual([]);
      } finally {
        await app.stop();
      }
    });
  }
});
