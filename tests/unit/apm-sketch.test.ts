/**
 * The plain-data DDSketch (src/sim/apm/sketch.ts), checked three ways over fast-check arrays:
 * - against exact order statistics: every quantile estimate is within α·|true value| (the DDSketch guarantee);
 * - against the library's own class-based DDSketch fed the same values: identical quantiles, count, sum, min, max;
 * - against itself: the merge of the sketches of the parts equals the sketch of the whole, bucket for bucket.
 * Plus the edges: empty sketches, zeros and negatives, refused inputs, the bucket limit, plain-data cloning, size.
 */
import { DDSketch } from '@datadog/sketches-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addToSketch,
  mergeSketches,
  nearestRank,
  newSketch,
  SKETCH_BINS_MAX,
  sketchBytes,
  sketchCheck,
  sketchPercentile,
  sketchQuantile,
  type Sketch,
} from '../../src/sim/apm/sketch.ts';
import { cloneShared } from '../../src/sim/kernel/clone.ts';

function sketchOf(values: readonly number[], accuracy = 0.01): Sketch {
  const s = newSketch(accuracy);
  for (const v of values) addToSketch(s, v);
  sketchCheck(s);
  return s;
}

/** The library's rank rule: the value at index floor(q·(n−1)) of the ascending list. */
function exactQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))];
}

/** Relative error with a hair of float slack: ceil(log γ x) can land one ulp across a bucket edge. */
function withinRelative(estimate: number, truth: number, accuracy: number): boolean {
  return Math.abs(estimate - truth) <= accuracy * Math.abs(truth) * (1 + 1e-9);
}

const QUANTILES = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];
const positiveValue = fc.double({ min: 1e-6, max: 1e9, noNaN: true, noDefaultInfinity: true });
const anyValue = fc.oneof(
  positiveValue,
  positiveValue.map((x) => -x),
  fc.constant(0),
  fc.integer({ min: -1000, max: 1000 }),
);
const accuracy = fc.constantFrom(0.001, 0.01, 0.02, 0.05);

describe('relative-error guarantee (DDSketch §2)', () => {
  it('estimates every quantile of positive values within α of the exact order statistic', () => {
    fc.assert(
      fc.property(fc.array(positiveValue, { minLength: 1, maxLength: 400 }), accuracy, (values, alpha) => {
        const s = sketchOf(values, alpha);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of QUANTILES) {
          const estimate = sketchQuantile(s, q)!;
          const truth = exactQuantile(sorted, q);
          if (!withinRelative(estimate, truth, alpha)) throw new Error(`q=${q}: ${estimate} vs ${truth} (α=${alpha})`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the guarantee for negative values and zeros (relative to |x|; 0 is exact)', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { minLength: 1, maxLength: 300 }), (values) => {
        const s = sketchOf(values);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of QUANTILES) {
          const truth = exactQuantile(sorted, q);
          const estimate = sketchQuantile(s, q)!;
          if (truth === 0) expect(estimate).toBe(0);
          else expect(withinRelative(estimate, truth, 0.01)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('sketchPercentile estimates the nearest-rank percentile (rank ceil(p/100·n)) within α', () => {
    fc.assert(
      fc.property(fc.array(positiveValue, { minLength: 1, maxLength: 300 }), fc.double({ min: 0.1, max: 100, noNaN: true }), (values, p) => {
        const s = sketchOf(values);
        const sorted = [...values].sort((a, b) => a - b);
        const truth = sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1];
        expect(withinRelative(sketchPercentile(s, p)!, truth, 0.01)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('a 1% sketch of 10,000 log-normal latencies gives p50/p90/p99/p99.9 within 1% (measured worst error reported)', () => {
    let seed = 12345;
    const uniform = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) + 0.5) / 2 ** 32;
    const values = Array.from({ length: 10_000 }, () => {
      const normal = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
      return Math.exp(3 + 0.8 * normal); // ms, median e^3 ≈ 20 ms
    });
    const s = sketchOf(values);
    const sorted = [...values].sort((a, b) => a - b);
    let worst = 0;
    for (const q of [0.5, 0.9, 0.99, 0.999]) {
      const truth = exactQuantile(sorted, q);
      worst = Math.max(worst, Math.abs(sketchQuantile(s, q)! - truth) / truth);
    }
    expect(worst).toBeLessThanOrEqual(0.01);
    expect(worst).toBeGreaterThan(0); // an estimate, not a copy of the data
    expect(s.positive.keys.length).toBeLessThan(400); // a few hundred buckets for 10,000 values
  });
});

describe('differential: the library DDSketch fed the same values', () => {
  it('gives the same quantiles, count, sum, min and max', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { minLength: 1, maxLength: 300 }), accuracy, (values, alpha) => {
        const ours = sketchOf(values, alpha);
        const theirs = new DDSketch({ relativeAccuracy: alpha });
        for (const v of values) theirs.accept(v);
        for (const q of QUANTILES) expect(sketchQuantile(ours, q)).toBe(theirs.getValueAtQuantile(q));
        expect([ours.count, ours.sum, ours.min, ours.max, ours.zeroCount]).toEqual([
          theirs.count,
          theirs.sum,
          theirs.min,
          theirs.max,
          theirs.zeroCount,
        ]);
      }),
      { numRuns: 300 },
    );
  });

  it('uses the same bucket keys as the library store', () => {
    const values = [0.5, 1, 1.01, 2, 3, 100, 1e6];
    const ours = sketchOf(values);
    const theirs = new DDSketch();
    for (const v of values) theirs.accept(v);
    const keys = ours.positive.keys;
    for (const k of keys) expect(theirs.store.bins[k - theirs.store.offset]).toBeGreaterThan(0);
    expect(keys.length).toBe(theirs.store.bins.filter((c) => c > 0).length);
  });
});

describe('merge', () => {
  it('the merge of the sketches of two parts equals the sketch of the whole', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 300 }), fc.nat(), accuracy, (values, cut, alpha) => {
        const at = values.length === 0 ? 0 : cut % (values.length + 1);
        const merged = mergeSketches(sketchOf(values.slice(0, at), alpha), sketchOf(values.slice(at), alpha));
        const whole = sketchOf(values, alpha);
        sketchCheck(merged);
        expect({ ...merged, sum: 0 }).toEqual({ ...whole, sum: 0 });
        expect(merged.sum).toBeCloseTo(whole.sum, 6); // float addition in another order
        for (const q of QUANTILES) expect(sketchQuantile(merged, q)).toBe(sketchQuantile(whole, q));
      }),
      { numRuns: 300 },
    );
  });

  it('merging many per-server sketches in any order gives the same sketch', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 50 }), { minLength: 1, maxLength: 8 }), (parts) => {
        const forward = parts.map((p) => sketchOf(p)).reduce((a, b) => mergeSketches(a, b));
        const backward = parts.map((p) => sketchOf(p)).reduceRight((a, b) => mergeSketches(a, b));
        expect(forward).toEqual(backward); // integer values: even the sums are exact
        expect(forward).toEqual(sketchOf(parts.flat()));
      }),
      { numRuns: 200 },
    );
  });

  it('leaves its inputs untouched and refuses sketches of different accuracy', () => {
    const a = sketchOf([1, 2, 3]);
    const b = sketchOf([4, 5]);
    const before = JSON.stringify([a, b]);
    mergeSketches(a, b);
    expect(JSON.stringify([a, b])).toBe(before);
    expect(() => mergeSketches(a, sketchOf([1], 0.02))).toThrow(/accuracy 0.01 and 0.02/);
  });
});

