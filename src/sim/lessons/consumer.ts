import { assert, fail } from '../kernel/assert.ts';
import { ms, type Micros } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { addToWindows, ConfigCheck, recentWindows, RECORDS_PER_MESSAGE_MAX, WINDOWS_KEPT_MAX, WINDOWS_SHOWN_MAX, type LessonMessage, type Rec } from './types.ts';

/**
 * A consumer with one CPU, in the three shapes the lessons compare:
 * - `pull` from a lesson-log, continuously (a stream processor: fetch, process, commit the offset with the next fetch);
 * - `pull` with `batchEveryMs` > 0 (a batch job: every N ms it wakes, reads everything appended since the last job,
 *   processes it in one go, and sleeps — the same log, a different cadence);
 * - `push` from a lesson-broker (it subscribes; the broker pushes up to `prefetch` messages; each is acknowledged once
 *   processed). Idle with nothing pushed for `timeoutMs`, it subscribes again: the subscription may have been lost, or
 *   the broker restarted and forgot its queues (they live in its memory).
 * Work is processed a unit at a time — a fetched or pushed chunk, or a whole job — costing `fixedCostMs` (a poll's
 * round trip and bookkeeping, or a job's start-up) plus one record per 1/`ratePerS` seconds. `slow` lowers the rate for
 * a while: a downstream hiccup that makes the consumer fall behind (notes `fell-behind` / `caught-up` around
 * `behindMs` of lag).
 *
 * With `results`, it keeps per-window totals of what it processed and writes them to a lesson-db after each unit,
 * with the horizon of the data they reflect (`asOfUs`, from the log's answers): the dashboard's staleness.
 *
 * Notes `processed` {ids} per unit (the ledger counts each id once per consumer) and counts `processed`, `rowsRead`,
 * `computeMs`; observes `processLatencyMs` (event time to processed) per record and `recordsPerBusyS` (throughput while
 * busy) per unit.
 */
export interface ConsumerConfig {
  from: NodeId;
  mode: 'pull' | 'push';
  /** Pull: the consumer group whose offsets the log keeps; '' = this node's id. */
  group: string;
  /** Pull: the log's partitions this consumer reads, 0..partitions-1. */
  partitions: number;
  /** Pull: where a group with no committed offset starts. */
  startFrom: 'earliest' | 'latest';
  ratePerS: number;
  slow: { fromMs: number; toMs: number; ratePerS: number } | null;
  fixedCostMs: number;
  batchEveryMs: number;
  fetchMax: number;
  bufferMax: number;
  prefetch: number;
  /** Pull: after a round over the partitions in which no fetch came back full, wait this long (a poll loop's interval). */
  pollMs: number;
  timeoutMs: number;
  startAtMs: number;
  behindMs: number;
  results: { db: NodeId; windowMs: number; windows: number; graceMs: number } | null;
}

export const CONSUMER_DEFAULTS: ConsumerConfig = {
  from: '',
  mode: 'pull',
  group: '',
  partitions: 1,
  startFrom: 'earliest',
  ratePerS: 1_000,
  slow: null,
  fixedCostMs: 1,
  batchEveryMs: 0,
  fetchMax: 100,
  bufferMax: 1_000,
  prefetch: 100,
  pollMs: 100,
  timeoutMs: 1_000,
  startAtMs: 0,
  behindMs: 2_000,
  results: null,
};

export const CONSUMER_BUFFER_MAX = 1_000_000;

/** One unit of work: records to process, the horizon they bring the results to, and (pull) the offsets after them. */
interface Work {
  records: Rec[];
  asOfUs: Micros | null;
  ends: number[] | null;
}

export interface ConsumerMemory {
  cfg: ConsumerConfig;
  group: string;
  /** False until the consumer has subscribed (push) or learned its offsets (pull). */
  started: boolean;
  /** Pull: the next offset to fetch, per partition; and the offset processed up to (committed with the next fetch). */
  offsets: number[];
  processedTo: number[];
  /** Pull: the horizon of the latest answer per partition (null until one came), and whether it reached the end. */
  partAsOf: (Micros | null)[];
  atEnd: boolean[];
  fetch: { seq: number; partition: number; max: number; sentAt: Micros } | null;
  fetchSeq: number;
  nextPartition: number;
  /** Answers in the current round over the partitions, and whether any came back full (more is waiting). */
  round: { answers: number; full: boolean };
  /** True when a fetch was held back because the buffer was full; processing restarts it. */
  stalled: boolean;
  /** Batch: the job being read (records so far, and which partitions it has read to their end). */
  job: { startedAt: Micros; records: Rec[]; caughtUp: boolean[] } | null;
  work: Work[];
  buffered: number;
  busy: { work: Work; cost: Micros } | null;
  windows: Record<string, { count: number; sum: number }>;
  resultsAsOf: Micros | null;
  behind: boolean;
  /** Push: when the broker last pushed (or the consumer subscribed). */
  lastPushAt: Micros;
  counts: { processed: number; units: number; busyUs: number; skipped: number };
}

