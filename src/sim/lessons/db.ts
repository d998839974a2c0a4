import { assert, fail } from '../kernel/assert.ts';
import { ms, type Micros } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { bytesOf, ConfigCheck, recentWindows, WINDOWS_KEPT_MAX, WINDOWS_SHOWN_MAX, type LessonMessage, type Rec, type WindowTotal } from './types.ts';

/**
 * A database server with one CPU: requests wait in a FIFO queue and each costs CPU time, so a heavy query delays what
 * queues behind it (the online lesson's "plan for spikes, leave room"). It keeps two tables:
 * - `events`: orders inserted by a source (`insertUsPerRow` each), kept with the time they were stored. An online
 *   dashboard's `query` computes window totals from them on every request: a range scan over the time index costs
 *   `queryUsFixed` plus `scanUsPerRow` per row in the range — the same rows read again on every refresh.
 * - `results`: window totals a batch job or a stream processor computed (`put-results`), served as they are
 *   (`get-results`, `resultsUsFixed`).
 * Inserts are synced to disk before they are acknowledged, so a crash keeps them; results are cached in memory only.
 */
export interface DbConfig {
  insertUsPerRow: number;
  queryUsFixed: number;
  scanUsPerRow: number;
  resultsUsFixed: number;
  /** Requests waiting at most; beyond it a request is refused at once (inserts answered as rejected). */
  queueMax: number;
  /** Rows the events table holds at most; inserts beyond it are rejected. */
  rowsMax: number;
  /** A window of a computed query is final once its end is this long before the query's horizon. */
  graceMs: number;
}

export const DB_DEFAULTS: DbConfig = { insertUsPerRow: 5, queryUsFixed: 1_000, scanUsPerRow: 1, resultsUsFixed: 200, queueMax: 1_000, rowsMax: 1_000_000, graceMs: 500 };
export const DB_QUEUE_MAX = 100_000;
export const DB_ROWS_MAX = 2_000_000;

interface Request {
  from: NodeId;
  body: LessonMessage;
  arrivedAt: Micros;
}

export interface DbMemory {
  cfg: DbConfig;
  /** The events table, columnar: the stored records (frozen, shared) and when each was stored. */
  rows: Rec[];
  storedAt: Micros[];
  results: { asOfUs: Micros | null; windowUs: Micros; windows: WindowTotal[] };
  queue: Request[];
  /** The request being served and when it finishes; null when idle. */
  serving: { request: Request; cost: Micros; rows: number } | null;
  counts: { inserted: number; rejected: number; queries: number; rowsScanned: number; busyUs: number; refused: number };
}

type Ctx = NodeContext;
const ROWS = 'rows';

export const lessonDb: NodeBehavior<DbMemory, Partial<DbConfig>> = {
  kind: 'lesson-db',
  headline: (m) => ({ rows: m.rows.length, queue: m.queue.length, busy: m.serving !== null }),
  view: (m) => ({ cfg: m.cfg, rows: m.rows.length, lastRows: m.rows.slice(-20), results: m.results, queue: m.queue.length, serving: m.serving?.request.body.kind ?? null, counts: m.counts }),
  boot(config, disk, ctx) {
    const cfg = checkConfig(config, ctx);
    const stored = (disk[ROWS] as { rec: Rec; at: Micros }[] | undefined) ?? [];
    const m: DbMemory = {
      cfg, rows: stored.map((s) => s.rec), storedAt: stored.map((s) => s.at), results: { asOfUs: null, windowUs: 0, windows: [] }, queue: [], serving: null,
      counts: { inserted: 0, rejected: 0, queries: 0, rowsScanned: 0, busyUs: 0, refused: 0 },
    };
    ctx.count('rowsRead', 0);
    return m;
  },
  step(m, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'serve') fail(`lesson-db has no timer ${input.name}`);
      return finish(m, ctx);
    }
    return receive(m, input.msg, ctx);
  },
};

function checkConfig(config: Partial<DbConfig>, ctx: Ctx): DbConfig {
  const c = new ConfigCheck('lesson-db', ctx);
  const cfg = c.merge(DB_DEFAULTS, config);
  c.num('insertUsPerRow', cfg.insertUsPerRow, 0, 1_000_000);
  c.num('queryUsFixed', cfg.queryUsFixed, 0, 60_000_000);
  c.num('scanUsPerRow', cfg.scanUsPerRow, 0, 1_000_000);
  c.num('resultsUsFixed', cfg.resultsUsFixed, 0, 60_000_000);
  c.int('queueMax', cfg.queueMax, 1, DB_QUEUE_MAX);
  c.int('rowsMax', cfg.rowsMax, 1, DB_ROWS_MAX);
  c.num('graceMs', cfg.graceMs, 0, 3_600_000);
  return cfg;
}

function receive(m: DbMemory, msg: Message, ctx: Ctx): void {
  const body = msg.body as LessonMessage;
  switch (body.kind) {
    case 'events':
    case 'query':
    case 'get-results':
    case 'put-results':
      break;
    default:
      fail(`lesson-db got ${body.kind} from ${msg.from}`);
  }
  if (m.queue.length >= m.cfg.queueMax) {
    m.counts.refused++;
    ctx.count('dbRefused');
    if (body.kind === 'events') ctx.send(msg.from, 'events-reply', { kind: 'events-reply', batch: body.batch, accepted: 0, rejected: body.records.length } satisfies LessonMessage, 32);
    return;
  }
  m.queue.push({ from: msg.from, body, arrivedAt: ctx.now });
  if (m.serving === null) start(m, ctx);
}

