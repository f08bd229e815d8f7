// Small statistics for alternated runs: medians and ranges of per-pair ratios and differences.

export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** { median, min, max, n } of the finite values. */
export function summary(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return {
    median: median(finite),
    min: finite.length ? Math.min(...finite) : NaN,
    max: finite.length ? Math.max(...finite) : NaN,
    n: finite.length,
  };
}

export function mean(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
}

/** Fixed decimals; NaN as an em dash. */
export function fmt(value, decimals = 2) {
  return Number.isFinite(value) ? value.toFixed(decimals) : '—';
}

/** "median (min–max)". */
export function fmtRange(s, decimals = 2, sign = false) {
  if (!s || !Number.isFinite(s.median)) return '—';
  const f = (v) => (sign && v > 0 ? '+' : '') + v.toFixed(decimals);
  return `${f(s.median)} (${f(s.min)} … ${f(s.max)})`;
}