type Ctx = NodeContext;

export const lessonConsumer: NodeBehavior<ConsumerMemory, Partial<ConsumerConfig>> = {
  kind: 'lesson-consumer',
  headline: (m) => ({ mode: m.cfg.batchEveryMs > 0 ? 'batch' : m.cfg.mode, processed: m.counts.processed, buffered: m.buffered, behind: m.behind }),
  view: (m) => ({
    cfg: m.cfg, group: m.group, started: m.started, offsets: m.offsets, processedTo: m.processedTo, buffered: m.buffered,
    busy: m.busy === null ? null : { records: m.busy.work.records.length, costUs: m.busy.cost }, job: m.job === null ? null : { startedAt: m.job.startedAt, records: m.job.records.length },
    windows: m.windows, resultsAsOf: m.resultsAsOf, behind: m.behind, counts: m.counts,
  }),
  boot(config, _disk, ctx) {
    const cfg = checkConfig(config, ctx);
    const parts = cfg.mode === 'pull' ? cfg.partitions : 0;
    const m: ConsumerMemory = {
      cfg, group: cfg.group === '' ? ctx.id : cfg.group, started: false, offsets: new Array<number>(parts).fill(0), processedTo: new Array<number>(parts).fill(-1),
      partAsOf: new Array<Micros | null>(parts).fill(null), atEnd: new Array<boolean>(parts).fill(false), fetch: null, fetchSeq: 0, nextPartition: 0, round: { answers: 0, full: false }, stalled: false, job: null, work: [], buffered: 0, busy: null,
      windows: {}, resultsAsOf: null, behind: false, lastPushAt: 0, counts: { processed: 0, units: 0, busyUs: 0, skipped: 0 },
    };
    ctx.count('processed', 0);
    const startAt = ms(cfg.startAtMs);
    if (startAt > ctx.now) ctx.setTimer('start', startAt - ctx.now);
    else start(m, ctx);
    if (cfg.slow !== null) {
      if (ms(cfg.slow.fromMs) > ctx.now) ctx.setTimer('slow-start', ms(cfg.slow.fromMs) - ctx.now);
      if (ms(cfg.slow.toMs) > ctx.now) ctx.setTimer('slow-end', ms(cfg.slow.toMs) - ctx.now);
    }
    return m;
  },
  step(m, input, ctx) {
    if (input.type === 'timer') return tick(m, input.name, ctx);
    return receive(m, input.msg, ctx);
  },
};

function checkConfig(config: Partial<ConsumerConfig>, ctx: Ctx): ConsumerConfig {
  const c = new ConfigCheck('lesson-consumer', ctx);
  const cfg = c.merge(CONSUMER_DEFAULTS, config);
  c.node('from', cfg.from, ctx);
  c.oneOf('mode', cfg.mode, ['pull', 'push'] as const);
  if (cfg.group !== '') c.text('group', cfg.group, 64);
  c.int('partitions', cfg.partitions, 1, 64);
  c.oneOf('startFrom', cfg.startFrom, ['earliest', 'latest'] as const);
  c.num('ratePerS', cfg.ratePerS, 0.001, 10_000_000);
  c.num('fixedCostMs', cfg.fixedCostMs, 0, 600_000);
  c.num('batchEveryMs', cfg.batchEveryMs, 0, 86_400_000);
  c.int('fetchMax', cfg.fetchMax, 1, RECORDS_PER_MESSAGE_MAX);
  c.int('bufferMax', cfg.bufferMax, 1, CONSUMER_BUFFER_MAX);
  c.int('prefetch', cfg.prefetch, 1, RECORDS_PER_MESSAGE_MAX);
  c.num('pollMs', cfg.pollMs, 1, 600_000);
  c.num('timeoutMs', cfg.timeoutMs, 1, 600_000);
  c.num('startAtMs', cfg.startAtMs, 0, 86_400_000);
  c.num('behindMs', cfg.behindMs, 1, 3_600_000);
  c.holds(cfg.bufferMax >= cfg.fetchMax, 'bufferMax must be at least fetchMax');
  c.holds(cfg.mode === 'pull' || cfg.batchEveryMs === 0, 'a batch job (batchEveryMs > 0) reads a log: mode must be pull');
  if (cfg.slow !== null) {
    if (typeof cfg.slow !== 'object') fail(`lesson-consumer ${ctx.id}: config.slow must be null or {fromMs, toMs, ratePerS}`);
    c.num('slow.fromMs', cfg.slow.fromMs, 0, 86_400_000);
    c.num('slow.toMs', cfg.slow.toMs, cfg.slow.fromMs, 86_400_000);
    c.num('slow.ratePerS', cfg.slow.ratePerS, 0.001, 10_000_000);
  }
  if (cfg.results !== null) {
    if (typeof cfg.results !== 'object') fail(`lesson-consumer ${ctx.id}: config.results must be null or {db, windowMs, windows, graceMs}`);
    c.node('results.db', cfg.results.db, ctx);
    c.num('results.windowMs', cfg.results.windowMs, 1, 86_400_000);
    c.int('results.windows', cfg.results.windows, 1, WINDOWS_SHOWN_MAX);
    c.num('results.graceMs', cfg.results.graceMs, 0, 3_600_000);
  }
  return cfg;
}

