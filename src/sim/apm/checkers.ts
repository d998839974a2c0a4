import type { Checker, CheckView, Finding } from '../kernel/checker.ts';
import type { TraceEvent } from '../kernel/trace.ts';
import type { PartitionState } from '../mq/partition.ts';
import type { MqCommand, MqMessage } from '../mq/types.ts';
import type { RaftMemory } from '../raft/replica.ts';
import { globMatch } from './query.ts';
import type { SamplePayload } from './types.ts';
import { exactPercentile, windowsOf } from './window.ts';

/**
 * The pipeline's books, kept from the trace alone:
 * - every sample written to the queue (the payloads of `produce` requests) with its value;
 * - every window an aggregator wrote (`window` notes list the samples they counted, as `server@t`);
 * - samples an aggregator found late.
 * Checked as windows are written: no sample counted twice in one window; a window written again counts the same
 * samples; each aggregate equals a recomputation from the counted samples' values (exact functions exactly,
 * percentiles by nearest rank). Checked at the end: every sample the producer had acknowledged and that the queue no
 * longer holds was counted once in every window of every query that selects it, or was counted late — conserved
 * counts. A sample still in the queue at the end is pending, not lost.
 */
interface QueryInfo {
  metric: string;
  servers: string[];
  windowUs: number;
  slideUs: number;
  time: 'event' | 'processing';
}

export interface ApmBooksState {
  queries: Record<string, QueryInfo>;
  /** Value of every sample produced, by `metric|server@t`. */
  values: Record<string, number>;
  /** Message id → sample key, for the producer's acks. */
  keyOf: Record<string, string>;
  /**
   * Sample keys whose message the producer saw acknowledged, with every such message id: an agent's retry can put
   * the same sample in the queue twice (at-least-once publishing), and it is pending while any copy is.
   */
  acked: Record<string, string[]>;
  /** Per window (`query|start`): sample key → times counted across the window's stored partials. */
  counted: Record<string, Record<string, number>>;
  /** Per point (`query|start|partition`): the sorted sample list first written, to compare rewrites with. */
  points: Record<string, string>;
  /** Per `query|metric|server@t`: counted late by some aggregator. */
  late: Record<string, 1>;
  windows: number;
  rewrites: number;
  lateSamples: number;
  ended: boolean;
  pending: number;
  conserved: number;
}

const TOLERANCE = 1e-9;
const EVIDENCE_MAX = 10;

export const apmBooks: Checker<ApmBooksState> = {
  name: 'apm.windows',
  description: 'Every metric sample is counted once in each window that includes it (or counted late), no window is written twice with different contents, and every aggregate equals a recomputation from the samples.',
  kinds: ['msg.send', 'node.note', 'run.end'],
  init: () => ({ queries: {}, values: {}, keyOf: {}, acked: {}, counted: {}, points: {}, late: {}, windows: 0, rewrites: 0, lateSamples: 0, ended: false, pending: 0, conserved: 0 }),
  onEvent(s, e, view) {
    if (e.kind === 'run.end') return settle(s, view, e.seq);
    if (e.kind === 'msg.send') {
      if (e.msg === 'produce') produced(s, (e.body as { msgs: readonly MqMessage[] }).msgs);
      return null;
    }
    if (e.kind !== 'node.note') return null;
    const d = e.data as Record<string, unknown>;
    switch (e.name) {
      case 'queries':
        for (const q of d.queries as (QueryInfo & { id: string })[]) s.queries[q.id] = { metric: q.metric, servers: [...q.servers], windowUs: q.windowUs, slideUs: q.slideUs, time: q.time };
        return null;
      case 'acked':
        if (typeof d.pid === 'string' && Array.isArray(d.seqs)) for (const q of d.seqs as number[]) markAcked(s, `${d.pid}-${q}`);
        return null;
      case 'late': {
        const q = s.queries[d.query as string];
        if (q) s.late[`${d.query}|${q.metric}|${d.server}@${d.t}`] = 1;
        s.lateSamples++;
        return null;
      }
      case 'window':
        return windowWritten(s, e, d);
      default:
        return null;
    }
  },
  metrics: (s) => ({ windows: s.windows, windowRewrites: s.rewrites, lateSamples: s.lateSamples, samplesPending: s.pending, samplesConserved: s.conserved }),
};

function produced(s: ApmBooksState, msgs: readonly MqMessage[]): void {
  for (const m of msgs) {
    const x = m.data as SamplePayload | undefined;
    if (!x || typeof x.metric !== 'string') continue;
    const key = `${x.metric}|${x.server}@${x.t}`;
    s.values[key] = x.value;
    s.keyOf[m.id] = key;
  }
}

function markAcked(s: ApmBooksState, id: string): void {
  const key = s.keyOf[id];
  if (key === undefined) return;
  const ids = (s.acked[key] ??= []);
  if (!ids.includes(id)) ids.push(id);
}

