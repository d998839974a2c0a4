import { forkTime, runKey, type RunKey } from './run-key.ts';
import type { DashPoint } from '../sim/apm/dashboard.ts';
import type { EventFilter, NodeSnapshot, Snapshot } from '../sim/lab.ts';
import type { TraceEvent, TraceKind } from '../sim/kernel/trace.ts';
import type { Micros } from '../sim/kernel/time.ts';
import type { NodeId } from '../sim/kernel/types.ts';
import { FaultWindows, type FaultRec } from './fault-windows.ts';
import type { LabPort } from './port.ts';
import { lowerBound } from './raft-trace.svelte.ts';

/**
 * The time-series charts' memory of the trace (issue 6): queue depth and lag from the partition leaders' status
 * replies, the delivery ledger from the producers', sink's and partitions' notes, the autoscaler's readings and
 * decisions, and the fault windows. Like the Raft trace, it is fed incrementally by seq and never re-reads the run.
 *
 * Ordering duties:
 * - Only the event kinds the charts read are fetched (`CHART_KINDS`), so seqs arrive with holes; `count` is the next
 *   seq not yet looked at, and an event is ingested only when its seq is ≥ `count` (each exactly once).
 * - Every list is append-only and seq-ordered, so going back in time is cutting each list at a seq (`truncate`). The
 *   one mutation of an earlier record — a fault window closed by its heal / restart / resume — is undone by the cut
 *   (a window whose `endSeq` is cut is open again).
 * - The ledger deduplicates as the run's own ledger checker does (src/sim/mq/checkers.ts): a message counts as acked
 *   once and as delivered once; a second `processed` of the same id is a duplicate. The ids each record first marked
 *   are kept on it, so a cut can unmark them.
 * - The run moving back is detected from the snapshot exactly as RaftTrace does: fewer events than ingested (a seek
 *   back), a changed action list (a fork) or another scenario, seed or bug set (start over). A `generation` counter
 *   makes a page fetched before a cut land nowhere.
 *
 * The arrays are plain (not reactive); `revision` is bumped after each batch and view-models read it in `$derived`.
 */

/** Most events asked for in one call: small, so one structured clone (notes carry id lists) never blocks a frame. */
export const CHARTS_PAGE = 1_000;

/** The event kinds the charts read; deliveries, drops and timers (half of a run's events) are never fetched. */
export const CHART_KINDS: readonly TraceKind[] = [
  'msg.send', 'node.note', 'node.state', 'node.crash', 'node.boot', 'node.pause', 'node.resume', 'net.partition', 'net.heal', 'net.link', 'fault',
];

/**
 * Narrower still, by subject: of the sends only the partition leaders' `status` answers, of the notes the ledger's and
 * the autoscaler's, of the state changes the autoscaler's lag. In a loaded run most events are sends of entries and
 * fetches; leaving them in the worker keeps each page's structured clone small (issue 6's long-task budget).
 */
export const CHART_FILTER = {
  kinds: CHART_KINDS,
  msgs: ['status'],
  notes: ['produced', 'acked', 'processed', 'redeliver', 'dead-lettered', 'expired', 'scale', 'scale-capped', 'dropped'],
  states: ['lag', 'backlog', 'stalenessMs'],
} as const;

/** A fresh copy of CHART_FILTER as the port takes it (mutable arrays). */
export function chartFilter(): EventFilter {
  return { kinds: [...CHART_FILTER.kinds], msgs: [...CHART_FILTER.msgs], notes: [...CHART_FILTER.notes], states: [...CHART_FILTER.states] };
}

/** A partition leader's answer to the control plane's status poll (every 100 ms): its queue at that moment. */
export interface StatusRec {
  seq: number;
  t: Micros;
  node: NodeId;
  partition: string;
  term: number;
  ready: number;
  inflight: number;
  lagMs: number;
}

export const LEDGER_KEYS = ['produced', 'acked', 'delivered', 'duplicated', 'redelivered', 'deadLettered', 'expired'] as const;
export type LedgerKey = (typeof LEDGER_KEYS)[number];

