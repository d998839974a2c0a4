import { assert, fail } from './assert.ts';

/**
 * Run metrics: counters, and samples summarised as percentiles. Samples are capped per metric (first N kept, the
 * rest counted) so a long run cannot grow without bound; the summary says how many were dropped.
 */
export interface MetricsState {
  counters: Record<string, number>;
  samples: Record<string, number[]>;
  samplesDropped: Record<string, number>;
}

export interface SampleSummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  min: number;
}

export type MetricValue = number | SampleSummary;

export const SAMPLES_PER_METRIC_MAX = 200_000;

export function metricsCreate(): MetricsState {
  return { counters: {}, samples: {}, samplesDropped: {} };
}

export function metricCount(m: MetricsState, name: string, n: number): void {
  if (!(Number.isFinite(n))) fail(`metric ${name}: count must be finite`);
  m.counters[name] = (m.counters[name] ?? 0) + n;
}

export function metricObserve(m: MetricsState, name: string, value: number): void {
  if (!(Number.isFinite(value))) fail(`metric ${name}: sample must be finite, got ${value}`);
  const list = (m.samples[name] ??= []);
  if (list.length < SAMPLES_PER_METRIC_MAX) list.push(value);
  else m.samplesDropped[name] = (m.samplesDropped[name] ?? 0) + 1;
}

/** Nearest-rank percentile of an ascending list; `q` in [0, 1]. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  assert(sorted.length > 0, 'quantile of an empty list');
  if (!(q >= 0 && q <= 1)) fail(`quantile must be within [0, 1], got ${q}`);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

export function summarize(values: readonly number[]): SampleSummary {
  const sorted = Float64Array.from(values).sort();
  const arr = Array.from(sorted);
  let sum = 0;
  for (const v of arr) sum += v;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    count: arr.length,
    mean: round(sum / arr.length),
    p50: round(quantileSorted(arr, 0.5)),
    p90: round(quantileSorted(arr, 0.9)),
    p99: round(quantileSorted(arr, 0.99)),
    max: round(arr[arr.length - 1]),
    min: round(arr[0]),
  };
}

/** Counters as numbers and sample sets as summaries, keys sorted for stable output. */
export function metricsSummary(m: MetricsState): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = {};
  const names = [...new Set([...Object.keys(m.counters), ...Object.keys(m.samples)])].sort();
  for (const name of names) {
    if (name in m.samples && m.samples[name].length > 0) out[name] = summarize(m.samples[name]);
    else if (name in m.counters) out[name] = m.counters[name];
  }
  return out;
}