/** Starts serving the head of the queue: its CPU cost is known from what it will touch. */
function start(m: DbMemory, ctx: Ctx): void {
  const request = m.queue.shift();
  if (request === undefined) return;
  const { cost, rows } = costOf(m, request.body, ctx.now);
  assert(cost >= 0 && Number.isFinite(cost), 'lesson-db: a request costs a finite, non-negative time');
  m.serving = { request, cost, rows };
  ctx.observe('dbQueueWaitMs', (ctx.now - request.arrivedAt) / 1000);
  ctx.setTimer('serve', cost);
}

function costOf(m: DbMemory, body: LessonMessage, now: Micros): { cost: Micros; rows: number } {
  switch (body.kind) {
    case 'events':
      return { cost: Math.round(body.records.length * m.cfg.insertUsPerRow), rows: body.records.length };
    case 'query': {
      const rows = rowsInRange(m, queryFrom(body.windowUs, body.windows, now), Infinity);
      return { cost: Math.round(m.cfg.queryUsFixed + rows * m.cfg.scanUsPerRow), rows };
    }
    case 'get-results':
    case 'put-results':
      return { cost: Math.round(m.cfg.resultsUsFixed), rows: 0 };
    default:
      return fail(`lesson-db cannot serve ${body.kind}`);
  }
}

/** Where an online query's range starts: the first of the `windows` windows ending with the one holding `now`. */
function queryFrom(windowUs: Micros, windows: number, now: Micros): Micros {
  return Math.max(0, now - (now % windowUs) - (windows - 1) * windowUs);
}

function rowsInRange(m: DbMemory, fromUs: Micros, toUs: Micros): number {
  let n = 0;
  for (const r of m.rows) if (r.t >= fromUs && r.t < toUs) n++;
  return n;
}

/** The request's CPU time is spent: carry it out now, answer, and start the next. */
function finish(m: DbMemory, ctx: Ctx): void {
  const s = m.serving ?? fail('lesson-db: serve timer with nothing being served');
  m.serving = null;
  m.counts.busyUs += s.cost;
  ctx.count('dbBusyMs', s.cost / 1000);
  const { from, body } = s.request;
  switch (body.kind) {
    case 'events':
      insert(m, from, body, ctx);
      break;
    case 'query':
      query(m, from, body, s.cost, ctx);
      break;
    case 'get-results':
      ctx.send(from, 'results', { ...m.results, kind: 'results', computed: 'precomputed', seq: body.seq } satisfies LessonMessage, bytesOf(m.results.windows.length));
      break;
    case 'put-results':
      // Results are replaced whole; an older horizon never overwrites a newer one (a delayed write from a slow job).
      if (m.results.asOfUs === null || body.asOfUs >= m.results.asOfUs) m.results = { asOfUs: body.asOfUs, windowUs: body.windowUs, windows: body.windows };
      break;
    default:
      fail(`lesson-db cannot finish ${body.kind}`);
  }
  start(m, ctx);
}

function insert(m: DbMemory, from: NodeId, body: Extract<LessonMessage, { kind: 'events' }>, ctx: Ctx): void {
  const room = Math.max(0, m.cfg.rowsMax - m.rows.length);
  const accepted = Math.min(room, body.records.length);
  const items: { rec: Rec; at: Micros }[] = [];
  for (let i = 0; i < accepted; i++) {
    const rec = body.records[i];
    m.rows.push(rec);
    m.storedAt.push(ctx.now);
    items.push(Object.freeze({ rec, at: ctx.now }));
  }
  if (accepted > 0) ctx.persist({ op: 'append', key: ROWS, items, bytes: bytesOf(accepted) }, true);
  m.counts.inserted += accepted;
  m.counts.rejected += body.records.length - accepted;
  ctx.count('dbInserted', accepted);
  assert(m.rows.length === m.storedAt.length && m.rows.length <= m.cfg.rowsMax, 'lesson-db: the events table stays within rowsMax');
  ctx.send(from, 'events-reply', { kind: 'events-reply', batch: body.batch, accepted, rejected: body.records.length - accepted } satisfies LessonMessage, 32);
}

/**
 * Online: totals computed from the stored rows, now. The horizon is now: every row stored before this moment is in
 * the answer. The rows are read again on every refresh (`rowsRead`, `computeMs`) — work the other designs do once.
 */
function query(m: DbMemory, from: NodeId, body: Extract<LessonMessage, { kind: 'query' }>, cost: Micros, ctx: Ctx): void {
  if (!(body.windowUs > 0 && body.windows >= 1 && body.windows <= WINDOWS_SHOWN_MAX)) fail(`lesson-db: query of ${body.windows} windows of ${body.windowUs} µs`);
  const fromUs = queryFrom(body.windowUs, body.windows, ctx.now);
  const totals: Record<string, { count: number; sum: number }> = {};
  let rows = 0;
  for (const r of m.rows) {
    if (r.t < fromUs) continue;
    const k = String(r.t - (r.t % body.windowUs));
    const w = (totals[k] ??= { count: 0, sum: 0 });
    w.count++;
    w.sum += r.value;
    rows++;
  }
  m.counts.queries++;
  m.counts.rowsScanned += rows;
  ctx.count('rowsRead', rows);
  ctx.count('computeMs', cost / 1000);
  const windows = recentWindows(totals, ctx.now, body.windowUs, body.windows, ms(m.cfg.graceMs));
  assert(windows.length <= WINDOWS_KEPT_MAX, 'lesson-db: a query answers a bounded number of windows');
  ctx.send(from, 'results', { kind: 'results', seq: body.seq, asOfUs: ctx.now, windowUs: body.windowUs, windows, computed: 'on-read' } satisfies LessonMessage, bytesOf(windows.length));
}
