// Micro-benchmark: what one breadcrumb costs on the hot path, per operation (start + end), inside
// a request (the record's AsyncLocalStorage entered), against the same channel without the
// breadcrumb consumer. Bundles the agent's own modules from src/ with esbuild, in memory.
//
//   npm exec -- node test/bench/breadcrumbs.mjs [iterations]
import { build } from 'esbuild';
import * as dc from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const entry = `
export { OperationChannel } from './src/instrumentations/operation-channel';
export { ServerRequests } from './src/http/requests';
export { Breadcrumbs, recordPgQueries, recordRedisCommands, recordHttpClients } from './src/sentry/breadcrumbs';
`;
const { outputFiles } = await build({
  stdin: { contents: entry, resolveDir: repo, loader: 'ts' },
  bundle: true,
  write: false,
  platform: 'node',
  format: 'cjs',
  external: ['@sentry/*'],
  logLevel: 'error',
});
const module = { exports: {} };
new Function('module', 'exports', 'require', outputFiles[0].text)(module, module.exports, createRequire(path.join(repo, 'package.json')));
const { OperationChannel, ServerRequests, Breadcrumbs, recordPgQueries, recordRedisCommands, recordHttpClients } = module.exports;

const N = Number(process.argv[2] ?? 500_000);
const requests = new ServerRequests();
const crumbs = new Breadcrumbs(requests, 50);
const record = { request: {}, response: {}, startedAt: performance.now(), context: undefined, span: undefined, error: undefined };

function time(label, channel, makeOp) {
  const run = () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const op = makeOp(i);
      channel.start(op);
      channel.end(op, undefined);
    }
    return Number(process.hrtime.bigint() - t0) / N;
  };
  run(); // warm up
  const samples = [run(), run(), run()].sort((a, b) => a - b);
  return { label, ns: samples[1] };
}

const pgOp = (i) => ({ client: {}, text: 'SELECT id, title FROM lessons WHERE id = $1', operation: 'SELECT', startedAt: performance.now() + i * 0 });
const redisOp = () => ({ client: {}, operation: 'GET', args: ['session:abc'], reply: null });

const results = [];
requests.currentRecord = () => record; // inside a request, as the record's AsyncLocalStorage answers
// The AsyncLocalStorage lookup itself, measured on its own below.
for (const [name, make, subscribe] of [
  ['pg query', pgOp, recordPgQueries],
  ['ioredis command', redisOp, recordRedisCommands],
]) {
  const bare = new OperationChannel(name);
  bare.subscribe({ start() {}, end() {} });
  const withCrumbs = new OperationChannel(name);
  withCrumbs.subscribe({ start() {}, end() {} });
  subscribe(withCrumbs, crumbs);
  const a = time(`${name}, channel without breadcrumbs`, bare, make);
  const b = time(`${name}, channel with breadcrumbs`, withCrumbs, make);
  results.push(a, b, { label: `${name}: breadcrumb cost`, ns: b.ns - a.ns });
}

// An outgoing HTTP request: the three diagnostics channel messages the breadcrumb consumer reads.
const start = dc.channel('http.client.request.start');
const finish = dc.channel('http.client.response.finish');
const http = () => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    const request = { method: 'GET', protocol: 'https:', host: 'api.example.com', path: '/v1/lessons/7?token=x', agent: {} };
    start.publish({ request });
    finish.publish({ request, response: { statusCode: 200 } });
  }
  return Number(process.hrtime.bigint() - t0) / N;
};
const httpBare = [http(), http(), http()].sort((a, b) => a - b)[1];
recordHttpClients(crumbs);
http();
const httpCrumbs = [http(), http(), http()].sort((a, b) => a - b)[1];
results.push({ label: 'outgoing HTTP: breadcrumb cost', ns: httpCrumbs - httpBare });

// The AsyncLocalStorage lookup the real consumer makes per operation.
delete requests.currentRecord;
requests.trackCurrentRequest();
const als = () => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) requests.currentRecord();
  return Number(process.hrtime.bigint() - t0) / N;
};
als();
results.push({ label: 'AsyncLocalStorage lookup (once per operation)', ns: [als(), als(), als()].sort((a, b) => a - b)[1] });

for (const { label, ns } of results) process.stdout.write(`${label.padEnd(48)} ${(ns / 1000).toFixed(3)} µs\n`);