/** `n` messages moved into a ledger column at `t`. One event can give several records (same seq). */
export interface LedgerRec {
  seq: number;
  t: Micros;
  key: LedgerKey;
  n: number;
}

/** The autoscaler's reading of the backlog (its `lag` state), every poll. */
export interface ScalerRec {
  seq: number;
  t: Micros;
  node: NodeId;
  waiting: number;
  lagMs: number;
  trendPerS: number;
  drainS: number | null;
}

/** An autoscaler decision (`scale`), or its refusal to go past one consumer per partition (`scale-capped`). */
export interface ScaleRec {
  seq: number;
  t: Micros;
  node: NodeId;
  from: number;
  to: number;
  aggregator: string;
  why: string;
  capped: boolean;
}

/**
 * The framing lessons' queues (src/sim/lessons): a smart broker's per-consumer queues or a log's per-group backlog,
 * announced as a `backlog` state of `{queue or group: messages}`; one record per queue per announcement.
 */
export interface BacklogRec {
  seq: number;
  t: Micros;
  node: NodeId;
  queue: string;
  n: number;
}

/** A lesson dashboard's staleness at a refresh (`stalenessMs` state): how old the newest data it shows is. */
export interface StalenessRec {
  seq: number;
  t: Micros;
  node: NodeId;
  ms: number;
}

/** Messages a smart broker threw away from a full queue (`dropped` note). */
export interface DropRec {
  seq: number;
  t: Micros;
  queue: string;
  n: number;
}

/** Node kinds of the lessons that the charts draw: queues (backlog) and the dashboard (staleness). */
export const LESSON_QUEUE_KINDS: readonly string[] = ['lesson-log', 'lesson-broker'];
export const LESSON_DASHBOARD_KIND = 'lesson-dashboard';

export { faultBands, type FaultBand, type FaultRec, type FaultWindowKind } from './fault-windows.ts';

const PRODUCER_KIND = 'mq-producer';

function popFrom<T extends { seq: number }>(list: T[], cut: number): T[] {
  let n = list.length;
  while (n > 0 && list[n - 1].seq >= cut) n--;
  return list.splice(n);
}

/** True when the run has queue or APM nodes: the App shows the Charts panel only then. */
export function hasCharts(s: Snapshot | null): boolean {
  return s !== null && s.nodes.some((n) => n.kind === 'mq-partition' || n.kind.startsWith('apm-') || LESSON_QUEUE_KINDS.includes(n.kind) || n.kind === LESSON_DASHBOARD_KIND);
}

export class ChartsTrace {
  /** Bumped after every change to the data below; read it in `$derived` to follow the trace. */
  revision = $state(0);
  /** The next seq not yet looked at (events before it are ingested or not of interest). */
  count = 0;
  readonly statuses: StatusRec[] = [];
  readonly ledger: LedgerRec[] = [];
  readonly scaler: ScalerRec[] = [];
  readonly decisions: ScaleRec[] = [];
  readonly backlogs: BacklogRec[] = [];
  readonly staleness: StalenessRec[] = [];
  readonly drops: DropRec[] = [];
  /** Fault windows (crash → restart, partition → heal…), kept the same way for every time axis. */
  private readonly windows = new FaultWindows();
  /** The fault windows in seq order (see fault-windows.ts). */
  get faults(): readonly FaultRec[] {
    return this.windows.list;
  }
  /** Virtual time of the last ingested event. */
  lastT: Micros = 0;

  /** Seq and time of every ingested event (to turn a fork's time into a seq). */
  private readonly seqs: number[] = [];
  private readonly times: Micros[] = [];
  /** Message ids the ledger has seen acked / delivered, with the record (seq) that first marked each. */
  private readonly acked = new Map<string, number>();
  private readonly delivered = new Map<string, number>();
  private kinds = new Map<NodeId, string>();

  private run: RunKey | null = null;
  private target = 0;
  private generation = 0;
  private running: Promise<void> | null = null;

  constructor(private readonly port: LabPort | null = null) {}

