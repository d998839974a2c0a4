import { assert, fail } from '../kernel/assert.ts';
import type { Micros } from '../kernel/time.ts';
import type { DiskView, Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { functionLabel } from './query.ts';
import { sketchBytes, type Sketch } from './sketch.ts';
import { encodeSeries, SERIES_POINTS_MAX } from './tsdb-codec.ts';
import type { ApmRpc, PointKey, PointWrite } from './types.ts';

/**
 * The time-series store of the notes' storage tier ("Case Study: APM" → "Storage Tier"). Three of the notes'
 * decisions are visible here:
 *
 * - **Write-heavy.** Machines write a point per query, window and partition every few seconds; people read a
 *   dashboard now and then. So a write is cheap and sequential (an append to a synced log on disk, then an answer),
 *   and the view counts writes against reads and points read.
 * - **Column layout.** Points are grouped into series (one query, one source partition) and each series is kept as
 *   parallel arrays: the key column of window starts (ascending) and one column per computed value (`min`, `p99`, …).
 *   A dashboard reads one query over a range of time, which is a contiguous run of each column; a row store would
 *   interleave every other query's rows with it. The notes' data model `[queryId + timestamp] → values` is the key
 *   `[query + start + partition]` here: the partition is part of the key because the MQ splits a metric across
 *   partitions and each aggregator writes the partial it saw; the dashboard merges partials on read.
 * - **Compression.** Neighbouring values of a column are alike, and window starts are evenly spaced, so each column
 *   compresses with Gorilla's delta-of-delta timestamps and XOR'd values (tsdb-codec.ts): a regular series costs
 *   about one bit per timestamp and a few bits to a few bytes per value, against 16 raw bytes per (time, value)
 *   pair. The store encodes each column in blocks of `BLOCK_POINTS` points — the open block is re-encoded on every
 *   store, a full block is closed and its size kept — and keeps only bit counts in memory, not the bytes (the rows
 *   themselves stay as plain data so reads can ship the mergeable sketches). `view().bytes` and the metric
 *   `apm.tsdbBytesPerPoint` (one sample per closed block) report the result.
 *
 * Writes are idempotent on the key: the same key with the same values is a `duplicate` (an at-least-once redelivery
 * after an aggregator crash or rebalance — whoever recomputed it), the same key with other values a `conflict`
 * (noted with both; the first write stays, because an acknowledged point never changes). Either way the key is
 * durably stored, so `ok` is true and the writer may ack its samples; `ok` is false only when the store refuses
 * (full, or its request queue is full), and then the writer retries later.
 *
 * Durability: a new point is appended to the disk log `points` with a synced write in the step that answers it, and
 * the world sends a step's messages only after its synced writes (etcd's Ready contract), so `point-stored` never
 * promises what a crash can take back. Boot replays the log: a crash loses the memory and keeps every stored point.
 *
 * CPU: requests wait in a FIFO service queue and take `writeUs` per write, `readUsPerPoint` per point read, so a
 * burst of writes or a large read shows up as queueing delay (`apm.tsdbWaitMs`).
 */

export interface TsdbConfig {
  /** CPU and disk time to store one point (µs). */
  writeUs: Micros;
  /** CPU time per point a read returns (µs). */
  readUsPerPoint: Micros;
  /** Points the store holds; beyond it writes are refused (`ok: false`). */
  pointsMax: number;
}

export const TSDB_DEFAULTS: TsdbConfig = { writeUs: 50, readUsPerPoint: 2, pointsMax: 100_000 };

/** Most points one `read-reply` carries; a longer answer is cut at a window boundary and says `more: true`. */
export const READ_POINTS_MAX = 500;
/** Points per compressed block of a column (2 minutes of 1 s windows). */
export const BLOCK_POINTS = 120;
/** Raw size of one (timestamp, value) pair: two 8-byte words. */
export const RAW_BYTES_PER_POINT = 16;
/** Requests waiting for the store's CPU; beyond it writes are refused and reads dropped. */
export const TSDB_QUEUE_MAX = 4_096;
/** Largest `pointsMax` accepted. */
export const TSDB_POINTS_MAX = 1_000_000;
/** Series listed in the view's `bySeries`: the first created, so the list is stable from frame to frame. */
const VIEW_SERIES_MAX = 32;
/** Bytes a point costs on disk and the wire besides its values and sketch (key, end, counts, sum, min, max). */
const POINT_HEADER_BYTES = 64;

assert(BLOCK_POINTS >= 2 && BLOCK_POINTS <= SERIES_POINTS_MAX, 'a block holds at least two points and fits the codec');
assert(READ_POINTS_MAX >= 1 && TSDB_QUEUE_MAX >= 1, 'reads and the queue hold at least one item');
assert(TSDB_DEFAULTS.pointsMax <= TSDB_POINTS_MAX, 'the default store size is within the limit');

/**
 * One series (query × partition) in column layout. Every array is parallel to `starts`, which is strictly
 * ascending. `points` holds the rows as written, deep-frozen: the same objects are on disk and go out in read
 * replies, so checkpoints and messages share them instead of copying.
 */
export interface TsdbSeries {
  query: string;
  partition: string;
  /** The key column: window starts (µs), strictly ascending. */
  starts: Micros[];
  /** One column per computed value, by label (`functionLabel`); null where a window has no such value. */
  columns: Record<string, (number | null)[]>;
  points: PointWrite[];
  /** Index of the first point of the open (still re-encoded) block; points before it are in closed blocks. */
  blockFrom: number;
  /** Bits and (time, value) pairs of the closed blocks, over all columns. */
  closedBits: number;
  closedValues: number;
  /** Bits and pairs of the open block as last encoded. */
  openBits: number;
  openValues: number;
  blocks: number;
  /** Points inserted behind the open block (out of order): stored, but not in the compression figures. */
  unencoded: number;
}

/** A request waiting for, or in, service. A read's answer is computed when its service starts. */
type Pending =
  | { type: 'write'; from: NodeId; point: PointWrite; at: Micros }
  | { type: 'read'; from: NodeId; rid: number; query: string; since: Micros; at: Micros; reply: ApmRpc | null };

export interface TsdbCounts {
  /** `write-point` requests the CPU served: stored + duplicates + conflicts + refused because the store was full. */
  writes: number;
  stored: number;
  duplicates: number;
  conflicts: number;
  /** Writes refused (store or queue full). */
  refused: number;
  reads: number;
  pointsRead: number;
  /** Reads dropped because the queue was full. */
  readsDropped: number;
  /** Points replayed from disk at the last boot. */
  recovered: number;
}

export interface TsdbState {
  cfg: TsdbConfig;
  /** Series by `seriesKey(query, partition)`. */
  series: Record<string, TsdbSeries>;
  /** The series keys of each query, in creation order: a read walks these. */
  byQuery: Record<string, string[]>;
  points: number;
  /** FIFO of requests; the head is in service while `busy`. */
  queue: Pending[];
  busy: boolean;
  counts: TsdbCounts;
  /** Compression totals over all series (closed blocks plus each open block), and bytes appended to disk. */
  bits: number;
  values: number;
  diskBytes: number;
  /** Per partition, the newest consumer-group generation that wrote for it: older writers are fenced. */
  fence: Record<string, number>;
}

type Ctx = NodeContext;

export const apmTsdb: NodeBehavior<TsdbState, Partial<TsdbConfig>> = {
  kind: 'apm-tsdb',
  boot(config, disk, ctx) {
    const cfg: TsdbConfig = { ...TSDB_DEFAULTS, ...config };
    checkConfig(cfg);
    const s: TsdbState = {
      cfg,
      series: {},
      byQuery: {},
      points: 0,
      queue: [],
      busy: false,
      counts: { writes: 0, stored: 0, duplicates: 0, conflicts: 0, refused: 0, reads: 0, pointsRead: 0, readsDropped: 0, recovered: 0 },
      fence: {},
      bits: 0,
      values: 0,
      diskBytes: 0,
    };
    recover(s, disk, ctx);
    return s;
  },
  view: (s) => ({
    cfg: s.cfg,
    points: s.points,
    series: Object.keys(s.series).length,
    queue: s.queue.length,
    busy: s.busy,
    counts: s.counts,
    bytes: bytesView(s),
    bySeries: Object.values(s.series).slice(0, VIEW_SERIES_MAX).map(seriesView),
  }),
  headline: (s) => ({ role: 'tsdb', points: s.points, queue: s.queue.length, bytesPerPoint: round3(compressedPerPoint(s)) }),
  step(s, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'cpu') fail(`apm tsdb has no timer ${input.name}`);
      return finishService(s, ctx);
    }
    receive(s, input.msg, ctx);
  },
};

