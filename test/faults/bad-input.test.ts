/**
 * Malformed and hostile HTTP input gets exactly the answers it gets without the agent, and the
 * `route` label stays bounded under a flood of distinct paths.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { select, total } from '../helpers/prometheus-text';

/** Sends raw bytes, returns the status line (or what the server did instead). */
function rawStatusLine(port: number, payload: Buffer | string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(5000, () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', () => resolve(data.split('\r\n')[0] || 'reset'));
    socket.on('close', () => resolve(data.split('\r\n')[0] || 'closed without answer'));
    socket.write(payload);
  });
}

const hugeHeader = 'x'.repeat(20_000);
const CASES: Array<[string, Buffer | string]> = [
  ['invalid % escape in a path parameter', 'GET /items/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  [
    'invalid UTF-8 bytes in the path',
    Buffer.concat([Buffer.from('GET /items/'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')]),
  ],
  ['a header over 16 KiB', `GET /plain HTTP/1.1\r\nHost: x\r\nX-Big: ${hugeHeader}\r\nConnection: close\r\n\r\n`],
  ['a malformed request line', 'NOT A REQUEST\r\n\r\n'],
  [
    'a JSON body that is not JSON',
    'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{not json',
  ],
  ['a path with dot segments', 'GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ['an unknown method', 'BREW /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ['an absolute-form request target', 'GET http://example.test/items/7?q=1 HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n'],
  ['a header with a control character', 'GET /plain HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\nConnection: close\r\n\r\n'],
  ['HTTP/1.0 without a Host', 'GET /plain HTTP/1.0\r\n\r\n'],
];

describe('malformed HTTP', () => {
  let bare: AgentApp;
  let agent: AgentApp;

  beforeAll(async () => {
    bare = await startAgentApp({ fixture: 'input-app.cjs', preload: 'none' });
    agent = await startAgentApp({ fixture: 'input-app.cjs' });
    await agentReady(agent);
  });

  afterAll(async () => {
    await bare?.stop();
    await agent?.stop();
  });

  for (const [name, payload] of CASES) {
    it(`answers ${name} exactly as without the agent`, async () => {
      const without = await rawStatusLine(bare.appPort, payload);
      const withAgent = await rawStatusLine(agent.appPort, payload);
      expect(withAgent).toBe(without);
    });
  }

  it('stays up, quiet, and keeps route labels clean', async () => {
    expect((await agent.request('/plain')).status).toBe(200);
    expect(agent.exited).toBeUndefined();
    expect(agent.agentLines.filter((l) => !l.includes('info:'))).toEqual([]);
    const routes = select(await agent.scrape(), 'http_requests_total').map((s) => s.labels.route ?? '');
    for (const route of routes) expect(route).toMatch(/^(\/[\w:.*-]*)+$|^__\w+__$/);
  });
});

describe('cardinality attack', () => {
  let app: AgentApp;
  beforeAll(async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs' });
    await agentReady(app);
  });
  afterAll(async () => app?.stop());

  it('keeps series per metric under the cap and memory flat through 100,000 distinct paths', async () => {
    const agentPool = new http.Agent({ keepAlive: true, maxSockets: 32 });
    const word = (n: number) => n.toString(26).replace(/\d/g, (d) => 'qrstuvwxyz'[Number(d)] as string); // letters only: not folded as ids
    let next = 0;
    const send = (i: number) =>
      new Promise<void>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: app.appPort, path: `/page-${word(i)}/view`, agent: agentPool }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
      });
    const drive = async (until: number) =>
      Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < until) await send(next++);
        }),
      );

    // Memory is read at three points: the heap grows until V8's first full collections whatever
    // the agent does, so "flat" means the second half of the flood adds (almost) nothing.
    await drive(10_000);
    const early = await app.scrape();
    await drive(55_000);
    const middle = await app.scrape();
    await drive(100_000);
    agentPool.destroy();
    const late = await app.scrape();
    console.log(
      'cardinality flood memory MB (rss, heap used) at 10k/55k/100k:',
      [early, middle, late].map((s) =>
        [total(s, 'process_resident_memory_bytes'), total(s, 'nodejs_heap_size_used_bytes')].map((b) => Math.round(b / 1e6)),
      ),
    );

    expect(total(late, 'http_requests_total')).toBe(100_000);
    const routes = new Set(select(late, 'http_requests_total').map((s) => s.labels.route));
    expect(routes.size).toBeLessThanOrEqual(201); // TUTOR_OTEL_HTTP_ROUTE_LIMIT (200) + __overflow__
    expect(routes.has('__overflow__')).toBe(true);
    expect(select(late, 'http_request_duration_seconds_count').length).toBeLessThanOrEqual(201);
    const secondHalf = total(late, 'process_resident_memory_bytes') - total(middle, 'process_resident_memory_bytes');
    expect(secondHalf).toBeLessThan(30 * 1024 * 1024);
    expect(total(late, 'nodejs_heap_size_used_bytes')).toBeLessThan(total(early, 'nodejs_heap_size_used_bytes') + 30 * 1024 * 1024);
  });
});