  /** Node kinds, so only producers' `produced` / `acked` notes count. Unknown nodes (no snapshot yet) are trusted. */
  setNodes(nodes: readonly Pick<NodeSnapshot, 'id' | 'kind'>[]): void {
    this.kinds = new Map(nodes.map((n) => [n.id, n.kind]));
  }

  /**
   * Follows the run a snapshot shows: cuts what is no longer true, then fetches the new events (one fetch in flight at
   * a time; later calls only raise the target). Resolves when the trace has caught up with the newest target.
   */
  sync(s: Snapshot | null): Promise<void> {
    if (!s) return Promise.resolve();
    const next = runKey(s);
    if (!this.run || this.run.key !== next.key) {
      this.truncate(0);
    } else {
      let cut = Math.min(this.count, s.eventCount);
      const atUs = forkTime(this.run, next, s);
      if (atUs !== null) {
        // Cut just after the last ingested event before that time: the events not fetched in between may differ.
        const k = lowerBound(this.times, atUs);
        cut = Math.min(cut, k > 0 ? this.seqs[k - 1] + 1 : 0);
      }
      if (cut < this.count) this.truncate(cut);
    }
    this.run = next;
    this.setNodes(s.nodes);
    this.target = s.eventCount;
    if (!this.port || this.count >= this.target) return this.running ?? Promise.resolve();
    this.running ??= this.drain();
    return this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.port && this.count < this.target) {
        const gen = this.generation;
        const from = this.count;
        const target = this.target;
        const batch = await this.port.events(from, CHARTS_PAGE, chartFilter());
        if (gen !== this.generation || this.count !== from) continue;
        // A short page means every event up to the end of the run (as the worker had it) was looked at.
        const upTo = batch.length < CHARTS_PAGE ? Math.max(target, (batch[batch.length - 1]?.seq ?? -1) + 1) : batch[batch.length - 1].seq + 1;
        this.ingestAll(batch, upTo);
      }
    } catch {
      // No run loaded yet, or the worker failed: keep what we have; the next sync tries again.
    } finally {
      this.running = null;
    }
  }

  /**
   * Ingests events that continue the trace (seq ≥ count, ascending); earlier ones are ignored. `upTo`: the seq the
   * caller has looked at everything before (a filtered page); by default just past the last event given.
   */
  ingestAll(events: readonly TraceEvent[], upTo?: number): void {
    const before = this.count;
    for (const e of events) {
      if (e.seq < this.count) continue;
      this.ingest(e);
      this.count = e.seq + 1;
    }
    if (upTo !== undefined && upTo > this.count) this.count = upTo;
    if (this.count !== before) this.revision++;
  }

  /** Forgets every event with seq ≥ cut. */
  truncate(cut: number): void {
    this.generation++;
    const c = Math.max(0, cut);
    popFrom(this.statuses, c);
    popFrom(this.scaler, c);
    popFrom(this.decisions, c);
    popFrom(this.backlogs, c);
    popFrom(this.staleness, c);
    popFrom(this.drops, c);
    this.windows.truncate(c);
    popFrom(this.ledger, c);
    for (const map of [this.acked, this.delivered]) for (const [id, seq] of map) if (seq >= c) map.delete(id);
    const k = lowerBound(this.seqs, c);
    this.seqs.length = k;
    this.times.length = k;
    this.lastT = this.times[k - 1] ?? 0;
    this.count = Math.min(this.count, c);
    this.revision++;
  }

  /**
   * The time the charts can be drawn up to for this snapshot: its own time once the trace has every event, else the
   * last event the trace has (a page is still on its way), so the lines never show a false flat stretch.
   */
  horizon(s: Snapshot): Micros {
    void this.revision;
    return this.count >= s.eventCount ? s.t : Math.min(s.t, this.lastT);
  }

  private ingest(e: TraceEvent): void {
    this.seqs.push(e.seq);
    this.times.push(e.t);
    this.lastT = e.t;
    switch (e.kind) {
      case 'msg.send':
        return this.status(e);
      case 'node.note':
        return this.note(e);
      case 'node.state':
        if (e.key === 'lag') this.scalerLag(e);
        else if (e.key === 'backlog') this.backlog(e);
        else if (e.key === 'stalenessMs' && this.kinds.get(e.node) === LESSON_DASHBOARD_KIND && typeof e.value === 'number') this.staleness.push({ seq: e.seq, t: e.t, node: e.node, ms: e.value });
        return;
      case 'fault':
      case 'node.crash':
      case 'node.pause':
      case 'node.boot':
      case 'node.resume':
      case 'net.partition':
      case 'net.heal':
      case 'net.link':
        return this.windows.ingest(e);
      default:
        return;
    }
  }

  private status(e: Extract<TraceEvent, { kind: 'msg.send' }>): void {
    if (e.msg !== 'status') return;
    const b = e.body as Partial<{ kind: string; partition: string; role: string; term: number; ready: number; inflight: number; lagMs: number }> | null;
    // Followers answer the poll too; only a leader's numbers describe the queue.
    if (!b || b.role !== 'leader' || typeof b.partition !== 'string') return;
    this.statuses.push({ seq: e.seq, t: e.t, node: e.from, partition: b.partition, term: Number(b.term ?? 0), ready: Number(b.ready ?? 0), inflight: Number(b.inflight ?? 0), lagMs: Number(b.lagMs ?? 0) });
  }

  private add(e: TraceEvent, key: LedgerKey, n: number): void {
    if (n > 0) this.ledger.push({ seq: e.seq, t: e.t, key, n });
  }

  private note(e: Extract<TraceEvent, { kind: 'node.note' }>): void {
    const d = (e.data ?? {}) as Record<string, unknown>;
    const ids = Array.isArray(d.ids) ? (d.ids as unknown[]).map(String) : [];
    const fromProducer = (this.kinds.get(e.node) ?? PRODUCER_KIND) === PRODUCER_KIND;
    switch (e.name) {
      case 'produced':
        if (fromProducer) this.add(e, 'produced', Number(d.to) - Number(d.from) + 1);
        return;
      case 'acked': {
        if (!fromProducer || !Array.isArray(d.seqs)) return;
        let fresh = 0;
        for (const q of d.seqs as unknown[]) {
          const id = `${String(d.pid)}-${String(q)}`;
          if (this.acked.has(id)) continue;
          this.acked.set(id, e.seq);
          fresh++;
        }
        return this.add(e, 'acked', fresh);
      }
      case 'processed': {
        let fresh = 0;
        for (const id of ids) {
          if (this.delivered.has(id)) continue;
          this.delivered.set(id, e.seq);
          fresh++;
        }
        this.add(e, 'delivered', fresh);
        return this.add(e, 'duplicated', ids.length - fresh);
      }
      case 'redeliver':
        return this.add(e, 'redelivered', ids.length);
      case 'dead-lettered':
        this.add(e, 'deadLettered', ids.length);
        // The ledger counts a message dead-lettered for its TTL as expired too.
        if (d.reason === 'ttl') this.add(e, 'expired', ids.length);
        return;
      case 'expired':
        return this.add(e, 'expired', ids.length);
      case 'dropped':
        if (this.kinds.get(e.node) === 'lesson-broker') this.drops.push({ seq: e.seq, t: e.t, queue: String(d.queue ?? ''), n: Number(d.n ?? 0) });
        return;
      case 'scale':
      case 'scale-capped':
        this.decisions.push({
          seq: e.seq,
          t: e.t,
          node: e.node,
          from: Number(d.from ?? d.active ?? 0),
          to: Number(d.to ?? d.active ?? 0),
          aggregator: String(d.aggregator ?? ''),
          why: String(d.why ?? ''),
          capped: e.name === 'scale-capped',
        });
        return;
      default:
        return;
    }
  }

  private backlog(e: Extract<TraceEvent, { kind: 'node.state' }>): void {
    if (!LESSON_QUEUE_KINDS.includes(this.kinds.get(e.node) ?? '')) return;
    const v = e.value;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return;
    for (const [queue, n] of Object.entries(v as Record<string, unknown>)) {
      if (typeof n === 'number') this.backlogs.push({ seq: e.seq, t: e.t, node: e.node, queue, n });
    }
  }

  private scalerLag(e: Extract<TraceEvent, { kind: 'node.state' }>): void {
    const v = e.value as Partial<{ waiting: number; lagMs: number; trendPerS: number; drainS: number | null }> | null;
    if (!v || typeof v !== 'object') return;
    this.scaler.push({ seq: e.seq, t: e.t, node: e.node, waiting: Number(v.waiting ?? 0), lagMs: Number(v.lagMs ?? 0), trendPerS: Number(v.trendPerS ?? 0), drainS: typeof v.drainS === 'number' ? v.drainS : null });
  }
}

