/** A small parser for the Prometheus text format, enough to assert on names, labels and values. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`unparseable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[3] ?? '';
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    let l: RegExpExecArray | null;
    while ((l = re.exec(body))) labels[l[1] as string] = (l[2] as string).replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    samples.push({ name: m[1] as string, labels, value: Number(m[4]) });
  }
  return samples;
}

/** Samples of `name` whose labels include every pair in `match`. */
export function select(samples: Sample[], name: string, match: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** The sum of the matching samples' values (0 when none match). */
export function total(samples: Sample[], name: string, match: Record<string, string> = {}): number {
  return select(samples, name, match).reduce((sum, s) => sum + s.value, 0);
}

export interface Family {
  help?: string;
  type?: string;
  unit?: string;
  /** Label names of its samples, without `ignore`d ones. */
  labels: Set<string>;
  samples: number;
}

/**
 * The families of a scrape by name, from their HELP, TYPE and UNIT lines and their samples (a
 * histogram's `_bucket`, `_sum` and `_count` count for the family). `service` and a bucket's `le`
 * are left out of the label names unless `ignore` says otherwise.
 */
export function parseFamilies(text: string, ignore: readonly string[] = ['service', 'le']): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { labels: new Set(), samples: 0 }));
    return f;
  };
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE|UNIT) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const f = family(meta[2] as string);
      const key = (meta[1] as string).toLowerCase() as 'help' | 'type' | 'unit';
      f[key] = meta[3];
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const name = sample[1] as string;
    const f = family(families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, ''));
    f.samples++;
    for (const [, label] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) {
      if (!ignore.includes(label as string)) f.labels.add(label as string);
    }
  }
  return families;
}
