import { assert, fail } from '../kernel/assert.ts';
import { ms } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import type { Delivered, MqRpc } from '../mq/types.ts';
import { functionLabel, matchServers, type StoredQuery } from './query.ts';
import { addSeen, digestAddHashes, hasSeen, nameHash, newDigest, newServerIndex, sampleHashA, sampleHashB, serverIndexOf, type Digest, type SecondSets, type ServerIndex } from './samples.ts';
import { sampleColumns, type ApmRpc, type PointKey, type PointWrite, type SampleBlock } from './types.ts';
import { addSampleAt, advance, newWindowState, windowClosed, windowConfig, windowsOf, type ClosedWindow, type WindowState } from './window.ts';

/**
 * An aggregation server: the notes' loop "forever, for every query: find the metric, collect the values of the
 * current window, aggregate, write the data point, then ack". Its MQ consumer (on the same host) hands it samples in
 * `write` batches and acks them only when this node answers `written` — which it does once every window those samples
 * went into is stored in the time-series store. So a crash loses no window: unacked samples come back to whoever owns
 * their partition next, and the store's key (query, window start, partition) makes a rewrite harmless.
 *
 * Windows are kept per query and per partition: a partition's samples arrive roughly in event-time order, so each
 * partition has its own watermark, and the dashboard merges a window's partials across partitions (min of mins,
 * merged sketches — never the average of percentiles).
 *
 * What it reads is counted per aggregator — messages, bytes, samples, the samples no query of its own wanted
 * (discarded), and the partitions it has read from — so scenarios can compare topic layouts: with one topic per
 * metric an aggregator reads only what its queries need, with one topic for everything it reads and discards.
 */
export interface AggregatorConfig {
  queries: readonly StoredQuery[];
  /** The MQ consumer on this host whose sink this node is. */
  consumer: NodeId;
  tsdb: NodeId;
  /** Event time: the watermark trails the newest sample by this much (bounded out-of-orderness). */
  outOfOrderMs: number;
  /**
   * Event time: a partition silent this long lets its watermark follow the clock instead (an idle source), so its
   * last windows still close when the data stops.
   */
  idleMs: number;
  /** How often windows are checked for closing and unanswered writes resent. */
  tickMs: number;
  relativeAccuracy: number;
  /** A point the store has not confirmed within this is written again. */
  writeRetryMs: number;
}

export const AGGREGATOR_DEFAULTS: Omit<AggregatorConfig, 'queries' | 'consumer'> = {
  tsdb: 'tsdb',
  outOfOrderMs: 500,
  idleMs: 3000,
  tickMs: 250,
  relativeAccuracy: 0.01,
  writeRetryMs: 1000,
};

/** One query's windows over one partition. */
interface Stream {
  query: string;
  partition: string;
  win: WindowState;
  lastArrivalUs: number;
  /** Per open window start: the write batches (wids) with samples in it, and the samples' keys (`server@t`). */
  open: Record<string, Held>;
  /** What the most recently closed windows counted (CLOSED_KEPT of them): a copy arriving after its window closed is a duplicate, not late data. */
  closed: { start: number; seen: SecondSets }[];
}

interface Held {
  wids: number[];
  /** The (server, second) pairs counted, to spot a sample delivered twice while its window is open (at-least-once). */
  seen: SecondSets;
  /** Their digest, the window's evidence at any scale. */
  digest: Digest;
  /** Their keys (`server@t`) while few enough to list in the trace (EVIDENCE_LIST_MAX); null beyond. */
  samples: string[] | null;
}

/** A `write` from the consumer, answered `written` when no window holding its samples is still unstored. */
interface Batch {
  ids: string[];
  pending: number;
}

export interface AggregatorState {
  cfg: AggregatorConfig;
  /** Per metric, the indices (in `cfg.queries`) of the queries that read it. */
  byMetric: Record<string, number[]>;
  /**
   * Per query index, whether each server (by index in `servers`) matches its FROM clause: 0 not asked yet, 1 no, 2
   * yes. A cache of `matchServers`, which would otherwise glob-match every sample against every query.
   */
  matches: number[][];
  servers: ServerIndex;
  /** Each server's name hash (samples.ts), by server index: an array read instead of a lookup by name per sample. */
  serverHash: number[];
  /** Partitions this aggregator has read samples from (ever): how many topics' partitions its queries fan in from. */
  readFrom: Record<string, 1>;
  /** Names of the per-aggregator read counters (`apm.bytesRead.<id>` …), made once. */
  metricNames: { bytes: string; messages: string; samples: string; discarded: string; partitions: string };
  /** The consumer-group generation in which this aggregator was last given each partition (its write fence). */
  generation: Record<string, number>;
  streams: Record<string, Stream>;
  batches: Record<number, Batch>;
  /** Points sent to the store and not yet confirmed, by point key text, with the batches waiting on them. */
  storing: Record<string, { point: PointWrite; wids: number[]; sentAt: number; evidence: Readonly<Record<string, unknown>> }>;
  counts: {
    samples: number; late: number; unmatched: number; duplicates: number; disowned: number; windows: number; stored: number; rewrites: number; conflicts: number;
    messages: number; bytes: number;
  };
}

