import type { Checker, CheckView, Finding } from '../kernel/checker.ts';
import type { TraceEvent } from '../kernel/trace.ts';
import { idForEach } from '../mq/idtable.ts';
import type { PartitionState } from '../mq/partition.ts';
import type { MqCommand, MqMessage } from '../mq/types.ts';
import type { RaftMemory } from '../raft/replica.ts';
import { globMatch } from './query.ts';
import {
  addSeen, digestAdd, digestAddHashes, digestMerge, hasSeen, nameHash, newDigest, newServerIndex, sampleHashA, sampleHashB, serverIndexOf,
  type Digest, type SecondSets, type ServerIndex,
} from './samples.ts';
import { sampleColumns } from './types.ts';
import { exactPercentile, windowsOf } from './window.ts';

/**
 * The pipeline's books, kept from the trace alone, at any scale:
 * - the truth: every sample in a produce request the producer saw acknowledged, once (an agent's retry can put a
 *   sample in the queue twice), credited to the window and partition it belongs to — its count, the digest of its
 *   (server, second) pairs, and its values;
 * - what the aggregators wrote (`window` notes: count, digest, aggregates) and found late (`late` notes).
 * Checked as windows are written: a window written again counts the same samples (equal digests). Checked at the
 * end, for every point written: it counted exactly the acknowledged samples of its window and partition, less those
 * late or still queued — conserved counts, no sample twice, none lost — and, where nothing was late or queued, its
 * min, max, sum, count and avg equal a recomputation from the agents' values and each percentile is within the
 * sketch's relative accuracy of the exact one.
 */
interface QueryInfo {
  id: string;
  metric: string;
  servers: string[];
  windowUs: number;
  slideUs: number;
  time: 'event' | 'processing';
}

/** One point's samples (a window of a query, through one partition). */
interface Books {
  digest: Digest;
  sum: number;
  min: number | null;
  max: number | null;
  values: number[];
  /** Each sample's value by `server@t`, while the point has at most LIST_MAX of them (null beyond): exact set checks. */
  byKey: Record<string, number> | null;
}

interface Written {
  generation: number;
  digest: Digest;
  samples: string[] | null;
  values: Record<string, number | null>;
  sum: number;
  min: number | null;
  max: number | null;
}

export interface ApmBooksState {
  queries: Record<string, QueryInfo>;
  /** The same queries in the order they were announced: `byMetric` and `matches` refer to them by index. */
  queryList: QueryInfo[];
  servers: ServerIndex;
  /** Each server's name hash (see samples.ts), by server index: looked up once per sample instead of by name. */
  serverHash: number[];
  /** Produced messages not yet acknowledged, by id: the partition and the message's (frozen, shared) payload. */
  unacked: Record<string, { partition: string; data: unknown }>;
  /** Per metric, the queries reading it, by index in `queryList` (filled as queries are announced). */
  byMetric: Record<string, number[]>;
  /** Per query index, whether each server (by index) matches its FROM clause: 0 not asked yet, 1 no, 2 yes. */
  matches: number[][];
  /** Acknowledged samples already credited, per metric: (server, second) bitsets. */
  credited: Record<string, SecondSets>;
  /** Per point (`query|start|partition`): the samples acknowledged to the producer (what must be counted)… */
  truth: Record<string, Books>;
  /**
   * …and every sample sent to the queue at all (what may be counted: a write the producer gave up on may commit),
   * complete once the run ends (a message joins it when acknowledged, or at the end). Only the digest and the listed
   * keys of these are kept (no values).
   */
  made: Record<string, Books>;
  producedSeen: Record<string, SecondSets>;
  written: Record<string, Written>;
  late: Record<string, Digest>;
  /** Per point, the late samples already subtracted (a sample may be reported late more than once). */
  lateSeen: Record<string, SecondSets>;
  windows: number;
  rewrites: number;
  lateSamples: number;
  ended: boolean;
  /** Samples in messages still queued at the end (unacknowledged, or not yet applied): `samplesPending`. */
  pending: number;
  checkedPoints: number;
}

