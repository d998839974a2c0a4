/**
 * Windowed aggregation (src/sim/apm/window.ts). Hand-worked examples pin the rules — window assignment, nearest-rank
 * percentiles, when the watermark closes a window, which samples are late and by how much, processing-time mode.
 * Property tests over fast-check streams (out of order, interleaved `advance` calls) check conservation — every sample
 * is counted once in each window that contains it unless late — and that every emitted aggregate equals a naive
 * recomputation from the values the window should hold; and that results do not depend on how often `advance` runs.
 * Last, the average-of-p99s mistake on a fleet with one hot server.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accumulate,
  addSample,
  advance,
  aggregateAll,
  averageOfPercentiles,
  checkWindowState,
  closeAll,
  EXACT_VALUES_MAX,
  mergeAccumulators,
  mergedPercentile,
  mergedSketchPercentile,
  newAccumulator,
  newWindowState,
  windowConfig,
  windowsOf,
  type AggregateFn,
  type ClosedWindow,
  type Sample,
  type WindowConfig,
  type WindowState,
} from '../../src/sim/apm/window.ts';
import { cloneShared } from '../../src/sim/kernel/clone.ts';

const S = 1_000_000;
const ALL_FNS: AggregateFn[] = [
  { fn: 'min' },
  { fn: 'max' },
  { fn: 'avg' },
  { fn: 'sum' },
  { fn: 'count' },
  { fn: 'percentile', p: 1 },
  { fn: 'percentile', p: 50 },
  { fn: 'percentile', p: 99 },
  { fn: 'percentile', p: 100 },
];

function values(w: ClosedWindow): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const a of w.aggregates) out[a.fn.fn === 'percentile' ? `p${a.fn.p}` : a.fn.fn] = a.value;
  return out;
}

describe('window assignment', () => {
  it('tumbling: exactly one window, [start, start + window)', () => {
    expect(windowsOf(0, 10)).toEqual([0]);
    expect(windowsOf(9, 10)).toEqual([0]);
    expect(windowsOf(10, 10)).toEqual([10]); // the end is exclusive
    expect(windowsOf(-1, 10)).toEqual([-10]);
  });

  it('sliding 60 s by 10 s: six windows, the oldest starting 50 s earlier', () => {
    expect(windowsOf(65 * S, 60 * S, 10 * S)).toEqual([10, 20, 30, 40, 50, 60].map((s) => s * S));
    expect(windowsOf(3 * S, 60 * S, 10 * S)).toEqual([-50, -40, -30, -20, -10, 0].map((s) => s * S));
  });

  it('a slide that does not divide the window gives floor or ceil of window/slide windows', () => {
    expect(windowsOf(0, 10, 4)).toEqual([-8, -4, 0]);
    expect(windowsOf(2, 10, 4)).toEqual([-4, 0]);
  });

  it('returns every aligned start whose window contains t, and no other (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -10_000, max: 10_000 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 8 }), (t, slide, k) => {
        const window = slide * k + (t & 1 ? slide - 1 : 0);
        const starts = windowsOf(t, window, slide);
        for (const s of starts) expect(s % slide === 0 && s <= t && t < s + window).toBe(true);
        expect(starts[0] - slide + window).toBeLessThanOrEqual(t); // the one before does not reach t
        expect(starts[starts.length - 1] + slide).toBeGreaterThan(t); // the one after starts after t
      }),
    );
  });

  it('refuses a slide larger than the window, non-integers and too many windows per sample', () => {
    expect(() => windowsOf(0, 10, 20)).toThrow(/slideUs/);
    expect(() => windowsOf(0.5, 10)).toThrow(/integer/);
    expect(() => windowsOf(0, 1000, 1)).toThrow(/1000 windows > 64/);
  });
});

describe('aggregate functions', () => {
  it('min, max, avg, sum, count and nearest-rank percentiles of [5, 1, 3, 2, 4]', () => {
    const acc = newAccumulator();
    for (const v of [5, 1, 3, 2, 4]) accumulate(acc, v);
    const got = aggregateAll(acc, ALL_FNS);
    expect(got.map((a) => a.value)).toEqual([1, 5, 3, 15, 5, 1, 3, 5, 5]); // p50 = 3rd of 5, p99 = 5th
    expect(got.every((a) => a.exact && a.note === null)).toBe(true);
    const p50 = got[6];
    expect(Math.abs(p50.sketchValue! - 3)).toBeLessThanOrEqual(0.03);
  });

  it('an empty window: count and sum are 0, the rest null', () => {
    expect(aggregateAll(newAccumulator(), ALL_FNS).map((a) => a.value)).toEqual([null, null, null, 0, 0, null, null, null, null]);
  });

  it(`beyond EXACT_VALUES_MAX (${EXACT_VALUES_MAX}) values the percentile comes from the sketch and says so`, () => {
    const acc = newAccumulator();
    const n = EXACT_VALUES_MAX + 1;
    for (let i = 1; i <= n; i++) accumulate(acc, i);
    expect(acc.exactComplete).toBe(false);
    expect(acc.exact).toEqual([]); // the values were released
    const [p99, max] = aggregateAll(acc, [{ fn: 'percentile', p: 99 }, { fn: 'max' }]);
    expect(p99.exact).toBe(false);
    expect(p99.note).toMatch(/EXACT_VALUES_MAX/);
    const truth = Math.ceil((99 * n) / 100);
    expect(Math.abs(p99.value! - truth) / truth).toBeLessThanOrEqual(0.01);
    expect(max).toMatchObject({ value: n, exact: true }); // min/max stay exact
  });

  it('refuses percentile(0), percentile(101) and unknown functions', () => {
    const acc = newAccumulator();
    expect(() => aggregateAll(acc, [{ fn: 'percentile', p: 0 }])).toThrow(/\(0, 100\]/);
    expect(() => aggregateAll(acc, [{ fn: 'percentile', p: 101 }])).toThrow(/\(0, 100\]/);
    expect(() => aggregateAll(acc, [{ fn: 'median' } as unknown as AggregateFn])).toThrow(/unknown aggregate/);
  });

  it('merging accumulators equals accumulating everything in one', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 })), fc.array(fc.integer({ min: -1000, max: 1000 })), (a, b) => {
        const accA = newAccumulator();
        const accB = newAccumulator();
        const all = newAccumulator();
        for (const v of a) accumulate(accA, v);
        for (const v of b) accumulate(accB, v);
        for (const v of [...a, ...b]) accumulate(all, v);
        expect(aggregateAll(mergeAccumulators(accA, accB), ALL_FNS)).toEqual(aggregateAll(all, ALL_FNS));
      }),
    );
  });
});

describe('event time and the watermark', () => {
  const sample = (tS: number, value: number, arrivedS = tS): Sample => ({ t: tS * S, value, arrivedAt: arrivedS * S });

  it('closes a window once the watermark (max event time − out-of-orderness) passes its end, and drops later samples', () => {
    const state = newWindowState(windowConfig({ windowUs: 10 * S, outOfOrderUs: 2 * S, fns: ALL_FNS }));
    addSample(state, sample(1, 10));
    addSample(state, sample(5, 20));
    addSample(state, sample(11, 99)); // watermark 9 s: window [0, 10) stays open
    expect(advance(state, 11 * S)).toEqual([]);
    addSample(state, sample(9, 30, 12)); // 2 s out of order: still in time
    addSample(state, sample(13, 99)); // watermark 11 s ≥ 10 s: [0, 10) closes
    addSample(state, sample(8, 40, 14)); // late, by 1 s of watermark time
    const closed = advance(state, 14 * S);
    expect(closed.map((w) => [w.startUs, w.endUs, w.count])).toEqual([[0, 10 * S, 3]]);
    expect(values(closed[0])).toMatchObject({ min: 10, max: 30, sum: 60, count: 3, avg: 20, p50: 20 });
    expect(closed[0].watermarkUs).toBe(11 * S);
    expect([state.samples, state.lateSamples, state.lateAssignments]).toEqual([6, 1, 1]);
    expect(state.lateRecent).toEqual([{ t: 8 * S, arrivedAt: 14 * S, windowStartUs: 0, missedByUs: 1 * S }]);
    expect(state.open.map((w) => w.startUs)).toEqual([10 * S]);
  });

  it('allowed lateness keeps a window open past its end, so the same late sample is counted', () => {
    const state = newWindowState(windowConfig({ windowUs: 10 * S, outOfOrderUs: 2 * S, allowedLatenessUs: 2 * S }));
    for (const s of [sample(1, 10), sample(13, 99), sample(8, 40, 14)]) addSample(state, s);
    expect(state.lateSamples).toBe(0); // watermark 11 s < 10 s + 2 s
    expect(advance(state, 14 * S)).toEqual([]);
    addSample(state, sample(14, 99)); // watermark 12 s ≥ 10 s + 2 s
    expect(advance(state, 15 * S).map((w) => w.count)).toEqual([2]);
  });

  it('emits windows in start order, each once, and nothing for a window without samples', () => {
    const state = newWindowState(windowConfig({ windowUs: 10 * S }));
    for (const t of [1, 2, 35, 12]) addSample(state, sample(t, t)); // 12 s is late: watermark is 35 s
    const closed = closeAll(state, 40 * S);
    expect(closed.map((w) => w.startUs / S)).toEqual([0, 30]); // [10, 20) missed its only sample; [20, 30) had none
    expect(state.lateRecent[0]).toMatchObject({ windowStartUs: 10 * S, missedByUs: 15 * S });
    expect(advance(state, 50 * S)).toEqual([]);
  });

  it('sliding windows: a late sample can miss old windows and still count in newer ones', () => {
    const state = newWindowState(windowConfig({ windowUs: 30 * S, slideUs: 10 * S }));
    addSample(state, sample(25, 1)); // windows 0, 10, 20 s
    addSample(state, sample(41, 2)); // watermark 41 s closes [0, 30) and [10, 40)
    addSample(state, sample(25, 3, 42)); // misses 0 and 10, lands in [20, 50)
    expect([state.lateSamples, state.lateAssignments]).toEqual([1, 2]);
    const closed = closeAll(state, 50 * S);
    expect(closed.map((w) => [w.startUs / S, w.count])).toEqual([[0, 1], [10, 1], [20, 3], [30, 1], [40, 1]]);
  });
});

describe('processing time', () => {
  it('places samples by arrival, closes by the clock, and never drops one as late', () => {
    const state = newWindowState(windowConfig({ windowUs: 10 * S, timeMode: 'processing', fns: [{ fn: 'sum' }] }));
    addSample(state, { t: 1 * S, value: 1, arrivedAt: 2 * S });
    addSample(state, { t: 8 * S, value: 2, arrivedAt: 12 * S }); // measured in [0, 10) but arrives in [10, 20)
    expect(advance(state, 10 * S).map(values)).toEqual([{ sum: 1 }]);
    addSample(state, { t: 3 * S, value: 4, arrivedAt: 13 * S }); // very old measurement: processing time does not care
    expect(advance(state, 20 * S).map(values)).toEqual([{ sum: 6 }]);
    expect(state.lateSamples).toBe(0);
  });

  it('refuses an arrival before the last advance, and event-time settings', () => {
    const state = newWindowState(windowConfig({ windowUs: 10, timeMode: 'processing' }));
    advance(state, 100);
    expect(() => addSample(state, { t: 0, value: 1, arrivedAt: 99 })).toThrow(/before the last advance/);
    expect(() => windowConfig({ windowUs: 10, timeMode: 'processing', outOfOrderUs: 5 })).toThrow(/outOfOrderUs/);
    expect(() => advance(state, 50)).toThrow(/not before the last advance/);
  });
});

// --- property tests over random streams ----------------------------------------------------------------------------

const configArb = fc
  .record({
    slideUs: fc.constantFrom(1000, 2000, 5000),
    k: fc.integer({ min: 1, max: 4 }),
    outOfOrderUs: fc.integer({ min: 0, max: 6000 }),
    allowedLatenessUs: fc.integer({ min: 0, max: 3000 }),
  })
  .map(({ slideUs, k, outOfOrderUs, allowedLatenessUs }) =>
    windowConfig({ windowUs: slideUs * k, slideUs, outOfOrderUs, allowedLatenessUs, fns: ALL_FNS }),
  );

/** A stream: event time grows by `step`, each sample is displaced by `jitter`, and `advance` runs when `tick` says. */
const streamArb = fc.array(
  fc.record({
    step: fc.integer({ min: 0, max: 3000 }),
    jitter: fc.integer({ min: -9000, max: 1000 }),
    value: fc.oneof(fc.integer({ min: -50, max: 50 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
    tick: fc.boolean(),
  }),
  { maxLength: 120 },
);

interface Run {
  samples: Sample[];
  closed: ClosedWindow[];
  state: WindowState;
}

interface Step {
  step: number;
  jitter: number;
  value: number;
  tick: boolean;
}

/** Feeds a stream; `advanceEvery`: true after every sample, false when the step's `tick` says, 'never' until the end. */
function run(config: WindowConfig, stream: Step[], advanceEvery: boolean | 'never', clone = false): Run {
  let state = newWindowState(config);
  const samples: Sample[] = [];
  const closed: ClosedWindow[] = [];
  let base = 0;
  for (let i = 0; i < stream.length; i++) {
    const { step, jitter, value, tick } = stream[i];
    base += step;
    const sample = { t: Math.max(0, base + jitter), value, arrivedAt: base + i };
    samples.push(sample);
    addSample(state, sample);
    checkWindowState(state);
    if (advanceEvery === true || (advanceEvery === false && tick)) closed.push(...advance(state, base + i));
    if (clone && i === stream.length >> 1) state = cloneShared(state); // a checkpoint mid-stream changes nothing
  }
  closed.push(...closeAll(state, base + stream.length));
  return { samples, closed, state };
}

/** What each window should hold, recomputed from scratch: replay the watermark, keep the pairs it has not closed. */
function naiveWindows(config: WindowConfig, samples: readonly Sample[]): { held: Map<number, number[]>; late: number } {
  const held = new Map<number, number[]>();
  let watermark = -Infinity;
  let late = 0;
  for (const s of samples) {
    watermark = Math.max(watermark, s.t - config.outOfOrderUs);
    for (let start = Math.floor(s.t / config.slideUs) * config.slideUs; start > s.t - config.windowUs; start -= config.slideUs) {
      if (start + config.windowUs + config.allowedLatenessUs <= watermark) late++;
      else held.set(start, [...(held.get(start) ?? []), s.value]);
    }
  }
  return { held, late };
}

function naiveAggregates(vals: number[]): Record<string, number> {
  const sorted = [...vals].sort((a, b) => a - b);
  const sum = vals.reduce((a, b) => a + b, 0);
  const at = (p: number) => sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1];
  return { min: sorted[0], max: sorted[sorted.length - 1], avg: sum / vals.length, sum, count: vals.length, p1: at(1), p50: at(50), p99: at(99), p100: at(100) };
}

describe('conservation and naive recomputation (property)', () => {
  it('sum of window counts + late pairs = samples × windows per sample, and aggregates match a naive recomputation', () => {
    fc.assert(
      fc.property(configArb, streamArb, (config, stream) => {
        const { samples, closed, state } = run(config, stream, false);
        const perSample = config.windowUs / config.slideUs;
        const counted = closed.reduce((a, w) => a + w.count, 0);
        expect(counted + state.lateAssignments).toBe(samples.length * perSample);
        if (perSample === 1) expect(counted + state.lateSamples).toBe(samples.length);
        const starts = closed.map((w) => w.startUs);
        expect(starts).toEqual([...new Set(starts)].sort((a, b) => a - b)); // start order, each once
        const naive = naiveWindows(config, samples);
        expect(state.lateAssignments).toBe(naive.late);
        expect(starts).toEqual([...naive.held.keys()].sort((a, b) => a - b));
        // -0 and +0 are the same reading (max of 0 and -0 may be either); toEqual would tell them apart.
        const zero = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === 0 ? 0 : v]));
        for (const w of closed) expect(zero(values(w))).toEqual(zero(naiveAggregates(naive.held.get(w.startUs)!)));
      }),
      { numRuns: 300 },
    );
  });

  it('what windows hold does not depend on how often advance runs, nor on a mid-stream checkpoint', () => {
    fc.assert(
      fc.property(configArb, streamArb, (config, stream) => {
        const strip = (r: Run) => r.closed.map(({ closedAtUs: _c, watermarkUs: _w, ...rest }) => rest);
        const often = run(config, stream, true);
        const never = run(config, stream, 'never');
        const cloned = run(config, stream, false, true);
        expect(strip(often)).toEqual(strip(never));
        expect(strip(cloned)).toEqual(strip(never));
        expect(often.state.lateRecent).toEqual(never.state.lateRecent);
      }),
      { numRuns: 150 },
    );
  });

  it('the state is plain data: a JSON copy mid-stream produces the same windows', () => {
    const config = windowConfig({ windowUs: 10, slideUs: 5, outOfOrderUs: 3 });
    const a = newWindowState(config);
    const feed = (s: WindowState, from: number, to: number) => {
      const out: ClosedWindow[] = [];
      for (let t = from; t < to; t++) {
        addSample(s, { t: t % 7 === 0 ? t - 6 : t, value: (t * 37) % 11, arrivedAt: t });
        out.push(...advance(s, t));
      }
      return out;
    };
    feed(a, 0, 20);
    const b = JSON.parse(JSON.stringify(a)) as WindowState;
    expect(feed(b, 20, 40)).toEqual(feed(a, 20, 40));
    expect(b).toEqual(a);
  });
});

