import { DDSketch } from '@datadog/sketches-js';
import { assert, fail } from '../kernel/assert.ts';

/**
 * DDSketch (Masson, Rim & Lee, "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees",
 * VLDB 2019) kept as plain data, so a node's memory that holds sketches can be deep-copied into a checkpoint.
 *
 * The idea in one paragraph. Pick a relative accuracy α (1% by default) and let γ = (1 + α) / (1 − α). Every positive
 * value x falls into bucket `key = ceil(log_γ x)`, i.e. into the interval (γ^(key−1), γ^key]; the sketch keeps only a
 * count per bucket. Any value in that interval is within α of the bucket's representative 2γ^key / (1 + γ), so the
 * sketch can answer "what is the p99?" with a value within α·|p99| of the true one — a relative error, which is what
 * latency dashboards need (1 ms vs 1.01 ms matters; 10 s vs 10.1 s does not). Two sketches of the same α merge by
 * adding counts bucket by bucket, with no loss: the sketch of the union is the sum of the sketches. That is why an APM
 * pipeline ships sketches, never per-server p99s (averaging percentiles is wrong; see `averageOfPercentiles` in
 * window.ts).
 *
 * The key↔value math is the library's own: `mappingFor` borrows the `LogarithmicMapping` of a real
 * `@datadog/sketches-js` DDSketch, so our keys and the library's are the same numbers (a differential test checks it).
 * Only the *state* is ours: the library keeps bins in class instances (a `DenseStore` with an offset), which a
 * plain-object cloner would strip of their methods.
 *
 * Representation choice: each sign has a store of two parallel arrays, `keys` ascending and `counts`, holding only
 * non-empty buckets (sparse). Merging is then a linear two-pointer walk, a quantile is a linear scan of the cumulative
 * counts, and memory is proportional to the number of distinct buckets, not to the key range. Adding is a binary search
 * plus (rarely) an insertion; metric values cluster in a few dozen buckets, and in-order appends hit the fast path.
 * A `Record<string, number>` of bins was rejected: every quantile would have to sort its keys, and JSON key order for
 * integer-like keys is a trap.
 *
 * Values: any finite number. Negative values go to a mirrored store keyed by |x| (as in the library), values within
 * the mapping's smallest distinguishable magnitude of 0 are counted in `zeroCount`. APM metrics (CPU, latency, queue
 * depth) are ≥ 0, but a gauge of deltas may not be, and supporting them costs one more store. NaN and ±Infinity are
 * rejected: they have no bucket and would poison sum.
 *
 * Mutation: `addToSketch` mutates its sketch in place (it is the per-sample hot path); `mergeSketches` returns a new
 * sketch and leaves both inputs untouched, so merging per-server sketches never disturbs the servers' own state.
 */

/** The default relative accuracy α: estimates are within 1% of the true quantile. */
export const SKETCH_ACCURACY_DEFAULT = 0.01;
/** Finer than this needs ~ln(range)/(2α) buckets — over 100,000 for a 1e-3..1e6 range — so it is refused. */
export const SKETCH_ACCURACY_MIN = 1e-4;
/** Coarser than this the sketch says almost nothing (γ = 3 at α = 0.5). */
export const SKETCH_ACCURACY_MAX = 0.5;
/**
 * Most buckets a store keeps. Beyond it the lowest buckets are folded into the next one up (DDSketch's "collapsing
 * lowest" store, §2.3), which keeps the guarantee for the upper quantiles that dashboards show and gives it up for the
 * smallest values; `collapsedCount` says how many values lost their bucket. At α = 1%, 4096 buckets span a factor
 * γ^4096 ≈ 10^35 of values, so a real metric never reaches it.
 */
export const SKETCH_BINS_MAX = 4096;
/** Distinct accuracies whose mappings are cached; a run uses one or two. */
const MAPPINGS_CACHED_MAX = 16;

/** One sign's buckets: `keys` strictly ascending, `counts[i] > 0` the number of values in bucket `keys[i]`. */
export interface SketchStore {
  keys: number[];
  counts: number[];
  /** Sum of `counts`, kept so a quantile can find its half of the sketch without a scan. */
  total: number;
}

/**
 * A DDSketch as plain data. Invariants (checked by `sketchCheck`): `count = negative.total + zeroCount +
 * positive.total`; `min`/`max` are null exactly when `count` is 0; both stores hold at most `SKETCH_BINS_MAX` buckets.
 */