const TOLERANCE = 1e-9;
const EVIDENCE_MAX = 10;
/** Values kept per point for the exact percentiles; beyond, percentiles are not recomputed (counts still are). */
const TRUTH_VALUES_MAX = 1_000_000;
/** Points with at most this many samples are checked sample by sample (the aggregator lists up to 400). */
const LIST_MAX = 400;

export const apmBooks: Checker<ApmBooksState> = {
  name: 'apm.windows',
  description: 'Every acknowledged metric sample is counted once in each window that includes it (or counted late), no window is written twice with different contents, and every aggregate equals a recomputation from the agents’ values.',
  kinds: ['msg.send', 'node.note', 'run.end'],
  init: () => ({
    queries: {}, queryList: [], byMetric: {}, matches: [], servers: newServerIndex(), serverHash: [], unacked: {}, credited: {}, truth: {}, made: {}, producedSeen: {},
    written: {}, late: {}, lateSeen: {}, windows: 0, rewrites: 0, lateSamples: 0, ended: false, pending: 0, checkedPoints: 0,
  }),
  onEvent(s, e, view) {
    if (e.kind === 'run.end') return settle(s, view, e.seq);
    if (e.kind === 'msg.send') {
      if (e.msg === 'produce') produced(s, e.body as { partition: string; msgs: readonly MqMessage[] });
      return null;
    }
    if (e.kind !== 'node.note') return null;
    const d = e.data as Record<string, unknown>;
    switch (e.name) {
      case 'queries':
        for (const q of d.queries as QueryInfo[]) {
          if (s.queries[q.id] !== undefined) continue;
          const info: QueryInfo = { id: q.id, metric: q.metric, servers: [...q.servers], windowUs: q.windowUs, slideUs: q.slideUs, time: q.time };
          s.queries[q.id] = info;
          (s.byMetric[q.metric] ??= []).push(s.queryList.length);
          s.queryList.push({ ...info, servers: [...info.servers] });
          s.matches.push([]);
        }
        return null;
      case 'acked':
        if (typeof d.pid === 'string' && Array.isArray(d.seqs)) for (const q of d.seqs as number[]) credit(s, `${d.pid}-${q}`);
        return null;
      case 'late':
        return lateSample(s, d);
      case 'window':
        return windowWritten(s, e, d);
      case 'window-late':
        return windowLate(s, d);
      default:
        return null;
    }
  },
  metrics: (s) => ({ windows: s.windows, windowRewrites: s.rewrites, lateSamples: s.lateSamples, samplesPending: s.pending, pointsChecked: s.checkedPoints }),
};

/**
 * A produce request sent: its messages wait for their acknowledgement. What they carry is booked once, when they are
 * acknowledged (into `made` and the truth in one pass) or, for those never acknowledged, at the end (into `made`
 * alone): `made` is a set, so when a message joins it changes nothing.
 */
function produced(s: ApmBooksState, body: { partition: string; msgs: readonly MqMessage[] }): void {
  for (const m of body.msgs) {
    if (s.unacked[m.id] !== undefined || m.data === undefined) continue; // a produce request retried, or no samples
    s.unacked[m.id] = { partition: body.partition, data: m.data };
  }
}

/** The producer saw message `id` acknowledged: its samples join what was sent and the truth, once each. */
function credit(s: ApmBooksState, id: string): void {
  const m = s.unacked[id];
  if (m === undefined) return;
  delete s.unacked[id];
  book(s, m.partition, m.data, true);
}

const NO_QUERIES: readonly number[] = Object.freeze([]);

/**
 * Books the samples of one message (one partition): each sample of a metric some query reads goes into every point —
 * event-time query, window, partition — it belongs to, in `made` (what was sent) unless `producedSeen` holds it
 * already, and, for an acknowledged message (`acked`), in the truth with its value unless `credited` holds it (a copy:
 * an agent's retry can put a sample in the queue twice). The point of a tumbling query is looked up again only when
 * the window changes (a block's samples share their second).
 */