type Ctx = NodeContext;

/** Samples one window may hold; more means a window far too large for the simulation. */
const WINDOW_SAMPLES_MAX = 2_000_000;
/** Windows of at most this many samples list them in their `window` note; larger ones give only their digest. */
const EVIDENCE_LIST_MAX = 400;
/** Closed windows whose counted samples are remembered to tell a late copy from late data. */
const CLOSED_KEPT = 8;

/** Teaching bugs: each removes one rule that keeps the windows whole. */
export const APM_BUGS = {
  'apm-ack-before-write': 'the aggregator answers a write (so its samples are acked) as soon as it takes them, before their windows are stored: a crash loses the open windows (the notes’ ack problem)',
  'apm-no-dedupe': 'the aggregator counts a sample again when the queue delivers it again while its window is open',
} as const;

export const apmAggregator: NodeBehavior<AggregatorState, Partial<AggregatorConfig>> = {
  kind: 'apm-aggregator',
  bugs: APM_BUGS,
  boot(config, _disk, ctx) {
    const cfg = { ...AGGREGATOR_DEFAULTS, ...config } as AggregatorConfig;
    if (!cfg.consumer) fail('apm aggregator: consumer is required');
    if (!(cfg.queries && cfg.queries.length > 0)) fail('apm aggregator: no stored queries');
    if (!(cfg.tickMs > 0 && cfg.idleMs > 0 && cfg.outOfOrderMs >= 0)) fail('apm aggregator: tickMs and idleMs must be positive, outOfOrderMs not negative');
    ctx.setTimer('tick', ms(cfg.tickMs));
    const queries = cfg.queries.map((q) => ({ id: q.id, metric: q.query.metric, servers: q.query.servers, windowUs: q.query.windowUs, slideUs: q.query.slideUs, time: q.query.time }));
    ctx.note('queries', { queries });
    const byMetric: Record<string, number[]> = {};
    cfg.queries.forEach((q, i) => (byMetric[q.query.metric] ??= []).push(i));
    const id = ctx.id;
    const metricNames = { bytes: `apm.bytesRead.${id}`, messages: `apm.messagesRead.${id}`, samples: `apm.samplesRead.${id}`, discarded: `apm.samplesDiscarded.${id}`, partitions: `apm.partitionsRead.${id}` };
    const counts = { samples: 0, late: 0, unmatched: 0, duplicates: 0, disowned: 0, windows: 0, stored: 0, rewrites: 0, conflicts: 0, messages: 0, bytes: 0 };
    return {
      cfg, byMetric, matches: cfg.queries.map(() => []), servers: newServerIndex(), serverHash: [], readFrom: {}, metricNames, generation: {}, streams: {}, batches: {}, storing: {}, counts,
    };
  },
  view: (s) => ({
    counts: s.counts,
    streams: Object.values(s.streams).map((x) => ({
      query: x.query, partition: x.partition, open: x.win.open.map((w) => ({ start: w.startUs, count: w.acc.count })),
      watermark: x.win.watermarkUs, late: x.win.lateSamples,
    })),
    batchesWaiting: Object.keys(s.batches).length,
    storing: Object.keys(s.storing).length,
    readFrom: Object.keys(s.readFrom),
  }),
  headline: (s) => ({ role: 'aggregator', streams: Object.keys(s.streams).length, windows: s.counts.windows, late: s.counts.late }),
  step(s, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'tick') fail(`apm aggregator has no timer ${input.name}`);
      return tick(s, ctx);
    }
    receive(s, input.msg, ctx);
  },
};