function windowWritten(s: ApmBooksState, e: TraceEvent, d: Record<string, unknown>): Finding | null {
  const query = d.query as string;
  const q = s.queries[query];
  if (!q) return { message: `window written for unknown query ${query}`, evidence: { seq: e.seq, query } };
  const samples = d.samples as string[];
  const pointKey = `${query}|${d.start}|${d.partition}`;
  const sorted = [...samples].sort().join(',');
  const before = s.points[pointKey];
  if (before !== undefined) {
    s.rewrites++;
    if (before !== sorted) return { message: `window ${query} @${d.start} of ${d.partition} was written twice with different samples`, evidence: { seq: e.seq, point: pointKey } };
    return null;
  }
  s.points[pointKey] = sorted;
  s.windows++;
  const counts = (s.counted[`${query}|${d.start}`] ??= {});
  const twice: string[] = [];
  for (const k of samples) {
    counts[k] = (counts[k] ?? 0) + 1;
    if (counts[k] > 1 && twice.length < EVIDENCE_MAX) twice.push(k);
  }
  if (twice.length > 0) return { message: `${twice.length} sample(s) counted twice in window ${query} @${d.start}`, evidence: { seq: e.seq, samples: twice } };
  return recompute(s, e, q, d, samples);
}

/** The window's aggregates against a recomputation from the values the agents reported for its samples. */
function recompute(s: ApmBooksState, e: TraceEvent, q: QueryInfo, d: Record<string, unknown>, samples: string[]): Finding | null {
  const values: number[] = [];
  for (const k of samples) {
    const v = s.values[`${q.metric}|${k}`];
    if (v === undefined) return { message: `window ${d.query} @${d.start} counted ${k}, which was never produced`, evidence: { seq: e.seq, sample: k } };
    values.push(v);
  }
  values.sort((a, b) => a - b);
  const sum = values.reduce((a, b) => a + b, 0);
  const truth = (label: string): number | null => {
    if (values.length === 0) return label === 'count' || label === 'sum' ? 0 : null;
    if (label === 'min') return values[0];
    if (label === 'max') return values[values.length - 1];
    if (label === 'sum') return sum;
    if (label === 'count') return values.length;
    if (label === 'avg') return sum / values.length;
    if (label.startsWith('p')) return exactPercentile(values, Number(label.slice(1)));
    return null;
  };
  for (const [label, got] of Object.entries(d.values as Record<string, number | null>)) {
    const want = truth(label);
    const close = got === want || (got !== null && want !== null && Math.abs(got - want) <= TOLERANCE * Math.max(1, Math.abs(want)));
    if (!close) return { message: `window ${d.query} @${d.start}: ${label} is ${got}, recomputed from its ${values.length} samples it is ${want}`, evidence: { seq: e.seq, label, got, want } };
  }
  return null;
}

/** Ids still in the queue at the end: not yet acked, or in log entries not yet applied. */
function queuedIds(view: CheckView): Set<string> {
  const out = new Set<string>();
  for (const id of view.nodeIds()) {
    const m = view.memory(id) as RaftMemory | null;
    if (!m || m.machine !== 'mq') continue;
    for (const x in (m.sm as PartitionState).msgs) out.add(x);
    for (let i = m.lastApplied + 1; i < m.log.length; i++) {
      const c = m.log[i].cmd as MqCommand | undefined;
      if (c?.op === 'produce') for (const x of c.msgs) out.add(x.id);
    }
  }
  return out;
}

/** Conserved counts: every acknowledged sample the queue no longer holds was counted in each of its windows. */
function settle(s: ApmBooksState, view: CheckView, seq: number): Finding | null {
  if (s.ended) return null;
  s.ended = true;
  const queued = queuedIds(view);
  const missing: string[] = [];
  let missingCount = 0;
  for (const [key, ids] of Object.entries(s.acked)) {
    if (ids.some((id) => queued.has(id))) {
      s.pending++;
      continue;
    }
    const bar = key.indexOf('|');
    const metric = key.slice(0, bar);
    const sample = key.slice(bar + 1);
    const server = sample.slice(0, sample.lastIndexOf('@'));
    const t = Number(sample.slice(sample.lastIndexOf('@') + 1));
    for (const [qid, q] of Object.entries(s.queries)) {
      if (q.metric !== metric || q.time !== 'event' || !q.servers.some((p) => globMatch(p, server))) continue;
      if (s.late[`${qid}|${key}`]) continue;
      for (const start of windowsOf(t, q.windowUs, q.slideUs)) {
        if (s.counted[`${qid}|${start}`]?.[sample]) continue;
        missingCount++;
        if (missing.length < EVIDENCE_MAX) missing.push(`${qid} @${start}: ${sample}`);
      }
    }
    s.conserved++;
  }
  if (missingCount === 0) return null;
  return { message: `${missingCount} sample-window pair(s) left the queue but were never counted in their window (a window lost data)`, evidence: { seq, missing } };
}

export const APM_CHECKERS: readonly Checker[] = [apmBooks as Checker];