function tick(m: ConsumerMemory, name: string, ctx: Ctx): void {
  switch (name) {
    case 'start':
      return start(m, ctx);
    case 'slow-start':
    case 'slow-end':
      ctx.note(name, { ratePerS: rateAt(m.cfg, ctx.now) });
      return;
    case 'work':
      return finishWork(m, ctx);
    case 'poll':
      return fetchNext(m, ctx);
    case 'subscribe-check':
      ctx.setTimer('subscribe-check', ms(m.cfg.timeoutMs));
      if (ctx.now - m.lastPushAt >= ms(m.cfg.timeoutMs) && m.busy === null && m.work.length === 0) {
        ctx.count('resubscribes');
        subscribe(m, ctx);
      }
      return;
    case 'fetch-timeout':
      if (m.fetch !== null && ctx.now - m.fetch.sentAt >= ms(m.cfg.timeoutMs)) {
        ctx.count('fetchTimeouts');
        m.fetch = null;
        fetchNext(m, ctx);
      }
      return;
    case 'job':
      assert(m.job === null, 'lesson-consumer: a batch job starts only when the last one has been read');
      m.job = { startedAt: ctx.now, records: [], caughtUp: new Array<boolean>(m.cfg.partitions).fill(false) };
      ctx.note('job-start', { offsets: [...m.offsets] });
      return fetchNext(m, ctx);
    default:
      fail(`lesson-consumer has no timer ${name}`);
  }
}

function start(m: ConsumerMemory, ctx: Ctx): void {
  if (m.cfg.mode === 'push') {
    m.started = true;
    ctx.setTimer('subscribe-check', ms(m.cfg.timeoutMs));
    return subscribe(m, ctx);
  }
  ctx.send(m.cfg.from, 'offsets', { kind: 'offsets', group: m.group } satisfies LessonMessage, 32);
  // The answer may be lost: ask again until it comes.
  ctx.setTimer('start', ms(m.cfg.timeoutMs));
}

function subscribe(m: ConsumerMemory, ctx: Ctx): void {
  assert(m.cfg.mode === 'push', 'lesson-consumer: only a push consumer subscribes');
  m.lastPushAt = ctx.now;
  ctx.send(m.cfg.from, 'subscribe', { kind: 'subscribe', prefetch: m.cfg.prefetch } satisfies LessonMessage, 32);
}

function rateAt(cfg: ConsumerConfig, t: Micros): number {
  const s = cfg.slow;
  return s !== null && t >= ms(s.fromMs) && t < ms(s.toMs) ? s.ratePerS : cfg.ratePerS;
}

function receive(m: ConsumerMemory, msg: Message, ctx: Ctx): void {
  const body = msg.body as LessonMessage;
  switch (body.kind) {
    case 'offsets-reply':
      return started(m, body, ctx);
    case 'fetch-reply':
      return fetched(m, body, ctx);
    case 'deliver':
      m.lastPushAt = ctx.now;
      m.work.push({ records: [...body.records], asOfUs: null, ends: null });
      m.buffered += body.records.length;
      return startWork(m, ctx);
    default:
      fail(`lesson-consumer got ${body.kind} from ${msg.from}`);
  }
}