export interface Sketch {
  /** α: every quantile estimate is within α·|true value| (for values the sketch did not collapse). */
  relativeAccuracy: number;
  count: number;
  sum: number;
  /** Exact smallest and largest value added; null while the sketch is empty. */
  min: number | null;
  max: number | null;
  /** Values too close to 0 to have a bucket (|x| ≤ the mapping's `minPossible`, about 2.3e-308). */
  zeroCount: number;
  /** Buckets for x > 0, keyed by `key(x)`. */
  positive: SketchStore;
  /** Buckets for x < 0, keyed by `key(|x|)`: higher keys are more negative values. */
  negative: SketchStore;
  /** Values whose bucket was folded upward because a store hit `SKETCH_BINS_MAX`. */
  collapsedCount: number;
}

type Mapping = DDSketch['mapping'];
const mappings: Record<string, Mapping> = {};
let mappingsCached = 0;
let lastAccuracy = Number.NaN;
let lastMapping: Mapping | null = null;

/**
 * The library's logarithmic mapping for α. Cached at module level: it is pure math (no simulation state), built
 * from α alone, so sharing it between sketches and runs changes no result.
 */
export function mappingFor(relativeAccuracy: number): Mapping {
  // The last accuracy asked for answers without a lookup: every add of a run asks for the same one.
  if (relativeAccuracy === lastAccuracy && lastMapping !== null) return lastMapping;
  const name = String(relativeAccuracy);
  const mapping = mappings[name] ?? new DDSketch({ relativeAccuracy }).mapping;
  assert(mapping.relativeAccuracy === relativeAccuracy, 'the library mapping keeps the accuracy it was given');
  if (mappings[name] === undefined && mappingsCached < MAPPINGS_CACHED_MAX) {
    mappings[name] = mapping;
    mappingsCached++;
  }
  lastAccuracy = relativeAccuracy;
  lastMapping = mapping;
  return mapping;
}

function newStore(): SketchStore {
  return { keys: [], counts: [], total: 0 };
}

/** An empty sketch with relative accuracy α in [SKETCH_ACCURACY_MIN, SKETCH_ACCURACY_MAX]. */
export function newSketch(relativeAccuracy = SKETCH_ACCURACY_DEFAULT): Sketch {
  if (!(relativeAccuracy >= SKETCH_ACCURACY_MIN && relativeAccuracy <= SKETCH_ACCURACY_MAX)) {
    fail(`sketch accuracy must be within [${SKETCH_ACCURACY_MIN}, ${SKETCH_ACCURACY_MAX}], got ${relativeAccuracy}`);
  }
  return {
    relativeAccuracy,
    count: 0,
    sum: 0,
    min: null,
    max: null,
    zeroCount: 0,
    positive: newStore(),
    negative: newStore(),
    collapsedCount: 0,
  };
}

/** Index of the first key ≥ `key` (binary search over the ascending `keys`). */
function lowerBound(keys: readonly number[], key: number): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Folds the lowest buckets into their upper neighbour until the store fits; returns how many values moved. */
function collapseLowest(store: SketchStore): number {
  let moved = 0;
  while (store.keys.length > SKETCH_BINS_MAX) {
    const count = store.counts[0];
    store.keys.shift();
    store.counts.shift();
    store.counts[0] += count;
    moved += count;
  }
  return moved;
}

/** Adds `n` values to bucket `key`; returns how many values were collapsed to keep the store within its limit. */
function storeAdd(store: SketchStore, key: number, n: number): number {
  const last = store.keys.length - 1;
  store.total += n;
  if (last >= 0 && store.keys[last] === key) {
    store.counts[last] += n;
    return 0;
  }
  if (last < 0 || store.keys[last] < key) {
    store.keys.push(key);
    store.counts.push(n);
  } else {
    const i = lowerBound(store.keys, key);
    if (store.keys[i] === key) {
      store.counts[i] += n;
      return 0;
    }
    store.keys.splice(i, 0, key);
    store.counts.splice(i, 0, n);
  }
  return store.keys.length > SKETCH_BINS_MAX ? collapseLowest(store) : 0;
}

/**
 * Adds one value, mutating `s`. Positive values go to `positive` under `key(x)`, negative ones to `negative` under
 * `key(−x)`, and values the mapping cannot tell from 0 to `zeroCount` — the library's `accept`, rule for rule.
 */
