/**
 * One `/metrics` for a node:cluster (or PM2 cluster mode) service: the Prometheus text of the
 * primary and of every worker, summed by series as prom-client's AggregatorRegistry sums them.
 *
 * - Counters and histograms (buckets, `_sum`, `_count`) add up by series key (the sample's name
 *   and label block exactly as the exporter wrote it: every process renders the same way).
 * - Gauges that a sum describes truthfully (`SUMMED_GAUGES`: open connections) add up too; every
 *   other gauge (heap, RSS, event-loop lag, start time...) is one series per process, with a
 *   `worker` label: the cluster worker id, or `primary`.
 * - Summed counters stay monotonic when a worker goes: its last scraped counters and histograms
 *   move to a "retired" total that every later scrape adds, so a replaced worker does not make
 *   the sum drop (which Prometheus would read as a reset and turn into a rate spike). A live
 *   worker that misses a scrape's deadline contributes its last scraped counters, and no gauges.
 *   What a worker counted after its last scrape and before it died is lost, as with any restart.
 *
 * Pure: text in, text out.
 */
import { CATALOGUE } from './catalogue';

/** Gauges whose cluster-wide value is the sum of the processes' values. */
export const SUMMED_GAUGES: ReadonlySet<string> = new Set([CATALOGUE.activeConnections.name]);

/** The label that tells the processes' gauges apart. */
export const WORKER_LABEL = 'worker';
export const PRIMARY_WORKER = 'primary';

const MONOTONIC_TYPES = new Set(['counter', 'histogram', 'summary']);

interface Family {
  /** Its HELP, TYPE and UNIT lines, as first seen. */
  meta: string[];
  type: string;
  /** Sample key (name and label block) to value, in first-seen order. */
  samples: Map<string, number>;
}

type Snapshot = Map<string, Family>;

export function parseSnapshot(text: string): Snapshot {
  const families: Snapshot = new Map();
  let current: Family | undefined;
  const family = (name: string): Family => {
    let found = families.get(name);
    if (!found) families.set(name, (found = { meta: [], type: 'untyped', samples: new Map() }));
    return found;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE|UNIT) (\S+)(?: (.*))?$/.exec(line);
      if (!meta) continue;
      current = family(meta[2] as string);
      current.meta.push(line);
      if (meta[1] === 'TYPE') current.type = (meta[3] ?? 'untyped').trim();
      continue;
    }
    const space = line.lastIndexOf(' ');
    if (space <= 0) continue;
    const key = line.slice(0, space);
    const target = current ?? family(sampleName(key));
    target.samples.set(key, parseValue(line.slice(space + 1)));
  }
  return families;
}

function sampleName(key: string): string {
  const brace = key.indexOf('{');
  return brace === -1 ? key : key.slice(0, brace);
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** As the OpenTelemetry Prometheus serializer writes values. */
function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** `name{a="b"}` with `worker="1"` added: `name{a="b",worker="1"}`. */
export function withLabel(key: string, name: string, value: string): string {
  const label = `${name}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  if (!key.endsWith('}')) return `${key}{${label}}`;
  const inner = key.slice(key.indexOf('{') + 1, -1);
  return `${key.slice(0, key.indexOf('{'))}{${inner === '' ? label : `${inner},${label}`}}`;
}

/**
 * Adds a process's families into `into`: monotonic ones and summed gauges by key, other gauges as
 * the process's own series (`worker` label). `monotonicOnly` leaves gauges out.
 */
function addInto(into: Snapshot, from: Snapshot, worker: string, monotonicOnly: boolean): void {
  for (const [name, family] of from) {
    const monotonic = MONOTONIC_TYPES.has(family.type);
    if (monotonicOnly && !monotonic) continue;
    let target = into.get(name);
    if (!target) into.set(name, (target = { meta: family.meta, type: family.type, samples: new Map() }));
    const sum = monotonic || SUMMED_GAUGES.has(name);
    for (const [key, value] of family.samples) {
      if (sum) target.samples.set(key, (target.samples.get(key) ?? 0) + value);
      else target.samples.set(withLabel(key, WORKER_LABEL, worker), value);
    }
  }
}

function serialize(families: Snapshot): string {
  let text = '';
  for (const name of [...families.keys()].sort()) {
    const family = families.get(name) as Family;
    if (family.samples.size === 0) continue;
    for (const line of family.meta) text += line + '\n';
    for (const [key, value] of family.samples) text += `${key} ${formatValue(value)}\n`;
  }
  return text;
}

export class ClusterMetrics {
  /** Each worker's last answer, by worker id. */
  private readonly lastAnswer = new Map<string, Snapshot>();
  /** The counters and histograms of workers that are gone. */
  private readonly retired: Snapshot = new Map();

  /** Has any worker ever been part of the sum (the output is then the cluster's, never the primary's alone)? */
  get active(): boolean {
    return this.lastAnswer.size > 0 || this.retired.size > 0;
  }

  /**
   * @param own the primary's own text
   * @param answers every live worker by id: its text, or undefined when it did not answer in time
   */
  render(own: string, answers: ReadonlyMap<string, string | undefined>): string {
    for (const [worker, snapshot] of this.lastAnswer) {
      if (answers.has(worker)) continue;
      addInto(this.retired, snapshot, worker, true);
      this.lastAnswer.delete(worker);
    }
    const out: Snapshot = new Map();
    addInto(out, parseSnapshot(own), PRIMARY_WORKER, false);
    for (const [worker, text] of answers) {
      if (text !== undefined) {
        const snapshot = parseSnapshot(text);
        this.lastAnswer.set(worker, snapshot);
        addInto(out, snapshot, worker, false);
      } else {
        const last = this.lastAnswer.get(worker);
        if (last) addInto(out, last, worker, true);
      }
    }
    addInto(out, this.retired, '', true);
    return serialize(out);
  }
}