// ---- pure helpers: from records to series ----------------------------------------------------------------------------

/** A series of samples: `v[i]` holds from `t[i]`; null is a gap (no leader answered, nothing known). */
export interface Samples {
  t: Micros[];
  v: (number | null)[];
}

/** A leader silent for longer than this (5 missed polls) leaves a gap in its partition's line. */
export const STATUS_GAP_US = 500_000;

/**
 * Leader statuses that describe each partition's current queue: during a failover a deposed leader (an older term)
 * may still answer the poll for a while; once a newer term has been heard from, the older one's numbers are stale.
 */
export function currentStatuses(list: readonly StatusRec[]): StatusRec[] {
  const term = new Map<string, number>();
  const out: StatusRec[] = [];
  for (const r of list) {
    const known = term.get(r.partition) ?? -1;
    if (r.term < known) continue;
    term.set(r.partition, r.term);
    out.push(r);
  }
  return out;
}

/** Per partition, depth (ready + in flight) at each leader status, with a gap where the leader was silent. */
export function depthByPartition(list: readonly StatusRec[], pick: (r: StatusRec) => number = (r) => r.ready): Map<string, Samples & { max: number }> {
  const out = new Map<string, Samples & { max: number }>();
  for (const r of currentStatuses(list)) {
    let s = out.get(r.partition);
    if (!s) out.set(r.partition, (s = { t: [], v: [], max: 0 }));
    const last = s.t[s.t.length - 1];
    if (last !== undefined && r.t - last > STATUS_GAP_US) {
      s.t.push(last + 1);
      s.v.push(null);
    }
    const depth = pick(r);
    s.t.push(r.t);
    s.v.push(depth);
    s.max = Math.max(s.max, depth);
  }
  return out;
}