export function addToSketch(s: Sketch, value: number): void {
  if (!Number.isFinite(value)) fail(`sketch values must be finite, got ${value}`);
  const mapping = mappingFor(s.relativeAccuracy);
  if (value > mapping.minPossible) s.collapsedCount += storeAdd(s.positive, mapping.key(value), 1);
  else if (value < -mapping.minPossible) s.collapsedCount += storeAdd(s.negative, mapping.key(-value), 1);
  else s.zeroCount++;
  s.count++;
  s.sum += value;
  if (s.min === null || value < s.min) s.min = value;
  if (s.max === null || value > s.max) s.max = value;
}

/** The bucket-wise sum of two stores (a linear merge of two ascending key lists). */
function mergeStores(a: SketchStore, b: SketchStore): SketchStore {
  const out = newStore();
  let i = 0;
  let j = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const ka = i < a.keys.length ? a.keys[i] : Infinity;
    const kb = j < b.keys.length ? b.keys[j] : Infinity;
    const key = Math.min(ka, kb);
    let count = 0;
    if (ka === key) count += a.counts[i++];
    if (kb === key) count += b.counts[j++];
    out.keys.push(key);
    out.counts.push(count);
  }
  out.total = a.total + b.total;
  return out;
}

/**
 * The sketch of the union of what `a` and `b` saw, as a new sketch; neither input changes. Both must share α: buckets
 * of different γ do not line up, and the library refuses the same merge. Merging is exact — the result equals the
 * sketch built from all values in one go (bar the float rounding of `sum`), which is the property that lets every
 * server ship a sketch and the aggregator compute a true fleet-wide p99.
 */
export function mergeSketches(a: Sketch, b: Sketch): Sketch {
  if (a.relativeAccuracy !== b.relativeAccuracy) {
    fail(`cannot merge sketches of accuracy ${a.relativeAccuracy} and ${b.relativeAccuracy}`);
  }
  const positive = mergeStores(a.positive, b.positive);
  const negative = mergeStores(a.negative, b.negative);
  const collapsed = collapseLowest(positive) + collapseLowest(negative);
  const out: Sketch = {
    relativeAccuracy: a.relativeAccuracy,
    count: a.count + b.count,
    sum: a.sum + b.sum,
    min: a.min === null ? b.min : b.min === null ? a.min : Math.min(a.min, b.min),
    max: a.max === null ? b.max : b.max === null ? a.max : Math.max(a.max, b.max),
    zeroCount: a.zeroCount + b.zeroCount,
    positive,
    negative,
    collapsedCount: a.collapsedCount + b.collapsedCount + collapsed,
  };
  assert(out.count === out.positive.total + out.negative.total + out.zeroCount, 'merged counts add up');
  return out;
}

/**
 * The key of the value at 0-based `rank` within one store, as the library's `DenseStore.keyAtRank`: with `lower`, the
 * first bucket whose cumulative count exceeds `rank`; without, the first whose cumulative count reaches `rank + 1`.
 */
function keyAtRank(store: SketchStore, rank: number, lower: boolean): number {
  let running = 0;
  for (let i = 0; i < store.keys.length; i++) {
    running += store.counts[i];
    if (lower ? running > rank : running >= rank + 1) return store.keys[i];
  }
  return store.keys[store.keys.length - 1];
}

/**
 * The estimate of the value at 0-based `rank` in ascending order, `rank` in [0, count − 1] (fractional ranks round
 * down, as in the library). Negative values are ranked from the most negative; the estimate is within
 * α·|true value| of the value at `floor(rank)`.
 */
export function sketchAtRank(s: Sketch, rank: number): number {
  assert(s.count > 0, 'rank in an empty sketch');
  if (!(rank >= 0 && rank <= s.count - 1)) fail(`rank must be within [0, ${s.count - 1}], got ${rank}`);
  const mapping = mappingFor(s.relativeAccuracy);
  const negatives = s.negative.total;
  if (rank < negatives) return -mapping.value(keyAtRank(s.negative, negatives - rank - 1, false));
  if (rank < negatives + s.zeroCount) return 0;
  return mapping.value(keyAtRank(s.positive, rank - negatives - s.zeroCount, true));
}

/**
 * Quantile `q` in [0, 1] with the library's definition: the value at rank `floor(q · (count − 1))`, so q = 0 is the
 * minimum's bucket and q = 1 the maximum's. The answer is a bucket representative, not clamped to [min, max]: it can
 * sit up to α outside them, which is the honest face of an approximation. Null for an empty sketch.
 */
