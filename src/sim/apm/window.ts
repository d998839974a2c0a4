import { assert, fail } from '../kernel/assert.ts';
import type { Micros } from '../kernel/time.ts';
import {
  addToSketch,
  mergeSketches,
  nearestRank,
  newSketch,
  SKETCH_ACCURACY_DEFAULT,
  sketchPercentile,
  type Sketch,
} from './sketch.ts';

/**
 * Windowed aggregation, the heart of the notes' aggregation loop ("for every query: collect values for the current
 * window, aggregate (min, max, average, percentile), write a data point for the window"). Streams never end, so
 * "the current window" needs three decisions, each a field of `WindowConfig`:
 *
 * 1. Which windows a sample belongs to (`windowsOf`). Tumbling windows (`slideUs = windowUs`) tile time: every
 *    instant is in exactly one. Sliding windows start every `slideUs` and last `windowUs`, so an instant is in about
 *    windowUs / slideUs of them — a 60 s window sliding by 10 s gives a smooth "last minute" curve every 10 s.
 *    Window starts are aligned to multiples of `slideUs` from time 0, so they may begin before 0 for the first samples.
 * 2. Which clock assigns a sample to windows (`timeMode`). Event time is when the server measured it (`sample.t`);
 *    processing time is when the aggregator received it (`sample.arrivedAt`). Event time gives the right answer
 *    ("CPU between 12:00:00 and 12:00:10") however the network delays and reorders; processing time is simpler and
 *    never waits, but a delayed batch lands in the wrong window.
 * 3. When an event-time window is complete (the watermark, as in the Dataflow model / Flink). The watermark is the
 *    largest event time seen minus `outOfOrderUs`, the bound we assume on how out of order samples arrive. A window
 *    [start, end) closes once the watermark reaches end + `allowedLatenessUs`; a sample for a closed window is *late*:
 *    dropped, but counted (`lateSamples`, `lateAssignments`) and remembered (`lateRecent`) with how far the window
 *    had already closed, so a learner can see which setting would have kept it. Larger bounds mean fewer late
 *    samples and later, staler dashboards — the trade-off the lab lets you move.
 *
 * Lateness is decided by the watermark alone, when a sample arrives; `advance` only emits what the watermark has
 * closed. So what a window contains depends only on the sequence of samples, never on how often `advance` is
 * called. In processing-time mode the "watermark" is the clock handed to `advance`, and no sample can be late.
 *
 * Everything is plain data: a `WindowState` survives JSON and the checkpoint cloner and keeps working afterwards.
 * Functions mutate the state they are given (`addSample`, `advance`), as a node's step function mutates its memory.
 */

/** The functions of the notes' `COMPUTE` clause. A closed union; `p` of a percentile is in (0, 100]. */
export type AggregateFn =
  | { fn: 'min' }
  | { fn: 'max' }
  | { fn: 'avg' }
  | { fn: 'sum' }
  | { fn: 'count' }
  | { fn: 'percentile'; p: number };

/**
 * Most values an accumulator keeps for exact percentiles. Beyond it the values are released, exact percentiles
 * become unavailable (and say so), and the sketch answers alone — within its relative accuracy.
 */
export const EXACT_VALUES_MAX = 10_000;
/** Most windows one sample may belong to: `ceil(windowUs / slideUs)` is refused above it. */
export const WINDOWS_PER_SAMPLE_MAX = 64;
/** Most windows open at once; more means `advance` is not being called, or the watermark is stuck. */
export const OPEN_WINDOWS_MAX = 4_096;
/** Late samples remembered individually (the most recent ones); all of them are counted. */
export const LATE_RECENT_MAX = 32;
/** Most aggregate functions per window configuration. */
export const AGGREGATE_FNS_MAX = 16;

// ---------------------------------------------------------------------------------------------------------------------
// Accumulators and aggregate functions
// ---------------------------------------------------------------------------------------------------------------------

/**
 * What a window remembers of its samples. `count`, `sum`, `min`, `max` and the sketch take every sample; `exact`
 * keeps the values themselves (arrival order) while `exactComplete` is true, i.e. while there are at most
 * `EXACT_VALUES_MAX` of them.
 */
export interface Accumulator {
  count: number;
  sum: number;
  min: number | null;
  max: number | null;
  exact: number[];
  exactComplete: boolean;
  sketch: Sketch;
}