function receive(s: AggregatorState, msg: Message, ctx: Ctx): void {
  const body = msg.body as MqRpc | ApmRpc | { kind: 'revoked'; partitions: readonly string[] };
  switch (body.kind) {
    case 'write':
      if (msg.from !== s.cfg.consumer) fail(`apm aggregator ${ctx.id}: a write from ${msg.from}, not its consumer`);
      return take(s, ctx, body.wid, body.items);
    case 'point-stored':
      return stored(s, ctx, body);
    case 'revoked':
      return revoke(s, ctx, body.partitions, 'partitions moved to another aggregator');
    case 'assigned':
      s.generation = {};
      for (const p of body.partitions) s.generation[p] = body.generation;
      return;
    case 'activate':
    case 'deactivate':
      if (body.kind === 'deactivate') revoke(s, ctx, Object.values(s.streams).map((x) => x.partition), 'deactivated');
      ctx.note(body.kind === 'activate' ? 'activated' : 'deactivated', { by: msg.from });
      ctx.send(s.cfg.consumer, body.kind, { kind: body.kind } satisfies MqRpc, 16);
      return;
    default:
      fail(`apm aggregator got ${body.kind} from ${msg.from}`);
  }
}

/** One `write` batch: each sample goes into the windows of every query that selects its metric and server. */
function take(s: AggregatorState, ctx: Ctx, wid: number, items: readonly Delivered[]): void {
  assert(s.batches[wid] === undefined, `write ${wid} taken twice`);
  const batch: Batch = { ids: items.map((d) => d.m.id), pending: 0 };
  s.batches[wid] = batch;
  const before = { messages: s.counts.messages, samples: s.counts.samples, unmatched: s.counts.unmatched, bytes: s.counts.bytes };
  for (const d of items) {
    // Delivered before a rebalance took the partition away, processed after: its new owner counts it (it is not acked).
    if (s.generation[d.partition] === undefined) {
      s.counts.disowned++;
      continue;
    }
    const samples = sampleColumns(d.m.data) ?? fail(`apm aggregator: message ${d.m.id} carries no metric sample`);
    s.counts.messages++;
    s.counts.bytes += d.m.bytes;
    if (s.readFrom[d.partition] === undefined) {
      s.readFrom[d.partition] = 1;
      ctx.count(s.metricNames.partitions);
    }
    batch.pending += takeSamples(s, ctx, d.partition, samples, wid);
  }
  countReads(s, ctx, before);
  closeWindows(s, ctx);
  if (batch.pending === 0 || ctx.bug('apm-ack-before-write')) {
    batch.pending = 0;
    answer(s, ctx, wid);
  }
}

/** The read counters: totals (`apm.samplesRead` …) and this aggregator's own (`apm.samplesRead.<id>` …). */
function countReads(s: AggregatorState, ctx: Ctx, before: { messages: number; samples: number; unmatched: number; bytes: number }): void {
  const messages = s.counts.messages - before.messages;
  const samples = s.counts.samples - before.samples;
  const discarded = s.counts.unmatched - before.unmatched;
  const bytes = s.counts.bytes - before.bytes;
  assert(messages >= 0 && samples >= messages && discarded >= 0 && discarded <= samples && bytes >= 0, 'read counters only grow, and discard no more than they read');
  const names = s.metricNames;
  // Counted even when 0, so a run that discards nothing reports 0 rather than no value.
  ctx.count('apm.messagesRead', messages);
  ctx.count(names.messages, messages);
  ctx.count('apm.bytesRead', bytes);
  ctx.count(names.bytes, bytes);
  ctx.count('apm.samplesRead', samples);
  ctx.count(names.samples, samples);
  ctx.count('apm.samplesDiscarded', discarded);
  ctx.count(names.discarded, discarded);
}

/**
 * The samples of one message (one partition), in columns. Per sample: the queries of its metric (looked up again only
 * when the metric changes — a block of a metric topic holds one), the server's index and its digest hashes (once per
 * sample, however many queries and windows take it), then each matching query's windows. Returns how many open
 * windows now wait on `wid`.
 */