function started(m: ConsumerMemory, body: Extract<LessonMessage, { kind: 'offsets-reply' }>, ctx: Ctx): void {
  if (m.started) return; // a duplicate answer
  if (!(body.committed.length >= m.cfg.partitions)) fail(`lesson-consumer ${ctx.id}: the log has ${body.committed.length} partitions, config.partitions is ${m.cfg.partitions}`);
  m.started = true;
  ctx.cancelTimer('start');
  for (let p = 0; p < m.cfg.partitions; p++) {
    const committed = body.committed[p];
    m.offsets[p] = committed >= 0 ? committed : m.cfg.startFrom === 'earliest' ? body.start[p] : body.end[p];
    m.processedTo[p] = committed;
  }
  ctx.note('started', { group: m.group, offsets: [...m.offsets] });
  if (m.cfg.batchEveryMs > 0) ctx.setTimer('job', ms(m.cfg.batchEveryMs));
  else fetchNext(m, ctx);
}

/** Pull: asks the next partition for more, unless a fetch is out, the buffer is full, or no job is reading. */
function fetchNext(m: ConsumerMemory, ctx: Ctx): void {
  if (!m.started || m.fetch !== null || m.cfg.mode !== 'pull') return;
  let p = m.nextPartition;
  let max: number;
  if (m.cfg.batchEveryMs > 0) {
    if (m.job === null) return;
    for (let i = 0; i < m.cfg.partitions && m.job.caughtUp[p]; i++) p = (p + 1) % m.cfg.partitions;
    max = Math.min(m.cfg.fetchMax, m.cfg.bufferMax - m.job.records.length);
  } else {
    max = Math.min(m.cfg.fetchMax, m.cfg.bufferMax - m.buffered);
  }
  if (max <= 0) {
    m.stalled = true;
    return;
  }
  const seq = ++m.fetchSeq;
  m.fetch = { seq, partition: p, max, sentAt: ctx.now };
  const body: LessonMessage = { kind: 'fetch', seq, group: m.group, partition: p, offset: m.offsets[p], max, commit: m.processedTo[p] };
  ctx.send(m.cfg.from, 'fetch', body, 48);
  ctx.setTimer('fetch-timeout', ms(m.cfg.timeoutMs));
}

function fetched(m: ConsumerMemory, body: Extract<LessonMessage, { kind: 'fetch-reply' }>, ctx: Ctx): void {
  if (m.fetch === null || body.seq !== m.fetch.seq) return; // an answer to a fetch given up on
  const p = body.partition;
  const asked = m.fetch.max;
  m.fetch = null;
  if (body.from > m.offsets[p]) m.counts.skipped += body.from - m.offsets[p];
  const next = body.from + body.records.length;
  m.offsets[p] = next;
  m.partAsOf[p] = body.asOfUs;
  m.atEnd[p] = next === body.end;
  m.nextPartition = (p + 1) % m.cfg.partitions;
  if (m.job !== null) return readJob(m, p, body, next === body.end, ctx);
  m.round.answers++;
  if (body.records.length >= asked) m.round.full = true;
  if (body.records.length > 0) {
    m.work.push({ records: [...body.records], asOfUs: horizon(m), ends: [...m.offsets] });
    m.buffered += body.records.length;
    startWork(m, ctx);
  } else if (m.busy === null && m.work.length === 0) {
    // Nothing new and nothing pending: the results are complete up to the log's newer horizon.
    writeResults(m, horizon(m), ctx);
  }
  if (m.round.answers < m.cfg.partitions) return fetchNext(m, ctx);
  const behind = m.round.full;
  m.round = { answers: 0, full: false };
  if (behind) fetchNext(m, ctx);
  else ctx.setTimer('poll', ms(m.cfg.pollMs));
}

/** Batch: gathers the job's records until every partition was read to its end (or the buffer is full), then queues the job. */
function readJob(m: ConsumerMemory, p: number, body: Extract<LessonMessage, { kind: 'fetch-reply' }>, atEnd: boolean, ctx: Ctx): void {
  const job = m.job!;
  for (const r of body.records) job.records.push(r);
  if (atEnd) job.caughtUp[p] = true;
  const full = job.records.length >= m.cfg.bufferMax;
  if (!full && !job.caughtUp.every(Boolean)) return fetchNext(m, ctx);
  m.job = null;
  ctx.note('job-read', { records: job.records.length, readMs: (ctx.now - job.startedAt) / 1000 });
  m.work.push({ records: job.records, asOfUs: horizon(m), ends: [...m.offsets] });
  m.buffered += job.records.length;
  startWork(m, ctx);
  // The schedule is fixed (cron): the next job starts one period after this one started, or at once if that passed.
  ctx.setTimer('job', Math.max(1, job.startedAt + ms(m.cfg.batchEveryMs) - ctx.now));
}