function checkConfig(cfg: TsdbConfig): void {
  for (const [name, v] of [['writeUs', cfg.writeUs], ['readUsPerPoint', cfg.readUsPerPoint]] as const) {
    if (!(Number.isSafeInteger(v) && v >= 0)) fail(`apm tsdb: ${name} must be a non-negative integer (µs), got ${v}`);
  }
  if (!(Number.isSafeInteger(cfg.pointsMax) && cfg.pointsMax >= 1 && cfg.pointsMax <= TSDB_POINTS_MAX)) {
    fail(`apm tsdb: pointsMax must be an integer within 1..${TSDB_POINTS_MAX}, got ${cfg.pointsMax}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Requests and the CPU queue
// ---------------------------------------------------------------------------------------------------------------------

function receive(s: TsdbState, msg: Message, ctx: Ctx): void {
  const body = msg.body as ApmRpc;
  switch (body.kind) {
    case 'write-point':
      checkPoint(body.point);
      if (s.queue.length >= TSDB_QUEUE_MAX) {
        s.counts.refused++;
        ctx.count('apm.tsdbRefused');
        return answerWrite(ctx, msg.from, body.point, { ok: false, duplicate: false, conflict: false });
      }
      return enqueue(s, ctx, { type: 'write', from: msg.from, point: body.point, at: ctx.now });
    case 'read':
      if (!(Number.isSafeInteger(body.from) && typeof body.query === 'string')) fail(`apm tsdb: bad read ${JSON.stringify(body)}`);
      if (s.queue.length >= TSDB_QUEUE_MAX) {
        s.counts.readsDropped++;
        ctx.count('apm.tsdbReadsDropped');
        return;
      }
      return enqueue(s, ctx, { type: 'read', from: msg.from, rid: body.rid, query: body.query, since: body.from, at: ctx.now, reply: null });
    default:
      fail(`apm tsdb got ${body.kind} from ${msg.from}`);
  }
}

function enqueue(s: TsdbState, ctx: Ctx, p: Pending): void {
  s.queue.push(p);
  assert(s.queue.length <= TSDB_QUEUE_MAX, 'the request queue stays within its limit');
  if (!s.busy) startService(s, ctx);
}

/** Starts serving the head of the queue: its cost decides when the `cpu` timer fires and the answer leaves. */
function startService(s: TsdbState, ctx: Ctx): void {
  assert(!s.busy, 'one request in service at a time');
  const head = s.queue[0];
  if (head === undefined) return;
  s.busy = true;
  ctx.observe('apm.tsdbWaitMs', (ctx.now - head.at) / 1000);
  if (head.type === 'write') return ctx.setTimer('cpu', s.cfg.writeUs);
  const reply = readPoints(s, head.rid, head.query, head.since);
  head.reply = reply;
  assert(reply.kind === 'read-reply', 'a read is answered by a read-reply');
  ctx.setTimer('cpu', s.cfg.readUsPerPoint * reply.points.length);
}

/** The head's service time is over: store (persist, then answer) or send the read's answer; start the next. */
function finishService(s: TsdbState, ctx: Ctx): void {
  assert(s.busy && s.queue.length > 0, 'the cpu timer fires only while serving');
  const head = s.queue.shift()!;
  s.busy = false;
  if (head.type === 'write') {
    write(s, ctx, head.from, head.point);
  } else {
    const reply = head.reply;
    assert(reply !== null && reply.kind === 'read-reply', 'a read in service has its answer');
    s.counts.reads++;
    s.counts.pointsRead += reply.points.length;
    ctx.count('apm.tsdbReads');
    let bytes = 32;
    for (const p of reply.points) bytes += pointBytes(p);
    ctx.send(head.from, 'read-reply', reply, bytes);
  }
  startService(s, ctx);
}

function answerWrite(ctx: Ctx, to: NodeId, p: PointWrite, how: { ok: boolean; duplicate: boolean; conflict: boolean; fenced?: boolean }): void {
  const key: PointKey = Object.freeze({ query: p.query, start: p.start, partition: p.partition });
  ctx.send(to, 'point-stored', Object.freeze({ kind: 'point-stored', key, ...how }) satisfies ApmRpc, 40);
}

// ---------------------------------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------------------------------

/**
 * One write, in service: a duplicate or conflict is answered from memory; a new point is stored, appended to the
 * disk log (synced) and answered in the same step — so the answer leaves after the write is durable.
 */
function write(s: TsdbState, ctx: Ctx, from: NodeId, point: PointWrite): void {
  s.counts.writes++;
  ctx.count('apm.tsdbWrites');
  const fence = s.fence[point.partition] ?? 0;
  const generation = point.generation ?? 0;
  if (generation < fence) {
    // A zombie: its partition was handed to an aggregator of a newer generation, which writes these windows now.
    ctx.count('apm.tsdbFenced');
    ctx.note('fenced', { key: keyOf(point), by: point.by, generation, fence });
    return answerWrite(ctx, from, point, { ok: false, duplicate: false, conflict: false, fenced: true });
  }
  s.fence[point.partition] = Math.max(fence, generation);
  const stored = findPoint(s, point);
  if (stored !== null) {
    const same = samePoint(stored, point);
    if (same) {
      s.counts.duplicates++;
      ctx.count('apm.tsdbDuplicates');
    } else {
      s.counts.conflicts++;
      ctx.count('apm.tsdbConflicts');
      ctx.note('conflict', { key: keyOf(point), stored: pointSummary(stored), written: pointSummary(point) });
    }
    return answerWrite(ctx, from, point, { ok: true, duplicate: same, conflict: !same });
  }
  if (s.points >= s.cfg.pointsMax) {
    s.counts.refused++;
    ctx.count('apm.tsdbRefused');
    ctx.note('full', { key: keyOf(point), points: s.points });
    return answerWrite(ctx, from, point, { ok: false, duplicate: false, conflict: false });
  }
  const frozen = deepFreeze(structuredClone(point) as PointWrite);
  const bytes = pointBytes(frozen);
  insertPoint(s, frozen, ctx);
  s.counts.stored++;
  s.diskBytes += bytes;
  ctx.persist({ op: 'append', key: 'points', items: [frozen], bytes }, true);
  answerWrite(ctx, from, point, { ok: true, duplicate: false, conflict: false });
}

/** Boot: replays the disk log into the column store. No compression samples are observed for replayed blocks. */
function recover(s: TsdbState, disk: DiskView, ctx: Ctx): void {
  const log = (disk.points as readonly PointWrite[] | undefined) ?? [];
  assert(Array.isArray(log), 'the points log is a list');
  if (log.length > s.cfg.pointsMax) fail(`apm tsdb: ${log.length} points on disk > pointsMax ${s.cfg.pointsMax}`);
  for (const p of log) {
    if (findPoint(s, p) !== null) fail(`apm tsdb: key ${JSON.stringify(keyOf(p))} twice in the log`);
    s.fence[p.partition] = Math.max(s.fence[p.partition] ?? 0, p.generation ?? 0);
    insertPoint(s, p, null);
    s.diskBytes += pointBytes(p);
  }
  s.counts.recovered = s.points;
  if (log.length > 0) ctx.note('recovered', { points: log.length, series: Object.keys(s.series).length });
}

/** Asserts a written point's shape: a bad point is a bug in its writer, never user input. */
function checkPoint(p: PointWrite): void {
  if (!(typeof p.query === 'string' && p.query.length > 0 && !p.query.includes('|'))) fail(`apm tsdb: bad query id ${JSON.stringify(p.query)}`);
  if (typeof p.partition !== 'string') fail(`apm tsdb: bad partition ${JSON.stringify(p.partition)}`);
  if (!(Number.isSafeInteger(p.start) && Number.isSafeInteger(p.end) && p.end > p.start)) fail(`apm tsdb: bad point span [${p.start}, ${p.end})`);
  if (!(Number.isSafeInteger(p.count) && p.count >= 0 && Number.isSafeInteger(p.late) && p.late >= 0)) fail(`apm tsdb: bad count ${p.count} / late ${p.late}`);
  if (!(Array.isArray(p.values) && p.sketch && p.sketch.count === p.count)) fail(`apm tsdb: point ${p.query}@${p.start} needs values and a sketch of its ${p.count} samples`);
}

export function seriesKey(query: string, partition: string): string {
  return `${query}|${partition}`;
}

function keyOf(p: PointKey): PointKey {
  return { query: p.query, start: p.start, partition: p.partition };
}

/** Index of the first start ≥ `start` (binary search over the ascending key column). */
function lowerBound(starts: readonly Micros[], start: Micros): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid] < start) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function findPoint(s: TsdbState, key: PointKey): PointWrite | null {
  const series = s.series[seriesKey(key.query, key.partition)];
  if (series === undefined) return null;
  const i = lowerBound(series.starts, key.start);
  return series.starts[i] === key.start ? series.points[i] : null;
}

function newSeries(s: TsdbState, query: string, partition: string): TsdbSeries {
  const key = seriesKey(query, partition);
  const series: TsdbSeries = {
    query, partition, starts: [], columns: {}, points: [], blockFrom: 0,
    closedBits: 0, closedValues: 0, openBits: 0, openValues: 0, blocks: 0, unencoded: 0,
  };
  s.series[key] = series;
  (s.byQuery[query] ??= []).push(key);
  return series;
}

/**
 * Puts a new point in its series' columns at its place in start order (an append in the usual case: windows close
 * in order), then updates the compression figures. `ctx` is null while replaying the log at boot.
 */
function insertPoint(s: TsdbState, p: PointWrite, ctx: Ctx | null): void {
  const series = s.series[seriesKey(p.query, p.partition)] ?? newSeries(s, p.query, p.partition);
  const i = lowerBound(series.starts, p.start);
  assert(series.starts[i] !== p.start, 'a key is stored once');
  const n = series.starts.length;
  const labels = p.values.map((v) => functionLabel(v.fn));
  for (const label of labels) if (series.columns[label] === undefined) series.columns[label] = new Array<number | null>(n).fill(null);
  for (const [label, column] of Object.entries(series.columns)) {
    const at = labels.indexOf(label);
    column.splice(i, 0, at < 0 ? null : p.values[at].value);
  }
  series.starts.splice(i, 0, p.start);
  series.points.splice(i, 0, p);
  s.points++;
  assert(series.points.length === series.starts.length, 'the columns stay parallel');
  if (i < series.blockFrom) {
    series.blockFrom++; // behind the open block: stored, not re-encoded (a real TSDB opens an out-of-order block)
    series.unencoded++;
    return;
  }
  encodeOpenBlock(s, series, ctx);
}

/**
 * Re-encodes the open block of every column with Gorilla and moves the totals by the difference; a block that
 * reaches `BLOCK_POINTS` is closed, and its bytes per (time, value) pair observed once.
 */
function encodeOpenBlock(s: TsdbState, series: TsdbSeries, ctx: Ctx | null): void {
  const from = series.blockFrom;
  const to = series.starts.length;
  assert(to - from >= 1 && to - from <= BLOCK_POINTS, 'the open block holds 1..BLOCK_POINTS points');
  let bits = 0;
  let values = 0;
  for (const column of Object.values(series.columns)) {
    const pairs = [];
    for (let i = from; i < to; i++) pairs.push({ t: series.starts[i], v: column[i] ?? NaN });
    bits += encodeSeries(pairs).bits;
    values += pairs.length;
  }
  s.bits += bits - series.openBits;
  s.values += values - series.openValues;
  series.openBits = bits;
  series.openValues = values;
  if (to - from < BLOCK_POINTS) return;
  series.closedBits += bits;
  series.closedValues += values;
  series.openBits = 0;
  series.openValues = 0;
  series.blockFrom = to;
  series.blocks++;
  if (ctx !== null && values > 0) ctx.observe('apm.tsdbBytesPerPoint', bits / 8 / values);
}

// ---------------------------------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------------------------------

/**
 * The points of `query` with start ≥ `since`, from every partition, ordered by (start, partition). At most
 * `READ_POINTS_MAX`, cut at a window boundary so a window's partials always arrive together; `more` says whether
 * points were left out (the reader asks again from after the last start it got).
 */
function readPoints(s: TsdbState, rid: number, query: string, since: Micros): ApmRpc {
  const found: PointWrite[] = [];
  let more = false;
  for (const key of s.byQuery[query] ?? []) {
    const series = s.series[key];
    const i = lowerBound(series.starts, since);
    const j = Math.min(series.starts.length, i + READ_POINTS_MAX); // the earliest READ_POINTS_MAX of each suffice
    if (j < series.starts.length) more = true;
    for (let k = i; k < j; k++) found.push(series.points[k]);
  }
  found.sort((a, b) => a.start - b.start || (a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0));
  let points = found;
  if (found.length > READ_POINTS_MAX) {
    more = true;
    const cutStart = found[READ_POINTS_MAX].start;
    let end = READ_POINTS_MAX;
    while (end > 0 && found[end - 1].start === cutStart) end--;
    points = found.slice(0, end > 0 ? end : READ_POINTS_MAX);
  }
  assert(points.length <= READ_POINTS_MAX && points.every((p) => p.start >= since), 'a read answers within its range and limit');
  return Object.freeze({ kind: 'read-reply', rid, query, points: Object.freeze(points), more }) satisfies ApmRpc;
}

// ---------------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------------

/** Float sums of the same samples added in another order may differ in the last bits: equal within this. */
const RELATIVE_TOLERANCE = 1e-9;

function close(a: number | null, b: number | null): boolean {
  if (a === null || b === null) return a === b;
  return a === b || Math.abs(a - b) <= RELATIVE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

function sameBuckets(a: Sketch, b: Sketch): boolean {
  const stores = [[a.positive, b.positive], [a.negative, b.negative]] as const;
  for (const [x, y] of stores) {
    if (x.keys.length !== y.keys.length) return false;
    for (let i = 0; i < x.keys.length; i++) if (x.keys[i] !== y.keys[i] || x.counts[i] !== y.counts[i]) return false;
  }
  return a.relativeAccuracy === b.relativeAccuracy && a.zeroCount === b.zeroCount && a.count === b.count;
}

/**
 * Whether two writes of one key carry the same values. The writer (`by`) is ignored: another aggregator that
 * recomputed the window from the same samples wrote the same point. Sums and averages compare within a relative
 * tolerance, because addition order changes the last bits of a float sum; sketch buckets compare exactly.
 */
export function samePoint(a: PointWrite, b: PointWrite): boolean {
  if (a.end !== b.end || a.count !== b.count || a.late !== b.late || a.values.length !== b.values.length) return false;
  if (!close(a.sum, b.sum) || a.min !== b.min || a.max !== b.max || !sameBuckets(a.sketch, b.sketch)) return false;
  for (let i = 0; i < a.values.length; i++) {
    const [x, y] = [a.values[i], b.values[i]];
    if (functionLabel(x.fn) !== functionLabel(y.fn) || !close(x.value, y.value)) return false;
  }
  return true;
}

function pointSummary(p: PointWrite): Record<string, unknown> {
  const values: Record<string, number | null> = {};
  for (const v of p.values) values[functionLabel(v.fn)] = v.value;
  return { by: p.by, end: p.end, count: p.count, late: p.late, sum: p.sum, min: p.min, max: p.max, values };
}

/** A point's size on disk and on the wire: a fixed header, 8 bytes a value, and the sketch's compact encoding. */
export function pointBytes(p: PointWrite): number {
  return POINT_HEADER_BYTES + 8 * p.values.length + sketchBytes(p.sketch);
}

/** Freezes an object graph of plain data, so the stored row can be shared by memory, disk and messages. */
function deepFreeze<T>(value: T): T {
  const stack: unknown[] = [value];
  for (let guard = 0; stack.length > 0; guard++) {
    if (guard > 1_000_000) fail('deepFreeze: object graph too large');
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || Object.isFrozen(v)) continue;
    Object.freeze(v);
    for (const child of Object.values(v)) stack.push(child);
  }
  return value;
}

function compressedPerPoint(s: TsdbState): number {
  return s.values === 0 ? 0 : s.bits / 8 / s.values;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function bytesView(s: TsdbState): Record<string, number> {
  return {
    rawPerPoint: RAW_BYTES_PER_POINT,
    compressedPerPoint: round3(compressedPerPoint(s)),
    raw: s.values * RAW_BYTES_PER_POINT,
    compressed: Math.ceil(s.bits / 8),
    values: s.values,
    disk: s.diskBytes,
  };
}

function seriesView(series: TsdbSeries): Record<string, unknown> {
  const n = series.starts.length;
  const values = series.closedValues + series.openValues;
  return {
    query: series.query,
    partition: series.partition,
    points: n,
    first: n > 0 ? series.starts[0] : null,
    last: n > 0 ? series.starts[n - 1] : null,
    columns: Object.keys(series.columns),
    blocks: series.blocks,
    bytesPerPoint: values === 0 ? 0 : round3((series.closedBits + series.openBits) / 8 / values),
    unencoded: series.unencoded,
  };
}