/**
 * The largest lag over partitions (seconds) at each leader status: every partition's newest lag, forgetting any older
 * than STATUS_GAP_US (a partition without a leader has no known queue).
 */
export function lagMax(list: readonly StatusRec[]): Samples {
  const latest = new Map<string, { t: Micros; lagMs: number }>();
  const out: Samples = { t: [], v: [] };
  for (const r of currentStatuses(list)) {
    latest.set(r.partition, { t: r.t, lagMs: r.lagMs });
    let max = 0;
    for (const x of latest.values()) if (r.t - x.t <= STATUS_GAP_US) max = Math.max(max, x.lagMs);
    const n = out.t.length;
    // Polls answered in the same instant collapse into one point.
    if (n > 0 && out.t[n - 1] === r.t) out.v[n - 1] = max / 1000;
    else {
      out.t.push(r.t);
      out.v.push(max / 1000);
    }
  }
  return out;
}

/** Running totals of one ledger column: a step at every record, starting at 0 at time 0. */
export function cumulative(list: readonly LedgerRec[], key: LedgerKey): Samples & { total: number } {
  const out = { t: [0] as Micros[], v: [0] as (number | null)[], total: 0 };
  for (const r of list) {
    if (r.key !== key) continue;
    out.total += r.n;
    const n = out.t.length;
    if (out.t[n - 1] === r.t) out.v[n - 1] = out.total;
    else {
      out.t.push(r.t);
      out.v.push(out.total);
    }
  }
  return out;
}