export function newAccumulator(relativeAccuracy = SKETCH_ACCURACY_DEFAULT): Accumulator {
  const sketch = newSketch(relativeAccuracy);
  return { count: 0, sum: 0, min: null, max: null, exact: [], exactComplete: true, sketch };
}

/** Adds one value to `acc` (mutating it). */
export function accumulate(acc: Accumulator, value: number): void {
  if (!Number.isFinite(value)) fail(`window values must be finite, got ${value}`);
  acc.count++;
  acc.sum += value;
  if (acc.min === null || value < acc.min) acc.min = value;
  if (acc.max === null || value > acc.max) acc.max = value;
  if (acc.exactComplete) {
    if (acc.exact.length < EXACT_VALUES_MAX) acc.exact.push(value);
    else releaseExact(acc);
  }
  addToSketch(acc.sketch, value);
  assert(acc.count === acc.sketch.count, 'accumulator and its sketch saw the same samples');
}

function releaseExact(acc: Accumulator): void {
  acc.exact = [];
  acc.exactComplete = false;
}

/** The accumulator of both inputs' samples, as a new one; the inputs are untouched. */
export function mergeAccumulators(a: Accumulator, b: Accumulator): Accumulator {
  const exactComplete = a.exactComplete && b.exactComplete && a.exact.length + b.exact.length <= EXACT_VALUES_MAX;
  return {
    count: a.count + b.count,
    sum: a.sum + b.sum,
    min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min),
    max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max),
    exact: exactComplete ? a.exact.concat(b.exact) : [],
    exactComplete,
    sketch: mergeSketches(a.sketch, b.sketch),
  };
}

/**
 * One aggregate of one window. `value` is the answer to plot: exact for min, max, sum, count and avg, and for a
 * percentile while the exact values are kept; otherwise the sketch's estimate, with `exact: false` and a `note`.
 * `value` is null for an empty window, except count and sum, which are 0.
 */
export interface AggregateValue {
  fn: AggregateFn;
  value: number | null;
  exact: boolean;
  /** Percentiles only: the sketch's nearest-rank estimate, within α of the exact one, to show them side by side. */
  sketchValue: number | null;
  /** Why `value` is not exact, for people; null when it is. */
  note: string | null;
}

/** Asserts a function descriptor is one of the union's members with a valid `p`. */
export function checkAggregateFn(f: AggregateFn): void {
  switch (f.fn) {
    case 'min':
    case 'max':
    case 'avg':
    case 'sum':
    case 'count':
      return;
    case 'percentile':
      if (!(f.p > 0 && f.p <= 100)) fail(`percentile(p) needs p within (0, 100], got ${f.p}`);
      return;
    default:
      fail(`unknown aggregate function ${JSON.stringify(f)}`);
  }
}

/** The exact nearest-rank percentile of ascending `sorted` (see `nearestRank` in sketch.ts). */
export function exactPercentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[nearestRank(p, sorted.length) - 1];
}

function aggregateOne(acc: Accumulator, f: AggregateFn, sorted: ArrayLike<number> | null): AggregateValue {
  const plain = (value: number | null): AggregateValue => {
    return { fn: f, value, exact: true, sketchValue: null, note: null };
  };
  switch (f.fn) {
    case 'min':
      return plain(acc.min);
    case 'max':
      return plain(acc.max);
    case 'sum':
      return plain(acc.sum);
    case 'count':
      return plain(acc.count);
    case 'avg':
      return plain(acc.count === 0 ? null : acc.sum / acc.count);
    case 'percentile': {
      const sketchValue = sketchPercentile(acc.sketch, f.p);
      if (sorted) return { fn: f, value: exactPercentile(sorted, f.p), exact: true, sketchValue, note: null };
      const percent = Number((acc.sketch.relativeAccuracy * 100).toPrecision(3));
      const note = `${acc.count} values > EXACT_VALUES_MAX (${EXACT_VALUES_MAX}): sketch estimate, within ±${percent}%`;
      return { fn: f, value: sketchValue, exact: false, sketchValue, note };
    }
  }
}