function takeSamples(s: AggregatorState, ctx: Ctx, partition: string, x: SampleBlock, wid: number): number {
  const streams: (Stream | undefined)[] = [];
  let metric: string | null = null;
  let queries: readonly number[] = NO_QUERIES;
  let waiting = 0;
  for (let i = 0; i < x.value.length; i++) {
    s.counts.samples++;
    if (x.metric[i] !== metric) {
      metric = x.metric[i];
      queries = s.byMetric[metric] ?? NO_QUERIES;
    }
    if (queries.length === 0) {
      s.counts.unmatched++;
      continue;
    }
    const server = x.server[i];
    const index = serverIndexOf(s.servers, server);
    let matched = false;
    for (let k = 0; k < queries.length; k++) {
      const qi = queries[k];
      if (!matchesServer(s, qi, index, server)) continue;
      if (!matched) {
        matched = true;
        const h = serverHashOf(s, index, server);
        const t = x.t[i];
        PLACED.server = server;
        PLACED.index = index;
        PLACED.t = t;
        PLACED.value = x.value[i];
        PLACED.hashA = sampleHashA(h, t);
        PLACED.hashB = sampleHashB(h, t);
      }
      const st = (streams[qi] ??= streamOf(s, s.cfg.queries[qi], partition));
      waiting += place(s, ctx, s.cfg.queries[qi], st, PLACED, wid);
    }
    if (!matched) s.counts.unmatched++;
  }
  return waiting;
}

const NO_QUERIES: readonly number[] = Object.freeze([]);

/** The name hash of `server` (index `index`), cached by index. */
function serverHashOf(s: AggregatorState, index: number, server: string): number {
  let h = s.serverHash[index];
  if (h === undefined) {
    while (s.serverHash.length < index) s.serverHash.push(nameHash(s.servers.names[s.serverHash.length]));
    h = s.serverHash[index] = nameHash(server);
  }
  return h;
}

/** Whether query `qi` reads `server` (index `index`): `matchServers`, cached per query and server. */
function matchesServer(s: AggregatorState, qi: number, index: number, server: string): boolean {
  const row = s.matches[qi];
  let m = row[index];
  if (m === undefined || m === 0) {
    while (row.length <= index) row.push(0);
    m = row[index] = matchServers(s.cfg.queries[qi].query, server) ? 2 : 1;
  }
  return m === 2;
}

/** One sample as `place` takes it: its identity (server and its index, event time), value and digest hashes. */
interface Placed {
  server: string;
  index: number;
  t: number;
  value: number;
  hashA: number;
  hashB: number;
}

/** Scratch for the sample being placed: filled once per sample, read by `place`, never kept. */
const PLACED: Placed = { server: '', index: 0, t: 0, value: 0, hashA: 0, hashB: 0 };

/** The start of the one window of a tumbling query, or the starts of a sliding query's windows, of time `time`. */
function startsOf(q: StoredQuery, time: number): readonly number[] {
  const { windowUs, slideUs } = q.query;
  if (slideUs !== windowUs) return windowsOf(time, windowUs, slideUs);
  ONE_START[0] = Math.floor(time / windowUs) * windowUs;
  return ONE_START;
}

/** Scratch for `startsOf`: read before the next call, never kept. */
const ONE_START: number[] = [0];

/** Adds one sample to one query's windows of its partition; returns how many open windows now wait on `wid`. */
function place(s: AggregatorState, ctx: Ctx, q: StoredQuery, st: Stream, x: Placed, wid: number): number {
  st.lastArrivalUs = ctx.now;
  const starts = startsOf(q, q.query.time === 'event' ? x.t : ctx.now);
  if (!ctx.bug('apm-no-dedupe') && countedBefore(st, starts, x.index, x.t)) {
    // Delivered again while its window is open or unconfirmed (the queue redelivers what was not acked in time):
    // count it once — but this delivery's batch must still wait for that window to be stored before it is acked,
    // or an ack of the copy would ack the message whose first copy sits in a window not yet written.
    s.counts.duplicates++;
    ctx.count('apm.duplicateSamples');
    return waitOnCopy(s, q, st, starts, wid);
  }
  const late = st.win.lateSamples;
  addSampleAt(st.win, x.t, x.value, ctx.now);
  if (st.win.lateSamples > late) {
    s.counts.late++;
    ctx.count('apm.lateSamples');
    ctx.note('late', { query: q.id, partition: st.partition, server: x.server, t: x.t, value: x.value, watermark: st.win.watermarkUs });
  }
  let waiting = 0;
  for (let k = 0; k < starts.length; k++) {
    const start = starts[k];
    if (windowClosed(st.win, start)) continue;
    const w = (st.open[start] ??= { wids: [], seen: {}, digest: newDigest(), samples: [] });
    if (!(w.digest.n < WINDOW_SAMPLES_MAX)) fail(`apm aggregator: window ${start} of ${q.id} holds too many samples`);
    addSeen(w.seen, x.index, x.t);
    digestAddHashes(w.digest, x.hashA, x.hashB);
    if (w.samples !== null) w.samples = w.samples.length < EVIDENCE_LIST_MAX ? (w.samples.push(`${x.server}@${x.t}`), w.samples) : null;
    if (w.wids[w.wids.length - 1] !== wid) {
      w.wids.push(wid);
      waiting++;
    }
  }
  return waiting;
}