function book(s: ApmBooksState, partition: string, data: unknown, acked: boolean): void {
  const x = sampleColumns(data);
  if (x === null) return;
  let metric: string | null = null;
  let queries = NO_QUERIES;
  let madeSeen: SecondSets = {};
  let truthSeen: SecondSets = {};
  // Per query index: the window start last booked for this message and its points.
  const lastStart: number[] = [];
  const lastMade: Books[] = [];
  const lastTruth: Books[] = [];
  for (let i = 0; i < x.value.length; i++) {
    if (x.metric[i] !== metric) {
      metric = x.metric[i];
      queries = s.byMetric[metric] ?? NO_QUERIES;
      if (queries.length > 0) {
        madeSeen = s.producedSeen[metric] ??= {};
        if (acked) truthSeen = s.credited[metric] ??= {};
      }
    }
    if (queries.length === 0) continue;
    const server = x.server[i];
    const t = x.t[i];
    const index = serverIndexOf(s.servers, server);
    const toMade = addSeen(madeSeen, index, t);
    const toTruth = acked && addSeen(truthSeen, index, t);
    if (!toMade && !toTruth) continue; // a copy
    const h = serverHashOf(s, index, server);
    const a = sampleHashA(h, t);
    const b = sampleHashB(h, t);
    const v = x.value[i];
    for (let k = 0; k < queries.length; k++) {
      const qi = queries[k];
      const q = s.queryList[qi];
      if (q.time !== 'event' || !matches(s, qi, index, server)) continue;
      if (q.slideUs !== q.windowUs) {
        for (const start of windowsOf(t, q.windowUs, q.slideUs)) {
          const key = `${q.id}|${start}|${partition}`;
          if (toMade) addToBooks((s.made[key] ??= newBooks()), server, t, v, a, b, false);
          if (toTruth) addToBooks((s.truth[key] ??= newBooks()), server, t, v, a, b, true);
        }
        continue;
      }
      const start = Math.floor(t / q.windowUs) * q.windowUs;
      if (lastStart[qi] !== start) {
        lastStart[qi] = start;
        const key = `${q.id}|${start}|${partition}`;
        lastMade[qi] = s.made[key] ??= newBooks();
        if (acked) lastTruth[qi] = s.truth[key] ??= newBooks();
      }
      if (toMade) addToBooks(lastMade[qi], server, t, v, a, b, false);
      if (toTruth) addToBooks(lastTruth[qi], server, t, v, a, b, true);
    }
  }
}

function newBooks(): Books {
  return { digest: newDigest(), sum: 0, min: null, max: null, values: [], byKey: {} };
}

function serverHashOf(s: ApmBooksState, index: number, server: string): number {
  let h = s.serverHash[index];
  if (h === undefined) {
    while (s.serverHash.length < index) s.serverHash.push(nameHash(s.servers.names[s.serverHash.length]));
    h = s.serverHash[index] = nameHash(server);
  }
  return h;
}

/** Whether query `qi` reads `server` (index `index`): globMatch over its FROM patterns, cached per query and server. */
function matches(s: ApmBooksState, qi: number, index: number, server: string): boolean {
  const row = s.matches[qi];
  let m = row[index];
  if (m === undefined || m === 0) {
    while (row.length <= index) row.push(0);
    let yes = false;
    for (const p of s.queryList[qi].servers) if (globMatch(p, server)) yes = true;
    m = row[index] = yes ? 2 : 1;
  }
  return m === 2;
}