/** The consumer's horizon: the oldest of its partitions' horizons (null until every partition answered once). */
function horizon(m: ConsumerMemory): Micros | null {
  let h: Micros = Infinity;
  for (const a of m.partAsOf) {
    if (a === null) return null;
    h = Math.min(h, a);
  }
  return h;
}

function startWork(m: ConsumerMemory, ctx: Ctx): void {
  if (m.busy !== null) return;
  const work = m.work.shift();
  if (work === undefined) return;
  const cost = Math.max(1, Math.round(ms(m.cfg.fixedCostMs) + (work.records.length / rateAt(m.cfg, ctx.now)) * 1_000_000));
  m.busy = { work, cost };
  ctx.setTimer('work', cost);
}

/** A unit is processed: account for it, acknowledge or commit, update the results, and take the next. */
function finishWork(m: ConsumerMemory, ctx: Ctx): void {
  const { work, cost } = m.busy ?? fail('lesson-consumer: work timer while idle');
  m.busy = null;
  const n = work.records.length;
  m.buffered -= n;
  assert(m.buffered >= 0, 'lesson-consumer: buffered count stays non-negative');
  m.counts.processed += n;
  m.counts.units++;
  m.counts.busyUs += cost;
  ctx.count('processed', n);
  ctx.count('rowsRead', n);
  ctx.count('computeMs', cost / 1000);
  ctx.observe('unitRecords', n);
  if (n > 0) ctx.observe('recordsPerBusyS', Math.round(n / (cost / 1_000_000)));
  for (const r of work.records) ctx.observe('processLatencyMs', (ctx.now - r.t) / 1000);
  ctx.note('processed', { ids: work.records.map((r) => r.id), costMs: cost / 1000 });
  if (n > 0) trackLag(m, (ctx.now - work.records[n - 1].t) / 1000, ctx);
  if (m.cfg.mode === 'push') ctx.send(m.cfg.from, 'ack', { kind: 'ack', ids: work.records.map((r) => r.id) } satisfies LessonMessage, 16 + 8 * n);
  if (work.ends !== null) m.processedTo = work.ends;
  if (m.cfg.results !== null) {
    addToWindows(m.windows, work.records, ms(m.cfg.results.windowMs), WINDOWS_KEPT_MAX);
    writeResults(m, work.asOfUs, ctx);
  }
  startWork(m, ctx);
  if (m.stalled) {
    m.stalled = false;
    fetchNext(m, ctx);
  }
}

/**
 * Lag: the age of the newest order just processed (`lagMs:<id>`). Behind once it passes `behindMs`; caught up once it is
 * under a quarter of that with nothing left buffered and (pull) every partition read to its end — partitions are read
 * in turn, so one partition's fresh order says nothing about the others.
 */
function trackLag(m: ConsumerMemory, lagMs: number, ctx: Ctx): void {
  ctx.observe(`lagMs:${ctx.id}`, lagMs);
  if (!m.behind && lagMs > m.cfg.behindMs) {
    m.behind = true;
    ctx.note('fell-behind', { lagMs });
  } else if (m.behind && lagMs < m.cfg.behindMs / 4 && m.work.length === 0 && m.atEnd.every(Boolean)) {
    m.behind = false;
    ctx.note('caught-up', { lagMs });
  }
}

function writeResults(m: ConsumerMemory, asOfUs: Micros | null, ctx: Ctx): void {
  const r = m.cfg.results;
  if (r === null || asOfUs === null || (m.resultsAsOf !== null && asOfUs <= m.resultsAsOf)) return;
  m.resultsAsOf = asOfUs;
  const windowUs = ms(r.windowMs);
  const windows = recentWindows(m.windows, asOfUs, windowUs, r.windows, ms(r.graceMs));
  ctx.count('resultsWritten');
  ctx.send(r.db, 'put-results', { kind: 'put-results', asOfUs, windowUs, windows } satisfies LessonMessage, 48 + 24 * windows.length);
}
