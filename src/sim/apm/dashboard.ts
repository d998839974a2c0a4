import { assert, fail } from '../kernel/assert.ts';
import { ms, type Micros } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { functionLabel, STORED_QUERIES_MAX, type Query, type QueryFunction, type StoredQuery } from './query.ts';
import { mergeSketches, sketchPercentile, type Sketch } from './sketch.ts';
import type { ApmRpc, PointWrite } from './types.ts';

/**
 * The dashboard query service of the notes ("Cache" → "Query Dashboard Service"): it keeps, for every stored query,
 * the series of dashboard points the windowed charts draw, and refreshes it from the time-series store every
 * `refreshMs`. Two ideas of the notes' case study meet here:
 *
 * - **A cache in front of the store.** A window's point stops changing once no aggregator will write a partial for
 *   it any more. The dashboard treats a window as *final* when it is older than the newest window it has seen minus
 *   the query's lateness and one window length (`finalBefore`): by then every aggregator that keeps up has closed it.
 *   Final windows are served from the cache and never asked again; each refresh reads only from `finalBefore` on.
 *   Hits (final windows served from memory) and misses (windows read from the store) are counted and their ratio
 *   observed as `apm.dashCacheHitRate`. The price of the rule: a partial from an aggregator that lags by more than
 *   the lateness lands in the store but not on the dashboard — a stale cache, the classic trade of any cache.
 * - **Merging partial aggregates.** The MQ splits a metric over partitions, so every window arrives as one partial
 *   per partition. Min, max, count and sum merge exactly (min of mins, max of maxes, sums of counts and sums, and the
 *   average is sum / count — never the average of averages, which weighs a partition of 10 samples like one of
 *   10,000). Percentiles do not merge from percentiles at all: the true p99 of the union is not a function of the
 *   parts' p99s. What merges is the sketch (DDSketch's buckets add up), and the merged sketch answers every
 *   percentile within its relative accuracy. Next to the truth each point also carries the tempting mistake,
 *   `avgOfPartials`: for `avg` and every percentile, the plain average of the partials' own values — so the charts
 *   can show both lines and how far apart a heavy tail on one partition pushes them.
 *
 * Fan-in: every window merged observes `apm.windowPartials`, the partials it merged — its `max` is how many
 * partitions a query's data comes through, which the topic layout decides.
 *
 * Staleness: at each refresh `apm.dashStalenessMs` observes now − the end of the newest window the dashboard holds,
 * i.e. how far behind real time the chart's right edge is (window length + aggregation lateness + pipeline delay).
 * Silent servers are not its business: an empty window simply never appears (a gap is the signal).
 */

export interface DashboardConfig {
  /** The stored queries, parsed (query.ts). */
  queries: StoredQuery[];
  refreshMs: number;
  /** The time-series store. */
  tsdb: NodeId;
  /** Windows kept per query (oldest dropped first). */
  historyMax: number;
}

export const DASHBOARD_DEFAULTS: DashboardConfig = { queries: [], refreshMs: 1000, tsdb: 'tsdb', historyMax: 300 };

/** Largest `historyMax`: a chart of more windows than this has more points than pixels. */
export const HISTORY_MAX_LIMIT = 10_000;
/** A read with no answer within this many refresh periods is given up (the store crashed or the answer was lost). */
const READ_TIMEOUT_REFRESHES = 3;
/** Refresh periods accepted, in ms. */
const REFRESH_MS_MIN = 10;
const REFRESH_MS_MAX = 3_600_000;
/** Pages one refresh may read for one query (each up to READ_POINTS_MAX points) before waiting for the next refresh. */
const PAGES_PER_REFRESH_MAX = 20;

assert(DASHBOARD_DEFAULTS.historyMax <= HISTORY_MAX_LIMIT, 'the default history is within its limit');
assert(REFRESH_MS_MIN <= DASHBOARD_DEFAULTS.refreshMs && DASHBOARD_DEFAULTS.refreshMs <= REFRESH_MS_MAX, 'the default refresh is within its bounds');

/**
 * One window of one query as the dashboard shows it, merged over the partitions' partials. Frozen once built: a
 * window read again is replaced by a new object.
 */