/** One sample into one point's books: its key while the point is small, its digest, and (truth) its value. */
function addToBooks(p: Books, server: string, t: number, v: number, a: number, b: number, values: boolean): void {
  if (p.byKey !== null) {
    if (p.digest.n < LIST_MAX) p.byKey[`${server}@${t}`] = v;
    else p.byKey = null;
  }
  digestAddHashes(p.digest, a, b);
  if (!values) return;
  p.sum += v;
  p.min = p.min === null || v < p.min ? v : p.min;
  p.max = p.max === null || v > p.max ? v : p.max;
  if (p.values.length < TRUTH_VALUES_MAX) p.values.push(v);
}

/**
 * A window version the store refused because another was stored first: the samples it counted that the stored one
 * did not are late data. Listed, they are marked late one by one; given only as a digest, the point's check becomes
 * a range (see byDigest).
 */
function windowLate(s: ApmBooksState, d: Record<string, unknown>): null {
  const key = `${d.query}|${d.start}|${d.partition}`;
  const listed = d.samples as string[] | undefined;
  if (listed === undefined) {
    digestMerge((s.late[key] ??= newDigest()), d.digest as Digest);
    return null;
  }
  for (const k of listed) {
    const at = k.lastIndexOf('@');
    lateSample(s, { query: d.query, partition: d.partition, server: k.slice(0, at), t: Number(k.slice(at + 1)) }, false);
  }
  return null;
}

function lateSample(s: ApmBooksState, d: Record<string, unknown>, counted = true): null {
  if (counted) s.lateSamples++;
  const q = s.queries[d.query as string];
  if (!q) return null;
  const index = serverIndexOf(s.servers, d.server as string);
  for (const start of windowsOf(d.t as number, q.windowUs, q.slideUs)) {
    const key = `${d.query}|${start}|${d.partition}`;
    if (addSeen((s.lateSeen[key] ??= {}), index, d.t as number)) digestAdd((s.late[key] ??= newDigest()), d.server as string, d.t as number);
  }
  return null;
}

function windowWritten(s: ApmBooksState, e: TraceEvent, d: Record<string, unknown>): Finding | null {
  const query = d.query as string;
  if (!s.queries[query]) return { message: `window written for unknown query ${query}`, evidence: { seq: e.seq, query } };
  const key = `${query}|${d.start}|${d.partition}`;
  const digest = d.digest as Digest;
  const before = s.written[key];
  const generation = (d.generation as number | undefined) ?? 0;
  if (before !== undefined) {
    s.rewrites++;
    if (before.digest.n !== digest.n || before.digest.a !== digest.a || before.digest.b !== digest.b) {
      return { message: `window ${query} @${d.start} of ${d.partition} was written twice with different samples`, evidence: { seq: e.seq, point: key, first: before.digest, again: digest } };
    }
    return null;
  }
  s.windows++;
  s.written[key] = { generation, digest: { ...digest }, samples: Array.isArray(d.samples) ? [...(d.samples as string[])] : null, values: { ...(d.values as Record<string, number | null>) }, sum: d.sum as number, min: d.min as number | null, max: d.max as number | null };
  return null;
}

/** Samples of messages still in the queue at the end, per point: not yet counted anywhere, and rightly so. */
type Queued = Digest & { keys: Record<string, 1> | null; seen: SecondSets };

/**
 * The messages still queued at the end, with their partitions. Read from each partition's most advanced live replica
 * (its unacked messages, and produce entries it has not applied yet).
 */
function queuedMessages(view: CheckView): { partition: string; data: unknown }[] {
  const best: Record<string, RaftMemory> = {};
  for (const id of view.nodeIds()) {
    const m = view.memory(id) as RaftMemory | null;
    if (!m || m.machine !== 'mq') continue;
    const name = (m.sm as PartitionState).cfg.partition;
    const cur = best[name];
    if (!cur || m.commitIndex > cur.commitIndex || (m.commitIndex === cur.commitIndex && m.role === 'leader')) best[name] = m;
  }
  const out: { partition: string; data: unknown }[] = [];
  for (const [partition, m] of Object.entries(best)) {
    const st = m.sm as PartitionState;
    idForEach(st.msgs, (_id, x) => void out.push({ partition, data: x.m.data }));
    // The log's first element is its base (index log[0].index); entries past lastApplied follow it.
    for (let k = m.lastApplied + 1 - m.log[0].index; k < m.log.length; k++) {
      const c = m.log[k].cmd as MqCommand | undefined;
      if (c?.op === 'produce') for (const x of c.msgs) out.push({ partition, data: x.data });
    }
  }
  return out;
}

