// Summaries of a V8 .cpuprofile: self time per function and per package, and inclusive time per
// package (a sample counts once for every package on its stack).
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
  for (const [id, ms] of selfByNode) {
    const node = nodes.get(id);
    const bucket = bucketOf(node.callFrame, repo);
    selfByBucket.set(bucket, (selfByBucket.get(bucket) ?? 0) + ms);
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
  };
}