/** Every ledger column's total (what the run summary's ledger metrics say at the same moment). */
export function ledgerTotals(list: readonly LedgerRec[]): Record<LedgerKey, number> {
  const out = Object.fromEntries(LEDGER_KEYS.map((k) => [k, 0])) as Record<LedgerKey, number>;
  for (const r of list) out[r.key] += r.n;
  return out;
}

const BUCKET_STEPS_US = [10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000];

/** A rate bucket for a run: the smallest round step giving at most 40 buckets (1 s for a 40 s run, 200 ms for 5 s). */
export function bucketFor(durationUs: Micros, bucketsMax = 40): Micros {
  return BUCKET_STEPS_US.find((b) => durationUs / b <= bucketsMax) ?? BUCKET_STEPS_US[BUCKET_STEPS_US.length - 1];
}

/**
 * Messages per second of one ledger column, per bucket of `bucketUs` up to `now`: `t[i]` is the bucket's start. The
 * unfinished last bucket is shown once half of it has run (its rate over the part that ran), else left out.
 */
export function ratePerS(list: readonly LedgerRec[], key: LedgerKey, bucketUs: Micros, now: Micros): Samples {
  const buckets = Math.floor(now / bucketUs) + 1;
  const counts = new Array<number>(buckets).fill(0);
  for (const r of list) if (r.key === key && r.t <= now) counts[Math.min(buckets - 1, Math.floor(r.t / bucketUs))] += r.n;
  const out: Samples = { t: [], v: [] };
  for (let i = 0; i < buckets; i++) {
    const ran = Math.min(bucketUs, now - i * bucketUs);
    if (ran < bucketUs / 2) continue;
    out.t.push(i * bucketUs);
    out.v.push((counts[i] * 1_000_000) / ran);
  }
  return out;
}

/** The value a step series holds at `t` (the last sample at or before it), or null before the first. */
export function valueAt(s: Samples, t: Micros): number | null {
  const i = lowerBound(s.t, t + 1) - 1;
  return i < 0 ? null : s.v[i];
}

// ---- the dashboard's stored queries (from the snapshot) -------------------------------------------------------------

/** One window of a stored query as the dashboard merged it. */
export type DashPointView = DashPoint;

export interface DashQueryView {
  id: string;
  name: string;
  text: string;
  labels: string[];
  windowUs: Micros;
  slideUs: Micros;
  latenessUs: Micros;
  newestStart: Micros | null;
  finalBefore: Micros | null;
  reading: boolean;
  series: DashPointView[];
}

export interface DashboardView {
  node: NodeId;
  /** False while the dashboard node is down: its memory (and so its series) is gone until it restarts. */
  up: boolean;
  queries: DashQueryView[];
}

/**
 * The dashboard's stored queries and their windows, read from the dashboard node's view in the snapshot (its
 * `view` carries every query's series, at most `historyMax` windows each), so the charts need no extra worker call.
 * Null when the run has no dashboard.
 */
export function dashboardOf(s: Snapshot | null): DashboardView | null {
  const n = s?.nodes.find((x) => x.kind === 'apm-dashboard');
  if (!n) return null;
  const m = n.memory as { queries?: unknown } | null;
  if (!m || !Array.isArray(m.queries)) return { node: n.id, up: false, queries: [] };
  const queries = (m.queries as Partial<DashQueryView>[])
    .filter((q) => typeof q.id === 'string' && Array.isArray(q.series) && Array.isArray(q.labels))
    .map((q) => ({
      id: q.id!,
      name: String(q.name ?? q.id),
      text: String(q.text ?? ''),
      labels: q.labels!.map(String),
      windowUs: Number(q.windowUs ?? 0),
      slideUs: Number(q.slideUs ?? q.windowUs ?? 0),
      latenessUs: Number(q.latenessUs ?? 0),
      newestStart: typeof q.newestStart === 'number' ? q.newestStart : null,
      finalBefore: typeof q.finalBefore === 'number' ? q.finalBefore : null,
      reading: q.reading === true,
      series: q.series!,
    }));
  return { node: n.id, up: n.status === 'up', queries };
}