/** The queued samples of the written points in `need`, per point. */
function queuedDigests(s: ApmBooksState, queued: readonly { partition: string; data: unknown }[], need: ReadonlySet<string>): Record<string, Queued> {
  const out: Record<string, Queued> = {};
  for (const q of queued) queuedSamples(s, out, q.partition, q.data, need);
  return out;
}

/**
 * The samples of one queued message (of `partition`), each into the points of `need` it belongs to, once per point.
 * As in `book`, a tumbling query's point is looked up again only when the sample's window changes.
 */
function queuedSamples(s: ApmBooksState, out: Record<string, Queued>, partition: string, data: unknown, need: ReadonlySet<string>): void {
  const x = sampleColumns(data);
  if (x === null) return;
  const lastStart: number[] = [];
  const lastPoint: (Queued | null)[] = [];
  let metric: string | null = null;
  let queries = NO_QUERIES;
  for (let i = 0; i < x.value.length; i++) {
    if (x.metric[i] !== metric) {
      metric = x.metric[i];
      queries = s.byMetric[metric] ?? NO_QUERIES;
    }
    if (queries.length === 0) continue;
    const server = x.server[i];
    const t = x.t[i];
    let index = -1;
    for (const qi of queries) {
      const q = s.queryList[qi];
      if (q.slideUs !== q.windowUs) {
        if (index < 0) index = serverIndexOf(s.servers, server);
        if (!matches(s, qi, index, server)) continue;
        for (const start of windowsOf(t, q.windowUs, q.slideUs)) queuedOne(s, queuedPoint(out, `${q.id}|${start}|${partition}`, need), server, index, t);
        continue;
      }
      const start = Math.floor(t / q.windowUs) * q.windowUs;
      if (lastStart[qi] !== start) {
        lastStart[qi] = start;
        lastPoint[qi] = queuedPoint(out, `${q.id}|${start}|${partition}`, need);
      }
      // Most queued samples at the end belong to windows still open (never written, so never checked): skip them
      // before looking their server up.
      if (lastPoint[qi] === null) continue;
      if (index < 0) index = serverIndexOf(s.servers, server);
      if (!matches(s, qi, index, server)) continue;
      queuedOne(s, lastPoint[qi], server, index, t);
    }
  }
}

/** The queued books of a written point, made on first use; null for a point never written (only those are checked). */
function queuedPoint(out: Record<string, Queued>, key: string, need: ReadonlySet<string>): Queued | null {
  if (!need.has(key)) return null;
  return (out[key] ??= { ...newDigest(), keys: {}, seen: {} });
}

function queuedOne(s: ApmBooksState, d: Queued | null, server: string, index: number, t: number): void {
  if (d === null || !addSeen(d.seen, index, t)) return;
  const h = serverHashOf(s, index, server);
  digestAddHashes(d, sampleHashA(h, t), sampleHashB(h, t));
  if (d.keys !== null) {
    if (d.n <= LIST_MAX) d.keys[`${server}@${t}`] = 1;
    else d.keys = null;
  }
}

/** `a − b − c`, digest-wise (counts and mod-2^32 sums). */
function minus(a: Digest, ...bs: (Digest | undefined)[]): Digest {
  const out = { ...a };
  for (const b of bs) {
    if (!b) continue;
    out.n -= b.n;
    out.a = (out.a - b.a) >>> 0;
    out.b = (out.b - b.b) >>> 0;
  }
  return out;
}