export function sketchQuantile(s: Sketch, q: number): number | null {
  if (!(q >= 0 && q <= 1)) fail(`quantile must be within [0, 1], got ${q}`);
  if (s.count === 0) return null;
  return sketchAtRank(s, q * (s.count - 1));
}

/**
 * Percentile `p` in (0, 100] by nearest rank — the value at 1-based rank `ceil(p/100 · count)` — the definition the
 * exact percentiles in window.ts and kernel/metrics.ts use, so sketch and exact answers estimate the same order
 * statistic and differ by at most α. (`sketchQuantile` follows the library and may pick its neighbour.)
 */
export function sketchPercentile(s: Sketch, p: number): number | null {
  if (!(p > 0 && p <= 100)) fail(`percentile must be within (0, 100], got ${p}`);
  if (s.count === 0) return null;
  return sketchAtRank(s, nearestRank(p, s.count) - 1);
}

/**
 * The nearest-rank method: the p-th percentile of n ascending values is the one at 1-based rank `ceil(p · n / 100)`
 * (at least 1), p in (0, 100]. It always returns one of the values (no interpolation), so p100 is the max and the p99
 * of 100 values is the 99th. Computed as `p · n / 100` rather than `(p / 100) · n`: 0.07 · 100 is 7.000000000000001
 * in floating point, and its ceiling would be 8.
 */
export function nearestRank(p: number, n: number): number {
  if (!(p > 0 && p <= 100)) fail(`percentile must be within (0, 100], got ${p}`);
  assert(Number.isInteger(n) && n > 0, 'nearest rank needs at least one value');
  return Math.min(n, Math.max(1, Math.ceil((p * n) / 100)));
}

function varintBytes(n: number): number {
  let bytes = 1;
  for (let rest = Math.floor(n / 128); rest > 0; rest = Math.floor(rest / 128)) bytes++;
  return bytes;
}

function zigzag(n: number): number {
  return n >= 0 ? 2 * n : -2 * n - 1;
}

function storeBytes(store: SketchStore): number {
  let bytes = varintBytes(store.keys.length);
  for (let i = 0; i < store.keys.length; i++) {
    const delta = i === 0 ? zigzag(store.keys[0]) : store.keys[i] - store.keys[i - 1];
    bytes += varintBytes(delta) + varintBytes(store.counts[i]);
  }
  return bytes;
}

/**
 * An estimate of the sketch's size on the wire in a compact binary form: four float64s (α, sum, min, max), varints
 * for count, zeroCount and collapsedCount, and per store a varint bucket count followed by, for each bucket, its key
 * as a varint delta from the previous key (the first zigzag-encoded) and its count as a varint. This is close to the
 * library's protobuf for sparse data and is what "ship sketches, not raw samples" saves: a window of 10,000 latencies
 * (80 KB as float64) typically fits in a few hundred bytes.
 */
export function sketchBytes(s: Sketch): number {
  const header = 4 * 8 + varintBytes(s.count) + varintBytes(s.zeroCount) + varintBytes(s.collapsedCount);
  return header + storeBytes(s.positive) + storeBytes(s.negative);
}

function storeCheck(store: SketchStore, name: string): void {
  if (store.keys.length !== store.counts.length) fail(`sketch ${name}: keys and counts differ in length`);
  if (store.keys.length > SKETCH_BINS_MAX) fail(`sketch ${name}: ${store.keys.length} buckets > ${SKETCH_BINS_MAX}`);
  let total = 0;
  for (let i = 0; i < store.keys.length; i++) {
    if (i > 0 && !(store.keys[i] > store.keys[i - 1])) fail(`sketch ${name}: keys not strictly ascending at ${i}`);
    if (!(store.counts[i] > 0)) fail(`sketch ${name}: empty bucket ${store.keys[i]}`);
    total += store.counts[i];
  }
  if (total !== store.total) fail(`sketch ${name}: total ${store.total} but counts add to ${total}`);
}

/** Checks every invariant of a sketch; for tests and checkers (linear in the number of buckets). */
export function sketchCheck(s: Sketch): void {
  storeCheck(s.positive, 'positive');
  storeCheck(s.negative, 'negative');
  if (s.count !== s.positive.total + s.negative.total + s.zeroCount) fail('sketch count differs from its buckets');
  if ((s.count === 0) !== (s.min === null) || (s.count === 0) !== (s.max === null)) {
    fail('sketch min/max must be null exactly when it is empty');
  }
  if (s.min !== null && s.max !== null && s.min > s.max) fail(`sketch min ${s.min} > max ${s.max}`);
}