/** Every function of `fns` over one accumulator, in order; the exact values are sorted once for all percentiles. */
export function aggregateAll(acc: Accumulator, fns: readonly AggregateFn[]): AggregateValue[] {
  for (const f of fns) checkAggregateFn(f);
  const wantsSorted = acc.exactComplete && fns.some((f) => f.fn === 'percentile');
  // A typed array sorts numerically without calling a comparator per step (windows keep up to 10,000 values).
  const sorted = wantsSorted ? Float64Array.from(acc.exact).sort() : null;
  return fns.map((f) => aggregateOne(acc, f, sorted));
}

// ---------------------------------------------------------------------------------------------------------------------
// Window assignment
// ---------------------------------------------------------------------------------------------------------------------

function checkWindowShape(windowUs: Micros, slideUs: Micros): void {
  if (!(Number.isSafeInteger(windowUs) && windowUs > 0)) fail(`windowUs must be a positive integer, got ${windowUs}`);
  if (!(Number.isSafeInteger(slideUs) && slideUs > 0 && slideUs <= windowUs)) {
    fail(`slideUs must be an integer within [1, windowUs = ${windowUs}], got ${slideUs}`);
  }
  const perSample = Math.ceil(windowUs / slideUs);
  if (perSample > WINDOWS_PER_SAMPLE_MAX) {
    const max = WINDOWS_PER_SAMPLE_MAX;
    fail(`window ${windowUs}µs sliding by ${slideUs}µs puts a sample in ${perSample} windows > ${max}`);
  }
}

/**
 * The start times, ascending, of every window [start, start + windowUs) that contains `tUs`, with starts at the
 * multiples of `slideUs`. Tumbling (`slideUs = windowUs`): exactly one. Sliding: `windowUs / slideUs` of them when the
 * slide divides the window, else that number rounded down or up depending on `tUs`.
 */
export function windowsOf(tUs: Micros, windowUs: Micros, slideUs: Micros = windowUs): Micros[] {
  checkWindowShape(windowUs, slideUs);
  if (!Number.isSafeInteger(tUs)) fail(`window time must be an integer µs, got ${tUs}`);
  const starts: Micros[] = [];
  for (let start = Math.floor(tUs / slideUs) * slideUs; start + windowUs > tUs; start -= slideUs) starts.push(start);
  assert(starts.length >= 1 && starts[0] <= tUs, 'every instant is in at least one window');
  return starts.reverse();
}

// ---------------------------------------------------------------------------------------------------------------------
// Windowed streams with a watermark
// ---------------------------------------------------------------------------------------------------------------------

/** Which clock places a sample in windows: the server's measurement time, or the aggregator's arrival time. */
export type TimeMode = 'event' | 'processing';

export interface WindowConfig {
  timeMode: TimeMode;
  windowUs: Micros;
  /** Equal to `windowUs` for tumbling windows; smaller for sliding ones. */
  slideUs: Micros;
  /** Event time: the assumed bound on out-of-orderness; the watermark trails the largest event time by this much. */
  outOfOrderUs: Micros;
  /** Event time: how long past its end (in watermark time) a window still accepts samples. */
  allowedLatenessUs: Micros;
  /** What each closed window computes, in this order. */
  fns: AggregateFn[];
  /** The accuracy of every window's sketch. */
  relativeAccuracy: number;
}

/** One measurement: `t` when the server measured it (event time), `arrivedAt` when we received it. */
export interface Sample {
  t: Micros;
  value: number;
  arrivedAt: Micros;
}

/** A window still collecting. */
export interface OpenWindow {
  startUs: Micros;
  acc: Accumulator;
}

/** One late sample and the window it missed: that window had been closed for `missedByUs` of watermark time. */
export interface LateRecord {
  t: Micros;
  arrivedAt: Micros;
  windowStartUs: Micros;
  /**
   * The watermark at arrival minus (window end + allowed lateness), ≥ 0. An allowed lateness (or out-of-orderness
   * bound) more than this much larger would have kept the sample.
   */
  missedByUs: Micros;
}

/** A window the watermark has passed, emitted once, in start order. */
export interface ClosedWindow {
  startUs: Micros;
  endUs: Micros;
  count: number;
  /** One per configured function, in the configuration's order. */
  aggregates: AggregateValue[];
  /** The window's sketch, for merging across aggregators or servers (never average their percentiles). */
  sketch: Sketch;
  /** The processing time of the `advance` that emitted it, and the watermark then. */
  closedAtUs: Micros;
  watermarkUs: Micros;
}