describe('edges and limits', () => {
  it('nearestRank is ceil(p·n/100) without float drift: p7 of 100 values is the 7th, p100 the last, tiny p the first', () => {
    expect(nearestRank(7, 100)).toBe(7); // (7 / 100) * 100 = 7.000000000000001 would give 8
    expect(nearestRank(99, 100)).toBe(99);
    expect(nearestRank(100, 3)).toBe(3);
    expect(nearestRank(0.001, 3)).toBe(1);
    expect(nearestRank(50, 5)).toBe(3);
    expect(() => nearestRank(0, 5)).toThrow(/percentile/);
  });

  it('an empty sketch answers null, and its min/max are null', () => {
    const s = newSketch();
    expect(sketchQuantile(s, 0.5)).toBeNull();
    expect(sketchPercentile(s, 99)).toBeNull();
    expect([s.min, s.max, s.count]).toEqual([null, null, 0]);
  });

  it('refuses NaN, ±Infinity, out-of-range quantiles and accuracies', () => {
    const s = sketchOf([1]);
    expect(() => addToSketch(s, NaN)).toThrow(/finite/);
    expect(() => addToSketch(s, Infinity)).toThrow(/finite/);
    expect(() => sketchQuantile(s, 1.5)).toThrow(/\[0, 1\]/);
    expect(() => sketchPercentile(s, 0)).toThrow(/\(0, 100\]/);
    expect(() => newSketch(0)).toThrow(/accuracy/);
    expect(() => newSketch(0.9)).toThrow(/accuracy/);
    expect(s.count).toBe(1); // refused values left no trace
  });

  it('collapses the lowest buckets beyond SKETCH_BINS_MAX and keeps the upper quantiles accurate', () => {
    const gamma = 1.03; // > γ(1%) ≈ 1.0202, so every value lands in its own bucket
    const values = Array.from({ length: SKETCH_BINS_MAX + 500 }, (_, i) => gamma ** (i - 2000));
    const s = sketchOf(values);
    expect(s.positive.keys.length).toBe(SKETCH_BINS_MAX);
    expect(s.collapsedCount).toBeGreaterThanOrEqual(500);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99]) expect(withinRelative(sketchQuantile(s, q)!, exactQuantile(sorted, q), 0.01)).toBe(true);
    expect(withinRelative(sketchQuantile(s, 0)!, sorted[0], 0.01)).toBe(false); // the collapsed end lost its guarantee
  });

  it('is plain data: survives JSON and the checkpoint cloner, and keeps working afterwards', () => {
    const s = sketchOf([3, 1, -2, 0, 7.5]);
    for (const copy of [JSON.parse(JSON.stringify(s)) as Sketch, cloneShared(s), structuredClone(s)]) {
      expect(copy).toEqual(s);
      addToSketch(copy, 100);
      expect(sketchQuantile(copy, 1)).toBeCloseTo(100, 0);
    }
    expect(s.count).toBe(5); // the copies were independent
  });

  it('sketchBytes grows with distinct buckets, not with the number of values', () => {
    const few = sketchOf(Array.from({ length: 10_000 }, (_, i) => 10 + (i % 5)));
    const many = sketchOf(Array.from({ length: 1_000 }, (_, i) => 1 + i * 10));
    expect(sketchBytes(few)).toBeLessThan(80); // 5 buckets, 10,000 values
    expect(sketchBytes(many)).toBeGreaterThan(sketchBytes(few) + 300);
    expect(sketchBytes(many)).toBeLessThan(1_000 * 8); // far below the raw float64s
  });
});
