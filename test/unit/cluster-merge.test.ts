import { describe, expect, it } from 'vitest';
import { ClusterMetrics, parseSnapshot, withLabel } from '../../src/metrics/cluster-merge';
import { parsePrometheusText, select, total } from '../helpers/prometheus-text';

/** A worker's text as the exporter writes it: requests, a histogram, a gauge and open connections. */
function workerText(requests: number, heap: number, connections = 0): string {
  return [
    '# HELP active_connections Open client connections',
    '# TYPE active_connections gauge',
    `active_connections{service="s"} ${connections}`,
    '# HELP http_request_duration_seconds Time',
    '# TYPE http_request_duration_seconds histogram',
    '# UNIT http_request_duration_seconds s',
    `http_request_duration_seconds_bucket{method="GET",route="/",service="s",le="0.1"} ${requests}`,
    `http_request_duration_seconds_bucket{method="GET",route="/",service="s",le="+Inf"} ${requests}`,
    `http_request_duration_seconds_sum{method="GET",route="/",service="s"} ${requests / 100}`,
    `http_request_duration_seconds_count{method="GET",route="/",service="s"} ${requests}`,
    '# HELP http_requests_total Requests',
    '# TYPE http_requests_total counter',
    `http_requests_total{method="GET",route="/",service="s",status_code="200"} ${requests}`,
    '# HELP nodejs_heap_size_used_bytes Heap',
    '# TYPE nodejs_heap_size_used_bytes gauge',
    `nodejs_heap_size_used_bytes{service="s"} ${heap}`,
    '',
  ].join('\n');
}

const PRIMARY = workerText(0, 5);

describe('cluster metrics sum', () => {
  it('sums counters and histograms by series, one series each; gauges per worker; open connections summed', () => {
    const sum = new ClusterMetrics();
    const text = sum.render(
      PRIMARY,
      new Map([
        ['1', workerText(3, 100, 2)],
        ['2', workerText(4, 200, 1)],
      ]),
    );
    const samples = parsePrometheusText(text);
    expect(select(samples, 'http_requests_total')).toHaveLength(1);
    expect(total(samples, 'http_requests_total')).toBe(7);
    expect(total(samples, 'http_request_duration_seconds_bucket', { le: '+Inf' })).toBe(7);
    expect(total(samples, 'http_request_duration_seconds_count')).toBe(7);
    expect(total(samples, 'http_request_duration_seconds_sum')).toBeCloseTo(0.07);
    expect(select(samples, 'active_connections')).toEqual([{ name: 'active_connections', labels: { service: 's' }, value: 3 }]);
    expect(select(samples, 'nodejs_heap_size_used_bytes').map((s) => [s.labels.worker, s.value])).toEqual([
      ['primary', 5],
      ['1', 100],
      ['2', 200],
    ]);
    // Each family once, its HELP/TYPE/UNIT before its samples.
    expect(text.match(/^# TYPE http_requests_total counter$/gm)).toHaveLength(1);
    expect(text).toContain('# UNIT http_request_duration_seconds s\nhttp_request_duration_seconds_bucket{');
  });

  it("keeps a gone worker's last counts: the sum never drops when a worker is replaced", () => {
    const sum = new ClusterMetrics();
    const first = sum.render(
      PRIMARY,
      new Map([
        ['1', workerText(3, 100)],
        ['2', workerText(4, 200)],
      ]),
    );
    expect(total(parsePrometheusText(first), 'http_requests_total')).toBe(7);
    // Worker 2 died; worker 3 replaced it and served 1 request.
    const second = parsePrometheusText(
      sum.render(
        PRIMARY,
        new Map([
          ['1', workerText(5, 100)],
          ['3', workerText(1, 50)],
        ]),
      ),
    );
    expect(total(second, 'http_requests_total')).toBe(4 + 5 + 1);
    expect(total(second, 'http_request_duration_seconds_bucket', { le: '0.1' })).toBe(10);
    // The dead worker's gauges are gone.
    expect(select(second, 'nodejs_heap_size_used_bytes').map((s) => s.labels.worker)).toEqual(['primary', '1', '3']);
  });

  it('a live worker that misses the deadline keeps its last counters, and shows no gauges', () => {
    const sum = new ClusterMetrics();
    sum.render(
      PRIMARY,
      new Map([
        ['1', workerText(3, 100)],
        ['2', workerText(4, 200)],
      ]),
    );
    const late = parsePrometheusText(
      sum.render(
        PRIMARY,
        new Map([
          ['1', workerText(6, 100)],
          ['2', undefined],
        ]),
      ),
    );
    expect(total(late, 'http_requests_total')).toBe(10);
    expect(select(late, 'nodejs_heap_size_used_bytes').map((s) => s.labels.worker)).toEqual(['primary', '1']);
    expect(sum.active).toBe(true);
  });

  it('parses and writes +Inf, labels with quotes and samples without labels', () => {
    const snapshot = parseSnapshot('# TYPE g gauge\ng 1\n# TYPE c counter\nc{a="x\\"y"} +Inf\n');
    expect([...snapshot.get('g')!.samples]).toEqual([['g', 1]]);
    expect([...snapshot.get('c')!.samples]).toEqual([['c{a="x\\"y"}', Infinity]]);
    expect(withLabel('g', 'worker', '1')).toBe('g{worker="1"}');
    expect(withLabel('c{a="x\\"y"}', 'worker', '2')).toBe('c{a="x\\"y",worker="2"}');
    expect(new ClusterMetrics().render('', new Map([['1', '# TYPE c counter\nc{a="b"} +Inf\n']]))).toBe('# TYPE c counter\nc{a="b"} +Inf\n');
  });
});
