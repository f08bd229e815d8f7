// Summaries of a V8 .cpuprofile: self time per function and per package, inclusive time per
// package (a sample counts once for every package on its stack), and the agent's self time by the
// module of its bundle it comes from.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where a call frame's code comes from: a package, the agent, the app, Node's own code, or V8. */
export function bucketOf(frame, repo) {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) {
    const name = url.slice(5);
    if (name.startsWith('internal/modules') || name === 'internal/vm' || name.startsWith('internal/process/esm')) return 'node: module loading';
    return `node: ${name.replace(/^internal\//, '').split('/')[0]}`;
  }
  let file = url;
  try {
    if (url.startsWith('file:')) file = fileURLToPath(url);
  } catch {
    // keep the URL
  }
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + 13).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  // Another build of the agent (profile.mjs --agent) is the agent too.
  if (file.endsWith(`${path.sep}dist${path.sep}register.js`)) return 'agent';
  const relative = path.relative(repo, file);
  if (relative.startsWith('dist/') || relative === 'register.js') return 'agent';
  if (relative.startsWith('test/bench/')) return `app (${relative})`;
  return relative.startsWith('..') ? '(other)' : relative;
}

/**
 * The bundle's modules by first line: esbuild opens each module it inlines with a comment naming
 * its source (`// src/tracing/agent-span.ts`, `// node_modules/@opentelemetry/core/...`).
 */
const bundleModules = new Map();
function modulesOf(url) {
  let modules = bundleModules.get(url);
  if (modules) return modules;
  modules = [];
  try {
    const lines = readFileSync(url.startsWith('file:') ? fileURLToPath(url) : url, 'utf8').split('\n');
    lines.forEach((line, index) => {
      const match = /^\/\/ ((?:src|node_modules)\/\S+|register\.ts)$/.exec(line);
      if (match) modules.push([index, match[1]]);
    });
  } catch {
    // unreadable: every frame stays "agent"
  }
  bundleModules.set(url, modules);
  return modules;
}

/** Which module of the agent's bundle a frame's code comes from: a source file, or a bundled package. */
export function agentModuleOf(frame) {
  const modules = modulesOf(frame.url);
  let low = 0;
  let high = modules.length - 1;
  let found;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (modules[middle][0] <= frame.lineNumber) {
      found = modules[middle][1];
      low = middle + 1;
    } else high = middle - 1;
  }
  if (found === undefined) return '(bundle)';
  const nm = found.lastIndexOf('node_modules/');
  if (nm < 0) return found;
  const parts = found.slice(nm + 13).split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

export function summarizeProfile(profile, repo) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const selfByNode = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000; // ms
    total += dt;
    selfByNode.set(profile.samples[i], (selfByNode.get(profile.samples[i]) ?? 0) + dt);
  }
  const selfByBucket = new Map();
  const inclusiveByBucket = new Map();
  const selfByFunction = new Map();
  const selfByAgentModule = new Map();
  for (const [id, ms] of selfByNode) {
    const node = nodes.get(id);
    const bucket = bucketOf(node.callFrame, repo);
    selfByBucket.set(bucket, (selfByBucket.get(bucket) ?? 0) + ms);
    if (bucket === 'agent') {
      const module = agentModuleOf(node.callFrame);
      selfByAgentModule.set(module, (selfByAgentModule.get(module) ?? 0) + ms);
    }
    const fn = `${node.callFrame.functionName || '(anonymous)'} ${bucket}${node.callFrame.url ? `:${path.basename(node.callFrame.url)}:${node.callFrame.lineNumber + 1}` : ''}`;
    selfByFunction.set(fn, (selfByFunction.get(fn) ?? 0) + ms);
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const b = bucketOf(nodes.get(at).callFrame, repo);
      if (b.startsWith('(') || seen.has(b)) continue;
      seen.add(b);
      inclusiveByBucket.set(b, (inclusiveByBucket.get(b) ?? 0) + ms);
    }
  }
  const top = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  return {
    totalMs: total,
    selfAll: [...selfByBucket],
    self: top(selfByBucket, 25),
    inclusive: top(inclusiveByBucket, 25),
    functions: top(selfByFunction, 30),
    agentModules: top(selfByAgentModule, 25),
  };
}