export interface DashPoint {
  start: Micros;
  end: Micros;
  /** Samples in the window, over all partitions; `late`: samples that missed it (counted by the aggregators). */
  count: number;
  late: number;
  /** The truth, by label (`min`, `avg`, `p99`…): exact merges, percentiles from the merged sketch. */
  values: Record<string, number | null>;
  /** The mistake, for `avg` and each percentile label: the unweighted average of the partials' values. */
  avgOfPartials: Record<string, number | null>;
  /** Partials merged (one per partition that saw samples in the window). */
  partials: number;
}

/** An outstanding read of one query's points. `hits`: final windows the cache served when it was sent. */
interface Reading {
  rid: number;
  from: Micros;
  sentAt: Micros;
  hits: number;
  page: number;
}

export interface DashQuery {
  id: string;
  name: string;
  text: string;
  query: Query;
  /** Column labels in COMPUTE order. */
  labels: string[];
  /** Ascending by start, at most `historyMax`. */
  series: DashPoint[];
  /** The newest window start seen; null before any. Windows with start < newestStart − lateness − window are final. */
  newestStart: Micros | null;
  reading: Reading | null;
}

export interface DashCounts {
  refreshes: number;
  reads: number;
  replies: number;
  /** Final windows served from the cache / windows read from the store. */
  hits: number;
  misses: number;
  /** Reads given up after READ_TIMEOUT_REFRESHES; replies to reads no longer outstanding (ignored). */
  timeouts: number;
  staleReplies: number;
}

export interface DashboardState {
  cfg: Omit<DashboardConfig, 'queries'>;
  queries: DashQuery[];
  nextRid: number;
  counts: DashCounts;
}

type Ctx = NodeContext;

export const apmDashboard: NodeBehavior<DashboardState, Partial<DashboardConfig>> = {
  kind: 'apm-dashboard',
  boot(config, _disk, ctx) {
    const full: DashboardConfig = { ...DASHBOARD_DEFAULTS, ...config };
    checkConfig(full);
    const { queries, ...cfg } = full;
    const s: DashboardState = {
      cfg,
      queries: queries.map(dashQuery),
      nextRid: 1,
      counts: { refreshes: 0, reads: 0, replies: 0, hits: 0, misses: 0, timeouts: 0, staleReplies: 0 },
    };
    ctx.setTimer('refresh', ms(cfg.refreshMs));
    return s;
  },
  view: (s) => ({
    cfg: s.cfg,
    counts: s.counts,
    hitRate: hitRate(s.counts.hits, s.counts.misses),
    queries: s.queries.map((q) => ({
      id: q.id,
      name: q.name,
      text: q.text,
      labels: q.labels,
      windowUs: q.query.windowUs,
      slideUs: q.query.slideUs,
      latenessUs: q.query.latenessUs,
      newestStart: q.newestStart,
      finalBefore: finalBefore(q),
      reading: q.reading !== null,
      series: q.series,
    })),
  }),
  headline: (s) => ({ role: 'dashboard', queries: s.queries.length, points: s.queries.reduce((n, q) => n + q.series.length, 0) }),
  step(s, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'refresh') fail(`apm dashboard has no timer ${input.name}`);
      return refresh(s, ctx);
    }
    receive(s, input.msg, ctx);
  },
};

function checkConfig(c: DashboardConfig): void {
  if (!(Number.isFinite(c.refreshMs) && c.refreshMs >= REFRESH_MS_MIN && c.refreshMs <= REFRESH_MS_MAX)) {
    fail(`apm dashboard: refreshMs must be within ${REFRESH_MS_MIN}..${REFRESH_MS_MAX}, got ${c.refreshMs}`);
  }
  if (!(Number.isSafeInteger(c.historyMax) && c.historyMax >= 1 && c.historyMax <= HISTORY_MAX_LIMIT)) {
    fail(`apm dashboard: historyMax must be an integer within 1..${HISTORY_MAX_LIMIT}, got ${c.historyMax}`);
  }
  if (!(typeof c.tsdb === 'string' && c.tsdb.length > 0)) fail('apm dashboard: tsdb must name a node');
  if (!(Array.isArray(c.queries) && c.queries.length <= STORED_QUERIES_MAX)) fail(`apm dashboard: 0..${STORED_QUERIES_MAX} queries`);
  const ids = c.queries.map((q) => q.id);
  if (new Set(ids).size !== ids.length) fail(`apm dashboard: query ids must be unique, got ${ids.join(', ')}`);
}