/** Makes batch `wid` wait on the windows (open, or written and not yet confirmed) that hold a copy of its sample. */
function waitOnCopy(s: AggregatorState, q: StoredQuery, st: Stream, starts: readonly number[], wid: number): number {
  let waiting = 0;
  for (const start of starts) {
    const open = st.open[start];
    const wids = open?.wids ?? s.storing[`${q.id}|${start}|${st.partition}`]?.wids;
    if (wids === undefined || wids[wids.length - 1] === wid || wids.includes(wid)) continue;
    wids.push(wid);
    waiting++;
  }
  return waiting;
}

/** True when one of these windows (open, or closed recently) already counted the sample (server index, t). */
function countedBefore(st: Stream, starts: readonly number[], index: number, t: number): boolean {
  for (const start of starts) {
    const open = st.open[start];
    if (open !== undefined) {
      if (hasSeen(open.seen, index, t)) return true;
      continue;
    }
    for (const c of st.closed) if (c.start === start && hasSeen(c.seen, index, t)) return true;
  }
  return false;
}

function streamOf(s: AggregatorState, q: StoredQuery, partition: string): Stream {
  const key = `${q.id}|${partition}`;
  let st = s.streams[key];
  if (st === undefined) {
    const processing = q.query.time === 'processing';
    const config = windowConfig({
      timeMode: q.query.time, windowUs: q.query.windowUs, slideUs: q.query.slideUs, fns: q.query.compute,
      outOfOrderUs: processing ? 0 : ms(s.cfg.outOfOrderMs), allowedLatenessUs: q.query.latenessUs, relativeAccuracy: s.cfg.relativeAccuracy,
    });
    st = s.streams[key] = { query: q.id, partition, win: newWindowState(config), lastArrivalUs: 0, open: {}, closed: [] };
  }
  return st;
}

function tick(s: AggregatorState, ctx: Ctx): void {
  ctx.setTimer('tick', ms(s.cfg.tickMs));
  for (const st of Object.values(s.streams)) {
    // An idle source: with no sample for `idleMs`, the watermark follows the clock so the last windows can close.
    const w = st.win;
    if (w.config.timeMode === 'event' && w.open.length > 0 && ctx.now - st.lastArrivalUs >= ms(s.cfg.idleMs)) {
      const floor = ctx.now - ms(s.cfg.idleMs) - w.config.outOfOrderUs;
      if (w.watermarkUs === null || floor > w.watermarkUs) w.watermarkUs = floor;
    }
  }
  closeWindows(s, ctx);
  for (const [key, p] of Object.entries(s.storing)) {
    if (ctx.now - p.sentAt < ms(s.cfg.writeRetryMs)) continue;
    p.sentAt = ctx.now;
    ctx.note('write-retry', { key });
    sendPoint(s, ctx, p.point);
  }
}

/** Emits every window the watermarks closed: each becomes a point written to the store. */
function closeWindows(s: AggregatorState, ctx: Ctx): void {
  for (const key in s.streams) {
    const st = s.streams[key];
    for (const w of advance(st.win, ctx.now)) {
      const held = st.open[w.startUs] ?? { wids: [], seen: {}, digest: newDigest(), samples: [] };
      delete st.open[w.startUs];
      st.closed.push({ start: w.startUs, seen: held.seen });
      if (st.closed.length > CLOSED_KEPT) st.closed.shift();
      write(s, ctx, st, w, held);
    }
  }
}

function write(s: AggregatorState, ctx: Ctx, st: Stream, w: ClosedWindow, held: Held): void {
  assert(held.digest.n === w.count, `window ${w.startUs} of ${st.query}/${st.partition}: ${held.digest.n} samples kept, ${w.count} counted`);
  const point: PointWrite = Object.freeze({
    query: st.query, start: w.startUs, partition: st.partition, end: w.endUs, count: w.count, late: st.win.lateSamples,
    values: Object.freeze(w.aggregates), sum: sumOf(w), min: w.sketch.min, max: w.sketch.max, sketch: w.sketch, by: ctx.id,
    generation: s.generation[st.partition] ?? 0,
  });
  s.counts.windows++;
  const key = pointKey(point);
  const values: Record<string, number | null> = {};
  for (const a of w.aggregates) values[functionLabel(a.fn)] = a.value;
  // The window's evidence — which samples it counted (their digest; their list when short) — goes in the trace once
  // the store has it: the checker compares it with the samples the queue acknowledged and recomputes the aggregates.
  const metric = s.cfg.queries.find((q) => q.id === st.query)!.query.metric;
  const evidence = Object.freeze({
    query: st.query, metric, partition: st.partition, start: w.startUs, end: w.endUs, generation: point.generation, count: w.count, values,
    sum: point.sum, min: point.min, max: point.max, digest: held.digest, ...(held.samples !== null ? { samples: Object.freeze(held.samples) } : {}),
  });
  s.storing[key] = { point, wids: held.wids, sentAt: ctx.now, evidence };
  sendPoint(s, ctx, point);
}

