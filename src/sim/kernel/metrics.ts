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
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  assert(sorted.length > 0, 'quantile of an empty list');
  if (!(q >= 0 && q <= 1)) fail(`quantile must be within [0, 1], got ${q}`);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

export function summarize(values: readonly number[]): SampleSummary {
  const arr = sortedOf(values);
  assert(arr.length > 0, 'summary of an empty sample set');
  let sum = 0;
  for (let i = 0; i < arr.length; i++) sum += arr[i];
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

/**
 * Sorted copies of sample lists, by list. Sample lists only grow (metricObserve pushes), and the UI asks for a summary
 * every frame, so a summary sorts just the samples added since the last one and merges them in: O(n) per frame
 * instead of sorting 200,000 samples each time. A list restored from a checkpoint is a new array and starts afresh.
 */
const SORTED = new WeakMap<readonly number[], Float64Array>();

function sortedOf(values: readonly number[]): Float64Array {
  const prev = SORTED.get(values);
  if (prev !== undefined && prev.length === values.length) return prev;
  const from = prev === undefined || prev.length > values.length ? 0 : prev.length;
  const fresh = Float64Array.from(values.slice(from)).sort();
  let out: Float64Array;
  if (from === 0) out = fresh;
  else {
    out = new Float64Array(values.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < prev!.length && j < fresh.length) out[k++] = prev![i] <= fresh[j] ? prev![i++] : fresh[j++];
    while (i < prev!.length) out[k++] = prev![i++];
    while (j < fresh.length) out[k++] = fresh[j++];
  }
  SORTED.set(values, out);
  return out;
}

/** Counters as numbers and sample sets as summaries, keys sorted for stable output; `only` names the metrics wanted, in order. */
export function metricsSummary(m: MetricsState, only?: readonly string[]): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = {};
  const names = only ? [...only] : [...new Set([...Object.keys(m.counters), ...Object.keys(m.samples)])].sort();
  for (const name of names) {
    if (name in m.samples && m.samples[name].length > 0) out[name] = summarize(m.samples[name]);
    else if (name in m.counters) out[name] = m.counters[name];
  }
  return out;
}