/**
 * The stream's windows and counters. Invariants (see `checkWindowState`): `open` is ascending by start with no
 * duplicates and holds no window the watermark has closed; every accepted (sample, window) pair is counted in exactly
 * one window's accumulator or in `lateAssignments`.
 */
export interface WindowState {
  config: WindowConfig;
  open: OpenWindow[];
  /** Largest event time seen; null before the first sample. */
  maxEventUs: Micros | null;
  /**
   * Windows with end + allowed lateness ≤ this are closed. Event time: max event time − out-of-orderness (raised by
   * `closeAll`); processing time: the clock of the last `advance`. Null until it first has a value. Never decreases.
   */
  watermarkUs: Micros | null;
  /** The processing time of the last `advance`; never decreases. */
  nowUs: Micros;
  samples: number;
  /** Samples that missed at least one of their windows. */
  lateSamples: number;
  /** (sample, window) pairs dropped as late: for tumbling windows equal to `lateSamples`. */
  lateAssignments: number;
  /** The most recent late pairs, at most `LATE_RECENT_MAX`, oldest first. */
  lateRecent: LateRecord[];
  windowsEmitted: number;
}

/** A configuration with defaults: event time, tumbling, no out-of-orderness or lateness, min/max/avg/p99, α = 1%. */
export function windowConfig(options: Partial<WindowConfig> & { windowUs: Micros }): WindowConfig {
  const config: WindowConfig = {
    timeMode: options.timeMode ?? 'event',
    windowUs: options.windowUs,
    slideUs: options.slideUs ?? options.windowUs,
    outOfOrderUs: options.outOfOrderUs ?? 0,
    allowedLatenessUs: options.allowedLatenessUs ?? 0,
    fns: options.fns ?? [{ fn: 'min' }, { fn: 'max' }, { fn: 'avg' }, { fn: 'percentile', p: 99 }],
    relativeAccuracy: options.relativeAccuracy ?? SKETCH_ACCURACY_DEFAULT,
  };
  checkWindowConfig(config);
  return config;
}

/** Asserts a configuration is usable; every field is checked with a message naming it. */
export function checkWindowConfig(c: WindowConfig): void {
  if (c.timeMode !== 'event' && c.timeMode !== 'processing') {
    fail(`timeMode must be event or processing, got ${c.timeMode}`);
  }
  checkWindowShape(c.windowUs, c.slideUs);
  for (const [name, v] of [['outOfOrderUs', c.outOfOrderUs], ['allowedLatenessUs', c.allowedLatenessUs]] as const) {
    if (!(Number.isSafeInteger(v) && v >= 0)) fail(`${name} must be a non-negative integer, got ${v}`);
    if (c.timeMode === 'processing' && v !== 0) fail(`${name} means nothing in processing time; it must be 0`);
  }
  if (c.fns.length === 0 || c.fns.length > AGGREGATE_FNS_MAX) fail(`fns: 1 to ${AGGREGATE_FNS_MAX} functions`);
  for (const f of c.fns) checkAggregateFn(f);
  newSketch(c.relativeAccuracy); // validates the accuracy
}

export function newWindowState(config: WindowConfig): WindowState {
  checkWindowConfig(config);
  return {
    config,
    open: [],
    maxEventUs: null,
    watermarkUs: null,
    nowUs: 0,
    samples: 0,
    lateSamples: 0,
    lateAssignments: 0,
    lateRecent: [],
    windowsEmitted: 0,
  };
}

/** True when the window starting at `startUs` can no longer take samples. */
/** True when the watermark has closed the window starting at `startUs`: a sample for it now would be late. */
export function windowClosed(state: WindowState, startUs: Micros): boolean {
  return isClosed(state, startUs);
}

function isClosed(state: WindowState, startUs: Micros): boolean {
  const { windowUs, allowedLatenessUs } = state.config;
  return state.watermarkUs !== null && startUs + windowUs + allowedLatenessUs <= state.watermarkUs;
}