/** Conserved counts and recomputed aggregates, for every point written. */
function settle(s: ApmBooksState, view: CheckView, seq: number): Finding | null {
  if (s.ended) return null;
  s.ended = true;
  // Messages never acknowledged were still sent: they join `made`, what may have been counted.
  for (const id in s.unacked) book(s, s.unacked[id].partition, s.unacked[id].data, false);
  const queued = queuedMessages(view);
  for (const q of queued) s.pending += sampleColumns(q.data)?.value.length ?? 0;
  // Most points settle without the queue: counted exactly what was acknowledged (by digest), or nothing missing (by
  // sample). Only the others need what is still queued, which costs a walk over every queued sample.
  const keys = Object.keys(s.written);
  const problems = keys.map((key) => settlePoint(s, key, s.written[key], undefined, true));
  const need = new Set(keys.filter((_, i) => problems[i] === undefined));
  if (need.size > 0) {
    const digests = queuedDigests(s, queued, need);
    keys.forEach((key, i) => {
      if (problems[i] === undefined) problems[i] = settlePoint(s, key, s.written[key], digests[key], false);
    });
  }
  const wrong = problems.filter((p): p is string => typeof p === 'string');
  const wrongCount = wrong.length;
  wrong.length = Math.min(wrong.length, EVIDENCE_MAX);
  if (wrongCount === 0) return null;
  return { message: `${wrongCount} written window point(s) disagree with the samples the queue acknowledged`, evidence: { seq, points: wrong } };
}

/**
 * One written point against the books: its problem, or null. Without the queued samples (`first`), a point that
 * would need them to be judged — some acknowledged sample missing, or counts that differ — is undefined: asked again
 * with them.
 */
function settlePoint(s: ApmBooksState, key: string, w: Written, q: Queued | undefined, first: boolean): string | null | undefined {
  const truth = s.truth[key] ?? { digest: newDigest(), sum: 0, min: null, max: null, values: [], byKey: {} };
  const made = s.made[key] ?? { digest: newDigest(), byKey: {} };
  const listed = truth.byKey !== null && made.byKey !== null && w.samples !== null && (q === undefined || q.keys !== null);
  if (!first) return listed ? bySample(s, key, truth, made.byKey!, w, q?.keys ?? {}) : byDigest(s, key, truth, made.digest, w, q);
  // Queued samples only excuse missing ones: a point fine without them is fine.
  if (listed) return bySample(s, key, truth, made.byKey!, w, {}, true);
  return exactlyAcked(s, key, truth, made.digest, w) ? recompute(s, key, truth, w) : undefined;
}

/**
 * Whether a point counted exactly the acknowledged samples, none late and every sample sent acknowledged: then only
 * its aggregates are left to check (a queued message may hold samples this point counted already: its other windows
 * are still open).
 */
function exactlyAcked(s: ApmBooksState, key: string, truth: Books, made: Digest, w: Written): boolean {
  const allAcked = made.n === truth.digest.n && made.a === truth.digest.a && made.b === truth.digest.b;
  return !s.late[key]?.n && allAcked && truth.digest.n === w.digest.n && truth.digest.a === w.digest.a && truth.digest.b === w.digest.b;
}

/**
 * Large points, by digest: where no sample of the point was late or still queued, the counted set must be exactly the
 * acknowledged one (then its aggregates are recomputed); otherwise its size must lie between the acknowledged samples
 * less the late and queued ones (a late or queued sample may be a copy of one counted) and all of them.
 */
function byDigest(s: ApmBooksState, key: string, truth: Books, made: Digest, w: Written, queued: Digest | undefined): string | null {
  const late = s.late[key];
  const allAcked = made.n === truth.digest.n && made.a === truth.digest.a && made.b === truth.digest.b;
  if (exactlyAcked(s, key, truth, made, w)) return recompute(s, key, truth, w);
  if (!late?.n && !queued?.n && allAcked) {
    if (truth.digest.n !== w.digest.n) return `${key}: counted ${w.digest.n} samples, ${truth.digest.n} were acknowledged for it`;
    return `${key}: counted ${w.digest.n} samples, as many as acknowledged, but not the same ones`;
  }
  const floor = minus(truth.digest, late, queued).n;
  if (w.digest.n > made.n || w.digest.n < floor) return `${key}: counted ${w.digest.n} samples; between ${floor} and ${made.n} were due`;
  return null;
}

