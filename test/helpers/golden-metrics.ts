/**
 * Normalises a Prometheus text scrape for golden comparison (test/agent/metrics-golden.test.ts):
 * what stays is what the agent's refactors must not change, what goes (or turns into a
 * placeholder) is what differs from run to run by nature.
 *
 * - Dropped whole (HELP, TYPE and samples): the runtime and process families, whose values are
 *   readings of the machine, not counts of the app's traffic: `nodejs_*` (heap, external memory,
 *   event-loop lag, GC pauses, version), `process_*` (CPU seconds, RSS, start time, the cgroup
 *   memory limit, present or not by machine), and, should they ever appear, the SDK's own
 *   `otel_*`/`target_info`/`otel_scope_info` series. See DROPPED_FAMILIES.
 * - Histograms of times (TYPE histogram, name ending `_seconds` or containing `duration` or
 *   `time_to_first_token`): `_count` and the `+Inf` bucket (which is the count) stay exact; `_sum`
 *   and every finite bucket's value become `<time>`. The series, their labels and the bucket
 *   bounds (`le`) all stay.
 * - Everything else is exact: counters, gauges (`active_connections`), token histograms
 *   (`gen_ai_client_token_usage`), cost counters, HELP and TYPE text.
 * - Order: families by name, each with its HELP/TYPE lines first, then its samples sorted by
 *   name, labels, and numerically by `le`. Labels inside a sample are sorted by name (Prometheus
 *   gives their order no meaning). Timestamps, if any, are dropped.
 */

export const TIME_PLACEHOLDER = '<time>';

/** Families dropped whole, with why; the first match wins. */
export const DROPPED_FAMILIES: Array<{ pattern: RegExp; why: string }> = [
  { pattern: /^nodejs_/, why: 'Node runtime readings: heap, external memory, event-loop lag, GC pauses, version' },
  { pattern: /^process_/, why: 'process readings: CPU seconds, RSS, start time, cgroup memory limit (machine-dependent)' },
  { pattern: /^(otel_|target_info$|otel_scope_info$)/, why: "the SDK's own telemetry and resource/scope info, not the app's traffic" },
];

/** Histograms whose observations are durations. */
export function isTimeHistogram(family: string): boolean {
  return /_seconds$/.test(family) || /duration/.test(family) || /time_to_first_token/.test(family);
}

interface Family {
  name: string;
  type: string | undefined;
  meta: string[];
  samples: Array<{ name: string; labels: Array<[string, string]>; value: string }>;
}

const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', '_info'];

export function normaliseMetrics(text: string): string {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: undefined, meta: [], samples: [] }));
    return f;
  };

  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*)(?: (.*))?$/.exec(line);
      if (!m) continue; // a free comment
      const f = family(m[2] as string);
      if (m[1] === 'TYPE') f.type = m[3];
      f.meta.push(line);
      continue;
    }
    const sample = parseSample(line);
    family(familyOf(sample.name, families)).samples.push(sample);
  }

  const out: string[] = [];
  for (const f of [...families.values()].sort((a, b) => compare(a.name, b.name))) {
    if (DROPPED_FAMILIES.some((d) => d.pattern.test(f.name))) continue;
    const timed = f.type === 'histogram' && isTimeHistogram(f.name);
    const order = (line: string) => (line.startsWith('# HELP') ? 0 : line.startsWith('# TYPE') ? 1 : 2);
    out.push(...[...f.meta].sort((a, b) => order(a) - order(b)));
    const lines = f.samples
      .map((s) => {
        const labels = [...s.labels].sort(([a], [b]) => (a === 'le' ? 1 : b === 'le' ? -1 : compare(a, b)));
        const le = s.labels.find(([k]) => k === 'le')?.[1];
        let value = s.value;
        if (timed && (s.name.endsWith('_sum') || (s.name.endsWith('_bucket') && le !== '+Inf'))) value = TIME_PLACEHOLDER;
        const key = `${s.name}{${labels
          .filter(([k]) => k !== 'le')
          .map(([k, v]) => `${k}="${v}"`)
          .join(',')}}`;
        const rendered = `${s.name}${labels.length ? `{${labels.map(([k, v]) => `${k}="${v}"`).join(',')}}` : ''} ${value}`;
        return { key, le: le === undefined ? -Infinity : le === '+Inf' ? Infinity : Number(le), rendered };
      })
      .sort((a, b) => compare(a.key, b.key) || a.le - b.le);
    out.push(...lines.map((l) => l.rendered));
  }
  return out.join('\n') + '\n';
}

function familyOf(sampleName: string, families: Map<string, Family>): string {
  if (families.has(sampleName)) return sampleName;
  for (const suffix of SUFFIXES) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length);
      if (families.has(base)) return base;
    }
  }
  return sampleName;
}

/** `name{a="x",b="y \"q\""} 1 [timestamp]`; label values are kept escaped as they came. */
function parseSample(line: string): { name: string; labels: Array<[string, string]>; value: string } {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!head) throw new Error(`unparseable metrics line: ${line}`);
  const name = head[1] as string;
  let i = name.length;
  const labels: Array<[string, string]> = [];
  if (line[i] === '{') {
    i++;
    const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/y;
    for (;;) {
      if (line[i] === '}') {
        i++;
        break;
      }
      re.lastIndex = i;
      const m = re.exec(line);
      if (!m) throw new Error(`unparseable labels in metrics line: ${line}`);
      labels.push([m[1] as string, m[2] as string]);
      i = re.lastIndex;
    }
  }
  const rest = line.slice(i).trim().split(/\s+/);
  if (rest[0] === undefined || rest[0] === '') throw new Error(`no value in metrics line: ${line}`);
  return { name, labels, value: rest[0] };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A line diff (longest common subsequence): `- ` lines only in `expected`, `+ ` only in `actual`, with 2 lines of context. */
export function diffLines(expected: string, actual: string, context = 2): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: Array<{ op: ' ' | '-' | '+'; line: string }> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ op: ' ', line: a[i++]! });
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      ops.push({ op: '-', line: a[i++]! });
    } else {
      ops.push({ op: '+', line: b[j++]! });
    }
  }
  const shown = new Set<number>();
  ops.forEach((o, k) => {
    if (o.op === ' ') return;
    for (let c = Math.max(0, k - context); c <= Math.min(ops.length - 1, k + context); c++) shown.add(c);
  });
  const out: string[] = [];
  let last = -1;
  for (const k of [...shown].sort((x, y) => x - y)) {
    if (last >= 0 && k > last + 1) out.push('  ...');
    out.push(`${ops[k]!.op} ${ops[k]!.line}`);
    last = k;
  }
  return out.join('\n');
}