function sumOf(w: ClosedWindow): number {
  const sum = w.aggregates.find((a) => a.fn.fn === 'sum');
  return sum && sum.value !== null ? sum.value : w.sketch.sum;
}

function sendPoint(s: AggregatorState, ctx: Ctx, point: PointWrite): void {
  ctx.send(s.cfg.tsdb, 'write-point', { kind: 'write-point', point } satisfies ApmRpc, 64 + 8 * point.values.length + 16 * point.sketch.positive.keys.length);
}

function pointKey(k: PointKey): string {
  return `${k.query}|${k.start}|${k.partition}`;
}

function stored(s: AggregatorState, ctx: Ctx, r: Extract<ApmRpc, { kind: 'point-stored' }>): void {
  const key = pointKey(r.key);
  const p = s.storing[key];
  if (p === undefined) return; // a second answer to a retried write
  if (r.fenced) {
    // Written under an ownership a newer generation has ended: a zombie's write. Its samples stay unacked (they went
    // back to the partition's current owner). If that ownership is still what this aggregator holds, it is a zombie
    // for the whole partition; if it has been given the partition again since, only this old window goes.
    delete s.storing[key];
    for (const wid of p.wids) delete s.batches[wid];
    ctx.note('fenced', { key: r.key, generation: p.point.generation });
    if (s.generation[r.key.partition] === p.point.generation) revoke(s, ctx, [r.key.partition], 'fenced by the store: a newer generation owns the partition');
    return;
  }
  if (!r.ok) return; // the store refused it: written again on the next tick after writeRetryMs
  delete s.storing[key];
  s.counts.stored++;
  if (r.duplicate) s.counts.rewrites++;
  if (r.conflict) {
    // The store holds another version of this window (written by the partition's previous owner): it is final. The
    // samples only this version counted arrived too late for it; they are acked as late data, not lost silently.
    s.counts.conflicts++;
    ctx.note('window-late', p.evidence);
  } else ctx.note('window', p.evidence);
  for (const wid of p.wids) {
    const b = s.batches[wid];
    if (b === undefined) continue; // answered already (a revoke, or the ack-before-write bug)
    b.pending--;
    assert(b.pending >= 0, `write ${wid} waits on a negative number of windows`);
    if (b.pending === 0) answer(s, ctx, wid);
  }
}

/** Every window holding the batch's samples is stored: the consumer may ack them (the notes: write, then ack). */
function answer(s: AggregatorState, ctx: Ctx, wid: number): void {
  const b = s.batches[wid];
  delete s.batches[wid];
  ctx.note('processed', { consumer: s.cfg.consumer, ids: Object.freeze(b.ids) });
  ctx.send(s.cfg.consumer, 'written', { kind: 'written', wid } satisfies MqRpc, 16);
}

/**
 * Partitions taken away (a rebalance, or this aggregator scaled in): their open windows are dropped unwritten. Their
 * samples were not acked, so the partition's new owner gets them again and writes those windows whole — writing a
 * partial window here would store a point the new owner's complete one then conflicts with.
 */
function revoke(s: AggregatorState, ctx: Ctx, partitions: readonly string[], why: string): void {
  let dropped = 0;
  for (const p of partitions) delete s.generation[p];
  for (const [key, st] of Object.entries(s.streams)) {
    if (!partitions.includes(st.partition)) continue;
    for (const held of Object.values(st.open)) {
      dropped++;
      for (const wid of held.wids) {
        const b = s.batches[wid];
        if (b === undefined) continue;
        b.pending--;
        if (b.pending === 0) answer(s, ctx, wid);
      }
    }
    delete s.streams[key];
  }
  if (partitions.length > 0) ctx.note('revoked', { partitions: [...partitions], windowsDropped: dropped, why });
}