function dashQuery(q: StoredQuery): DashQuery {
  assert(q.query.compute.length > 0, `query ${q.id} computes something`);
  assert(q.query.slideUs > 0 && q.query.slideUs <= q.query.windowUs, `query ${q.id}: slide within (0, window length]`);
  return { id: q.id, name: q.name, text: q.text, query: q.query, labels: q.query.compute.map(functionLabel), series: [], newestStart: null, reading: null };
}

/** Windows starting before this are final: served from the cache, never read again. Null before any window. */
export function finalBefore(q: DashQuery): Micros | null {
  if (q.newestStart === null) return null;
  return q.newestStart - q.query.latenessUs - q.query.windowUs;
}

function hitRate(hits: number, misses: number): number | null {
  return hits + misses === 0 ? null : hits / (hits + misses);
}

// ---------------------------------------------------------------------------------------------------------------------
// Refresh: read what is not final
// ---------------------------------------------------------------------------------------------------------------------

function refresh(s: DashboardState, ctx: Ctx): void {
  ctx.setTimer('refresh', ms(s.cfg.refreshMs));
  s.counts.refreshes++;
  const timeoutUs = ms(s.cfg.refreshMs) * READ_TIMEOUT_REFRESHES;
  for (const q of s.queries) {
    const newest = q.series[q.series.length - 1];
    if (newest !== undefined) ctx.observe('apm.dashStalenessMs', (ctx.now - newest.end) / 1000);
    if (q.reading !== null) {
      if (ctx.now - q.reading.sentAt < timeoutUs) continue; // still waiting: one read per query at a time
      s.counts.timeouts++;
      ctx.count('apm.dashReadTimeouts');
      ctx.note('read-timeout', { query: q.id, rid: q.reading.rid });
      q.reading = null;
    }
    // Before any window, read only what fits the history; afterwards, only what is not final.
    const from = finalBefore(q) ?? ctx.now - s.cfg.historyMax * q.query.slideUs;
    sendRead(s, ctx, q, from, countFinal(q), 0);
  }
}

/** Final windows held: the prefix of the series that starts before `finalBefore`. */
function countFinal(q: DashQuery): number {
  const horizon = finalBefore(q);
  return horizon === null ? 0 : lowerBound(q.series, horizon);
}

function sendRead(s: DashboardState, ctx: Ctx, q: DashQuery, from: Micros, hits: number, page: number): void {
  assert(q.reading === null, 'one read per query at a time');
  const rid = s.nextRid++;
  q.reading = { rid, from, sentAt: ctx.now, hits, page };
  s.counts.reads++;
  ctx.count('apm.dashReads');
  ctx.send(s.cfg.tsdb, 'read', Object.freeze({ kind: 'read', rid, query: q.id, from }) satisfies ApmRpc, 32);
}