/** The open window starting at `startUs`, created in its sorted place when missing. */
function openWindow(state: WindowState, startUs: Micros): OpenWindow {
  const open = state.open;
  let i = open.length;
  while (i > 0 && open[i - 1].startUs > startUs) i--; // samples arrive nearly in order: the scan is short
  if (i > 0 && open[i - 1].startUs === startUs) return open[i - 1];
  if (open.length >= OPEN_WINDOWS_MAX) {
    fail(`${OPEN_WINDOWS_MAX} windows open: call advance, or check the watermark (now ${state.watermarkUs})`);
  }
  const opened: OpenWindow = { startUs, acc: newAccumulator(state.config.relativeAccuracy) };
  open.splice(i, 0, opened);
  return opened;
}

function recordLate(state: WindowState, t: Micros, arrivedAt: Micros, startUs: Micros): void {
  const { windowUs, allowedLatenessUs } = state.config;
  const missedByUs = state.watermarkUs! - (startUs + windowUs + allowedLatenessUs);
  assert(missedByUs >= 0, 'a late sample missed a closed window');
  state.lateAssignments++;
  state.lateRecent.push({ t, arrivedAt, windowStartUs: startUs, missedByUs });
  if (state.lateRecent.length > LATE_RECENT_MAX) state.lateRecent.shift();
}

/**
 * Takes one sample (mutating `state`): raises the event-time watermark, then adds the value to every window of the
 * sample's time that is still open, and counts the sample late for each that is closed. In processing-time mode the
 * arrival time places it, and arrivals must not precede the last `advance` (a clock does not run backwards).
 */
export function addSample(state: WindowState, sample: Sample): void {
  addSampleAt(state, sample.t, sample.value, sample.arrivedAt);
}

/**
 * `addSample` without the sample object: the aggregator's per-sample path. Tumbling windows (the common case) take
 * the one window of the sample's time without building a list of starts.
 */
export function addSampleAt(state: WindowState, t: Micros, value: number, arrivedAt: Micros): void {
  const c = state.config;
  if (!(Number.isSafeInteger(t) && Number.isSafeInteger(arrivedAt))) fail(`sample times must be integer µs, got t=${t} arrivedAt=${arrivedAt}`);
  if (!Number.isFinite(value)) fail(`sample value must be finite, got ${value}`);
  if (c.timeMode === 'processing' && arrivedAt < state.nowUs) {
    fail(`processing time: sample arrived at ${arrivedAt} before the last advance at ${state.nowUs}`);
  }
  if (c.timeMode === 'event' && (state.maxEventUs === null || t > state.maxEventUs)) {
    state.maxEventUs = t;
    const watermark = t - c.outOfOrderUs;
    if (state.watermarkUs === null || watermark > state.watermarkUs) state.watermarkUs = watermark;
  }
  const time = c.timeMode === 'event' ? t : arrivedAt;
  let late = false;
  if (c.slideUs === c.windowUs) {
    const startUs = Math.floor(time / c.windowUs) * c.windowUs;
    if (isClosed(state, startUs)) {
      recordLate(state, t, arrivedAt, startUs);
      late = true;
    } else accumulate(openWindow(state, startUs).acc, value);
  } else {
    for (const startUs of windowsOf(time, c.windowUs, c.slideUs)) {
      if (isClosed(state, startUs)) {
        recordLate(state, t, arrivedAt, startUs);
        late = true;
      } else {
        accumulate(openWindow(state, startUs).acc, value);
      }
    }
  }
  state.samples++;
  if (late) state.lateSamples++;
}

function emitWindow(state: WindowState, w: OpenWindow): ClosedWindow {
  assert(w.acc.count > 0, 'only windows that took a sample exist');
  state.windowsEmitted++;
  return {
    startUs: w.startUs,
    endUs: w.startUs + state.config.windowUs,
    count: w.acc.count,
    aggregates: aggregateAll(w.acc, state.config.fns),
    sketch: w.acc.sketch,
    closedAtUs: state.nowUs,
    watermarkUs: state.watermarkUs!,
  };
}

/**
 * Moves processing time to `nowUs` and emits, in start order, every window the watermark has closed; each is emitted
 * exactly once and forgotten. In processing-time mode the watermark is `nowUs` itself. Windows that never took a
 * sample are not emitted: a gap in the output is the signal that data is missing (the notes: "missing data is a
 * signal in itself").
 */