/** Small points, sample by sample: nothing counted twice or unacknowledged, nothing missing unless late or queued. */
function bySample(s: ApmBooksState, key: string, truth: Books, made: Record<string, number>, w: Written, queued: Record<string, 1>): string | null;
/** …or, `undecided`, undefined where an acknowledged sample is missing (the queued samples may excuse it). */
function bySample(s: ApmBooksState, key: string, truth: Books, made: Record<string, number>, w: Written, queued: Record<string, 1>, undecided: true): string | null | undefined;
function bySample(s: ApmBooksState, key: string, truth: Books, made: Record<string, number>, w: Written, queued: Record<string, 1>, undecided = false): string | null | undefined {
  const byKey = truth.byKey!;
  const counted: Record<string, 1> = {};
  for (const k of w.samples!) {
    if (counted[k]) return `${key}: counted ${k} twice`;
    if (made[k] === undefined) return `${key}: counted ${k}, which was never sent to the queue for this window`;
    counted[k] = 1;
  }
  const late = s.lateSeen[key];
  const [missing] = Object.keys(byKey).filter((k) => !counted[k] && !queued[k] && !isLate(s, late, k));
  if (missing !== undefined) return undecided ? undefined : `${key}: ${missing} was acknowledged, neither counted nor late nor still queued (a window lost data)`;
  const values = w.samples!.map((k) => made[k]);
  let sum = 0;
  for (const v of values) sum += v;
  const books: Books = { digest: w.digest, sum, min: values.length ? Math.min(...values) : null, max: values.length ? Math.max(...values) : null, values, byKey: null };
  return recompute(s, key, books, w);
}

function isLate(s: ApmBooksState, late: SecondSets | undefined, k: string): boolean {
  if (late === undefined) return false;
  const at = k.lastIndexOf('@');
  const index = s.servers.of[k.slice(0, at)];
  return index !== undefined && hasSeen(late, index, Number(k.slice(at + 1)));
}

function recompute(s: ApmBooksState, key: string, truth: Books, w: Written): string | null {
  s.checkedPoints++;
  const n = truth.digest.n;
  const close = (got: number | null, want: number | null, tol = TOLERANCE) => got === want || (got !== null && want !== null && Math.abs(got - want) <= tol * Math.max(1, Math.abs(want)));
  if (!close(w.sum, truth.sum) || w.min !== truth.min || w.max !== truth.max) return `${key}: sum/min/max ${w.sum}/${w.min}/${w.max}, recomputed ${truth.sum}/${truth.min}/${truth.max}`;
  // A typed array sorts numerically without a comparator call per step: points at scale hold 10^5 values or more.
  const sorted = truth.values.length === n ? Float64Array.from(truth.values).sort() : null;
  for (const [label, got] of Object.entries(w.values)) {
    let want: number | null;
    let tol = TOLERANCE;
    if (label === 'min') want = truth.min;
    else if (label === 'max') want = truth.max;
    else if (label === 'sum') want = truth.sum;
    else if (label === 'count') want = n;
    else if (label === 'avg') want = n === 0 ? null : truth.sum / n;
    else if (label.startsWith('p') && sorted !== null) {
      want = exactPercentile(sorted, Number(label.slice(1)));
      tol = 0.0101; // exact while the window keeps every value, else the sketch's relative accuracy (1%)
    } else continue;
    if (!close(got, want, tol)) return `${key}: ${label} is ${got}, recomputed from its ${n} samples it is ${want}`;
  }
  return null;
}

export const APM_CHECKERS: readonly Checker[] = [apmBooks as Checker];