/** Index of the first point with start ≥ `start`. */
function lowerBound(series: readonly DashPoint[], start: Micros): number {
  let lo = 0;
  let hi = series.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (series[mid].start < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------------------------------
// Replies: merge partials into dashboard points
// ---------------------------------------------------------------------------------------------------------------------

function receive(s: DashboardState, msg: Message, ctx: Ctx): void {
  const body = msg.body as ApmRpc;
  if (body.kind !== 'read-reply') fail(`apm dashboard got ${body.kind} from ${msg.from}`);
  const q = s.queries.find((x) => x.id === body.query);
  if (q === undefined || q.reading === null || q.reading.rid !== body.rid) {
    s.counts.staleReplies++; // a reply to a read given up: a newer one is under way or done
    return;
  }
  s.counts.replies++;
  const reading = q.reading;
  q.reading = null;
  let windows = 0;
  let last: Micros | null = null;
  for (let i = 0; i < body.points.length; ) {
    let j = i + 1;
    while (j < body.points.length && body.points[j].start === body.points[i].start) j++;
    // How many partitions this window's data came through so far: the query's fan-in (one per partition of one
    // topic per metric; one per server with a topic per server).
    ctx.observe('apm.windowPartials', j - i);
    upsert(q, mergeWindow(q.query, q.labels, body.points.slice(i, j)));
    last = body.points[i].start;
    windows++;
    i = j;
  }
  if (last !== null && (q.newestStart === null || last > q.newestStart)) q.newestStart = last;
  if (q.series.length > s.cfg.historyMax) q.series.splice(0, q.series.length - s.cfg.historyMax);
  s.counts.hits += reading.hits;
  s.counts.misses += windows;
  ctx.count('apm.dashCacheHits', reading.hits);
  ctx.count('apm.dashCacheMisses', windows);
  const rate = hitRate(reading.hits, windows);
  if (rate !== null) ctx.observe('apm.dashCacheHitRate', rate);
  assert(q.series.length <= s.cfg.historyMax, 'the history stays within its limit');
  if (body.more && last !== null && reading.page + 1 < PAGES_PER_REFRESH_MAX) sendRead(s, ctx, q, last + 1, 0, reading.page + 1);
}

/** Puts a window's point in its place, replacing the previous point of that window. */
function upsert(q: DashQuery, p: DashPoint): void {
  const i = lowerBound(q.series, p.start);
  if (q.series[i]?.start === p.start) q.series[i] = p;
  else q.series.splice(i, 0, p);
  assert(i === 0 || q.series[i - 1].start < p.start, 'the series stays ascending');
}

/**
 * One window's partials (one per partition) merged into a dashboard point: the truth in `values`, and the
 * average-of-partials mistake in `avgOfPartials`. Every partial must describe the same window.
 */
export function mergeWindow(query: Query, labels: readonly string[], parts: readonly PointWrite[]): DashPoint {
  assert(parts.length > 0, 'a merged point has at least one partial');
  const { start, end } = parts[0];
  let count = 0;
  let late = 0;
  let sum = 0;
  let min: number | null = null;
  let max: number | null = null;
  let sketch: Sketch = parts[0].sketch;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p.start !== start || p.end !== end) fail(`partials to merge disagree on their span: [${p.start}, ${p.end}) vs [${start}, ${end})`);
    count += p.count;
    late += p.late;
    sum += p.sum;
    if (p.min !== null && (min === null || p.min < min)) min = p.min;
    if (p.max !== null && (max === null || p.max > max)) max = p.max;
    if (i > 0) sketch = mergeSketches(sketch, p.sketch);
  }
  assert(sketch.count === count, 'the merged sketch saw every sample of the partials');
  const values: Record<string, number | null> = {};
  const avgOfPartials: Record<string, number | null> = {};
  query.compute.forEach((f, i) => {
    const label = labels[i];
    values[label] = mergedValue(f, { count, sum, min, max, sketch });
    if (f.fn === 'avg' || f.fn === 'percentile') avgOfPartials[label] = averageOfPartials(f, label, parts);
  });
  return Object.freeze({ start, end, count, late, values: Object.freeze(values), avgOfPartials: Object.freeze(avgOfPartials), partials: parts.length });
}

function mergedValue(f: QueryFunction, m: { count: number; sum: number; min: number | null; max: number | null; sketch: Sketch }): number | null {
  switch (f.fn) {
    case 'min':
      return m.min;
    case 'max':
      return m.max;
    case 'sum':
      return m.sum;
    case 'count':
      return m.count;
    case 'avg':
      return m.count === 0 ? null : m.sum / m.count;
    case 'percentile':
      return sketchPercentile(m.sketch, f.p);
  }
}

/** The plain average of each partial's own value of `f` (its written value, else its sketch's), empty parts skipped. */
function averageOfPartials(f: QueryFunction, label: string, parts: readonly PointWrite[]): number | null {
  let total = 0;
  let n = 0;
  for (const p of parts) {
    if (p.count === 0) continue;
    const written = p.values.find((v) => functionLabel(v.fn) === label);
    const own = written !== undefined ? written.value : f.fn === 'percentile' ? sketchPercentile(p.sketch, f.p) : p.sum / p.count;
    if (own === null) continue;
    total += own;
    n++;
  }
  return n === 0 ? null : total / n;
}