export function advance(state: WindowState, nowUs: Micros): readonly ClosedWindow[] {
  if (!(Number.isSafeInteger(nowUs) && nowUs >= state.nowUs)) {
    fail(`advance: now ${nowUs} must be an integer not before the last advance at ${state.nowUs}`);
  }
  state.nowUs = nowUs;
  if (state.config.timeMode === 'processing') state.watermarkUs = Math.max(state.watermarkUs ?? nowUs, nowUs);
  let closing = 0;
  while (closing < state.open.length && isClosed(state, state.open[closing].startUs)) closing++;
  assert(closing === state.open.length || !isClosed(state, state.open[state.open.length - 1].startUs), 'closed windows form a prefix of the open list');
  // Nothing closed (most calls: an aggregator advances after every batch): no arrays made.
  if (closing === 0) return NONE_CLOSED;
  return state.open.splice(0, closing).map((w) => emitWindow(state, w));
}

const NONE_CLOSED: readonly ClosedWindow[] = Object.freeze([]);

/**
 * End of input: raises the watermark past every open window and emits them all (Flink's final watermark at the end of
 * a bounded stream). Samples for those windows that still come are counted late.
 */
export function closeAll(state: WindowState, nowUs: Micros): readonly ClosedWindow[] {
  const last = state.open[state.open.length - 1];
  if (last) {
    const past = last.startUs + state.config.windowUs + state.config.allowedLatenessUs;
    state.watermarkUs = Math.max(state.watermarkUs ?? past, past);
  }
  const closed = advance(state, nowUs);
  assert(state.open.length === 0, 'closeAll leaves no window open');
  return closed;
}

/** Checks the state's invariants; for tests and checkers (linear in open windows). */
export function checkWindowState(state: WindowState): void {
  for (let i = 0; i < state.open.length; i++) {
    const w = state.open[i];
    if (i > 0 && !(state.open[i - 1].startUs < w.startUs)) fail(`open windows out of order at ${i}`);
    if (w.startUs % state.config.slideUs !== 0) fail(`window start ${w.startUs} is not aligned to the slide`);
    if (w.acc.count <= 0) fail(`open window ${w.startUs} is empty`);
  }
  if (state.lateSamples > state.samples || state.lateSamples > state.lateAssignments) fail('late counters disagree');
  if (state.lateRecent.length > LATE_RECENT_MAX) fail('too many late records kept');
}

// ---------------------------------------------------------------------------------------------------------------------
// The average-of-percentiles mistake
// ---------------------------------------------------------------------------------------------------------------------

function nonEmpty(parts: readonly (readonly number[])[]): (readonly number[])[] {
  const kept = parts.filter((p) => p.length > 0);
  assert(kept.length > 0, 'percentiles of parts need at least one non-empty part');
  return kept;
}

/**
 * The tempting and wrong way to get a fleet-wide percentile: take each server's p-th percentile and average them
 * (empty parts skipped). It weighs a server that handled 10 requests like one that handled 10,000, and a percentile
 * is not linear, so the result need not be any request's latency at all. Kept here to be shown wrong.
 */
export function averageOfPercentiles(parts: readonly (readonly number[])[], p: number): number {
  const kept = nonEmpty(parts);
  let sum = 0;
  for (const part of kept) sum += exactPercentile([...part].sort((a, b) => a - b), p)!;
  return sum / kept.length;
}

/** The right answer: the exact nearest-rank percentile of all parts' values together. */
export function mergedPercentile(parts: readonly (readonly number[])[], p: number): number {
  const all = nonEmpty(parts).flat().sort((a, b) => a - b);
  return exactPercentile(all, p)!;
}

/**
 * The right answer at scale: each part ships a sketch, the sketches are merged (losslessly), and the merged sketch is
 * asked — within `relativeAccuracy` of `mergedPercentile`, without moving the raw values.
 */
export function mergedSketchPercentile(
  parts: readonly (readonly number[])[],
  p: number,
  relativeAccuracy = SKETCH_ACCURACY_DEFAULT,
): number {
  let merged = newSketch(relativeAccuracy);
  for (const part of nonEmpty(parts)) {
    const s = newSketch(relativeAccuracy);
    for (const v of part) addToSketch(s, v);
    merged = mergeSketches(merged, s);
  }
  return sketchPercentile(merged, p)!;
}