describe('the average-of-percentiles mistake', () => {
  const fast = (n: number) => Array.from({ length: n }, (_, i) => 10 + (i % 5)); // 10–14 ms

  it('one hot server with few requests: the average of p99s is 10× the true fleet p99', () => {
    const parts = [...Array.from({ length: 9 }, () => fast(1000)), Array.from({ length: 10 }, () => 1000)];
    expect(mergedPercentile(parts, 99)).toBe(14); // 10 slow requests out of 9,010 are 0.1%: p99 is a fast one
    expect(averageOfPercentiles(parts, 99)).toBeCloseTo((9 * 14 + 1000) / 10, 9); // 112.6 ms
    expect(Math.abs(mergedSketchPercentile(parts, 99) - 14)).toBeLessThanOrEqual(0.14);
  });

  it('one hot server with many requests: the average of p99s hides a p99 that is all slow', () => {
    const parts = [...Array.from({ length: 9 }, () => fast(100)), Array.from({ length: 1000 }, () => 1000)];
    expect(mergedPercentile(parts, 99)).toBe(1000); // over half of all requests were slow
    expect(averageOfPercentiles(parts, 99)).toBeCloseTo(112.6, 9);
    expect(Math.abs(mergedSketchPercentile(parts, 99) - 1000)).toBeLessThanOrEqual(10);
  });

  it('the merged sketch stays within 1% of the exact merged percentile on random fleets (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 10 }), fc.constantFrom(50, 90, 99, 99.9), (parts, p) => {
        const exact = mergedPercentile(parts, p);
        expect(Math.abs(mergedSketchPercentile(parts, p) - exact)).toBeLessThanOrEqual(exact * 0.01 * (1 + 1e-9));
      }),
    );
  });
});
