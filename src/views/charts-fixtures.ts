import type { HostSnapshot, NodeSnapshot, Snapshot } from '../sim/lab.ts';
import type { MetricValue } from '../sim/kernel/metrics.ts';
import type { TraceBody, TraceEvent } from '../sim/kernel/trace.ts';
import type { Micros } from '../sim/kernel/time.ts';
import { ChartsTrace, type DashPointView, type DashQueryView } from './charts-trace.svelte.ts';

/**
 * Fixed data for the Charts stories and tests: small hand-built runs (events and snapshots) in the shapes the
 * simulator emits — partition leaders' status replies, producer / sink / partition notes, autoscaler readings and
 * decisions, crash / restart / partition / heal events, and a dashboard node's view. They are written here rather
 * than taken from a live run so the pictures stay put while the simulator changes; every number is derived from a
 * fixed formula, and the ledger metrics in the snapshots are counted independently from the same generated notes.
 *
 * - `mqFailover`: 3 partitions on brokers b1–b3 over 5 s. Broker b2 (which leads orders-1) crashes at 1.5 s; orders-1
 *   has no leader until b3 takes over in term 2 at 2.1 s with a backlog that then drains; b2 restarts at 3 s. A
 *   network partition cuts c1 off from 3.6 s to 4.1 s. Some deliveries are redelivered and processed twice.
 * - `apmPercentiles`: a dashboard with one stored query (avg, p50, p90, p99, max over 10 s windows) whose merged p99
 *   is far above the average of the two partitions' p99s; one window has late samples.
 * - `apmAutoscale`: lag grows until the autoscaler adds an aggregator at 31.5 s; a sliding-window query.
 */

interface NodeSpec {
  id: string;
  kind: string;
  host?: string;
  status?: NodeSnapshot['status'];
  memory?: unknown;
}

/** A complete Snapshot for the given nodes and moment; everything the Charts view does not read is empty. */
export function fixtureSnapshot(o: { scenario: string; t: Micros; durationUs: Micros; nodes: NodeSpec[]; eventCount: number; metrics?: Record<string, MetricValue> }): Snapshot {
  const hosts = new Map<string, string[]>();
  for (const n of o.nodes) {
    const h = n.host ?? n.id;
    hosts.set(h, [...(hosts.get(h) ?? []), n.id]);
  }
  const done = o.t >= o.durationUs;
  return {
    scenario: { id: o.scenario, title: o.scenario, summary: '', tags: [], difficulty: 'core', minutes: 5, goals: [] },
    seed: 'fixture',
    bugs: [],
    t: o.t,
    durationUs: o.durationUs,
    steps: o.eventCount,
    done,
    playing: false,
    speed: 1,
    nodes: o.nodes.map((n) => ({
      id: n.id,
      kind: n.kind,
      status: n.status ?? 'up',
      incarnation: 0,
      memory: n.memory ?? {},
      headline: {},
      disk: { keys: [], data: {}, pendingWrites: 0, writes: 0, syncs: 0 },
      timers: [],
      inbox: 0,
      detail: true,
    })),
    hosts: [...hosts].map(([id, nodes]): HostSnapshot => ({ id, nodes, status: 'up', diskBacklogMs: 0, nicBacklogMs: 0 })),
    network: { partition: null, cut: [] },
    inFlight: [],
    inFlightTotal: 0,
    eventCount: o.eventCount,
    traceHash: '0000000000000000',
    checkers: [],
    violations: [],
    expectations: [],
    narration: [],
    actions: [],
    settings: {},
    knownBugs: {},
    metrics: o.metrics ?? {},
    checkpoints: 1,
    messageKinds: [],
  };
}

/** Builds a trace: events get seq in order of push and must be pushed in time order. */
class EventList {
  readonly events: TraceEvent[] = [];
  private msgId = 1;

  push(t: Micros, body: TraceBody): void {
    const last = this.events[this.events.length - 1];
    if (last && last.t > t) throw new Error(`fixture events out of order: ${t} after ${last.t}`);
    this.events.push({ ...body, t, seq: this.events.length } as TraceEvent);
  }

  send(t: Micros, from: string, to: string, msg: string, body: unknown): void {
    this.push(t, { kind: 'msg.send', id: this.msgId++, from, to, msg, body, size: 48, deliverAt: t + 1_200 });
  }

  note(t: Micros, node: string, name: string, data: unknown): void {
    this.push(t, { kind: 'node.note', node, name, data });
  }
}

/** A fixed pseudo-random value in [0, 1) for integer i (Knuth's multiplicative hash). */
function wobble(i: number): number {
  return ((Math.imul(i + 1, 2654435761) >>> 0) % 1000) / 1000;
}

function sortByTime(list: { t: Micros; add: (e: EventList) => void }[]): { t: Micros; add: (e: EventList) => void }[] {
  return list.map((x, i) => ({ ...x, i })).sort((a, b) => a.t - b.t || a.i - b.i);
}

// ---- the message queue ------------------------------------------------------------------------------------------

export const MQ_DURATION_US = 5_000_000;
const PARTITIONS = ['orders-0', 'orders-1', 'orders-2'];
const MQ_NODES: NodeSpec[] = [
  ...['b1', 'b2', 'b3'].flatMap((b) => PARTITIONS.map((p) => ({ id: `${b}.${p}`, kind: 'mq-partition', host: b }))),
  { id: 'ctl', kind: 'mq-coordinator' },
  { id: 'prod1', kind: 'mq-producer' },
  { id: 'c1', kind: 'mq-consumer' },
  { id: 'sink', kind: 'mq-sink' },
];

/** Broker b2 crashes here; orders-1 has no leader until b3 wins term 2. */
const CRASH_US = 1_500_000;
const NEW_LEADER_US = 2_100_000;

/** Depth of a partition at time t: a few messages, except orders-1's backlog after the failover. */
function depthOf(p: number, t: Micros): number {
  const base = 2 + Math.round(4 * wobble(p * 1000 + Math.round(t / 100_000)));
  if (p !== 1 || t < NEW_LEADER_US || t > 3_500_000) return base;
  const since = (t - NEW_LEADER_US) / 1_000_000;
  return base + Math.round(since < 0.3 ? 55 + since * 40 : Math.max(0, 67 - (since - 0.3) * 65));
}

function mqEvents(): { events: TraceEvent[]; ledger: Record<string, number> } {
  const e = new EventList();
  const steps: { t: Micros; add: (e: EventList) => void }[] = [];
  const ledger = { produced: 0, acked: 0, delivered: 0, duplicated: 0, redelivered: 0, deadLettered: 0, expired: 0 };
  steps.push({ t: 0, add: (x) => x.push(0, { kind: 'run.start', scenario: 'mq-failover', seed: 'fixture', nodes: MQ_NODES.map((n) => n.id) }) });
  // Status polls every 100 ms: leaders b1 (orders-0), b2 → b3 (orders-1, term 2 from 1.75 s), b3 (orders-2).
  for (let t = 100_000; t <= MQ_DURATION_US; t += 100_000) {
    PARTITIONS.forEach((name, p) => {
      const at = t + 300 + p * 150;
      let leader = `b${p + 1}.${name}`;
      let term = 1;
      if (p === 1 && at >= CRASH_US) {
        if (at < NEW_LEADER_US) return; // no leader: nobody answers as leader
        leader = `b3.${name}`;
        term = 2;
      }
      const depth = depthOf(p, at);
      const inflight = Math.min(depth, 3);
      const lagMs = Math.round(depth * 9 + 20 * wobble(p + at));
      steps.push({ t: at, add: (x) => x.send(at, leader, 'ctl', 'status', { kind: 'status', partition: name, role: 'leader', term, leader, ready: depth - inflight, inflight, lagMs }) });
      // A follower's answer: never counted.
      steps.push({ t: at + 50, add: (x) => x.send(at + 50, `b${((p + 1) % 3) + 1}.${name}`, 'ctl', 'status', { kind: 'status', partition: name, role: 'follower', term, leader, ready: 0, inflight: 0, lagMs: 0 }) });
    });
  }
  // Produce 4 messages every 50 ms; acks 3 ms later (held up while orders-1 has no leader); deliveries 20 ms later.
  let seq = 0;
  const delivered: string[] = [];
  for (let t = 50_000; t <= MQ_DURATION_US - 50_000; t += 50_000) {
    const from = seq;
    const to = seq + 3;
    seq += 4;
    ledger.produced += 4;
    steps.push({ t, add: (x) => x.note(t, 'prod1', 'produced', { pid: 'p1', from, to, acks: 'quorum' }) });
    const stalled = t >= CRASH_US && t < NEW_LEADER_US;
    const ackAt = stalled ? NEW_LEADER_US + 10_000 : t + 3_000;
    const seqs = [from, from + 1, from + 2, from + 3];
    ledger.acked += 4;
    steps.push({ t: ackAt, add: (x) => x.note(ackAt, 'prod1', 'acked', { pid: 'p1', partition: 'orders-1', batch: from, acks: 'quorum', seqs }) });
    const ids = seqs.map((q) => `p1-${q}`);
    const deliverAt = stalled ? NEW_LEADER_US + 100_000 + (t - CRASH_US) / 2 : t + 20_000;
    ledger.delivered += 4;
    steps.push({ t: deliverAt, add: (x) => x.note(deliverAt, 'sink', 'processed', { consumer: 'c1', ids }) });
    delivered.push(...ids);
  }
  // After the crash, 6 messages whose visibility ran out are redelivered and processed a second time.
  const again = delivered.slice(100, 106);
  ledger.redelivered += again.length;
  ledger.duplicated += again.length;
  steps.push({ t: 2_050_000, add: (x) => x.note(2_050_000, 'b1.orders-0', 'redeliver', { partition: 'orders-0', ids: again }) });
  steps.push({ t: 2_080_000, add: (x) => x.note(2_080_000, 'sink', 'processed', { consumer: 'c1', ids: again }) });
  // Faults: broker b2 crashes (its three replicas) and restarts; c1 is cut off for half a second.
  steps.push({
    t: 1_500_000,
    add: (x) => {
      x.push(1_500_000, { kind: 'fault', source: 'scenario', fault: { kind: 'crash', node: 'b2' } });
      for (const p of PARTITIONS) x.push(1_500_000, { kind: 'node.crash', node: `b2.${p}`, lostWrites: 0 });
    },
  });
  steps.push({
    t: 3_000_000,
    add: (x) => {
      x.push(3_000_000, { kind: 'fault', source: 'scenario', fault: { kind: 'restart', node: 'b2' } });
      for (const p of PARTITIONS) x.push(3_000_000, { kind: 'node.boot', node: `b2.${p}`, incarnation: 1, recovered: true });
    },
  });
  const groups = [['c1'], ['b1', 'b2', 'b3', 'ctl', 'prod1', 'sink']];
  steps.push({
    t: 3_600_000,
    add: (x) => {
      x.push(3_600_000, { kind: 'fault', source: 'user', fault: { kind: 'partition', shape: 'isolate', node: 'c1' } });
      x.push(3_600_000, { kind: 'net.partition', shape: 'isolate', groups, oneWay: false });
    },
  });
  steps.push({ t: 4_100_000, add: (x) => x.push(4_100_000, { kind: 'net.heal' }) });
  steps.push({ t: MQ_DURATION_US, add: (x) => x.push(MQ_DURATION_US, { kind: 'run.end' }) });
  for (const s of sortByTime(steps)) s.add(e);
  return { events: e.events, ledger };
}

export interface ChartsFixture {
  snapshot: Snapshot;
  trace: ChartsTrace;
  events: TraceEvent[];
}

/** The trace up to t: every event at or before it, ingested in one go. */
function traceUpTo(events: readonly TraceEvent[], nodes: NodeSpec[], t: Micros): { trace: ChartsTrace; count: number } {
  const upTo = events.filter((e) => e.t <= t);
  const trace = new ChartsTrace(null);
  trace.setNodes(nodes);
  trace.ingestAll(upTo);
  return { trace, count: upTo.length };
}

let mqCache: ReturnType<typeof mqEvents> | null = null;

/** Ledger totals of the events up to t, counted without the charts' code (as the run summary would give them). */
function ledgerUpTo(events: readonly TraceEvent[], t: Micros): Record<string, number> {
  const out: Record<string, number> = { produced: 0, acked: 0, delivered: 0, duplicated: 0, redelivered: 0, deadLettered: 0, expired: 0 };
  const seen = new Set<string>();
  for (const e of events) {
    if (e.t > t || e.kind !== 'node.note') continue;
    const d = e.data as { from: number; to: number; seqs: number[]; ids: string[] };
    if (e.name === 'produced') out.produced += d.to - d.from + 1;
    else if (e.name === 'acked') out.acked += d.seqs.length;
    else if (e.name === 'redeliver') out.redelivered += d.ids.length;
    else if (e.name === 'processed') {
      for (const id of d.ids) {
        out[seen.has(id) ? 'duplicated' : 'delivered']++;
        seen.add(id);
      }
    }
  }
  return out;
}

/** The queue run at virtual time t (the whole trace up to t; the ledger metrics as the run summary has them). */
export function mqFixture(t: Micros): ChartsFixture {
  mqCache ??= mqEvents();
  const { trace, count } = traceUpTo(mqCache.events, MQ_NODES, t);
  const nodes = MQ_NODES.map((n) => (n.host === 'b2' && t >= 1_500_000 && t < 3_000_000 ? { ...n, status: 'crashed' as const, memory: null } : n));
  const snapshot = fixtureSnapshot({ scenario: 'mq-failover', t, durationUs: MQ_DURATION_US, nodes, eventCount: count, metrics: ledgerUpTo(mqCache.events, t) });
  return { snapshot, trace, events: mqCache.events };
}

/** The generated totals of the whole run (what the final ledger must say). */
export function mqFinalLedger(): Record<string, number> {
  mqCache ??= mqEvents();
  return { ...mqCache.ledger };
}

// ---- APM: the dashboard and the autoscaler ----------------------------------------------------------------------

export const APM_DURATION_US = 40_000_000;

function point(start: Micros, windowUs: Micros, count: number, late: number, values: Record<string, number>, avgOfPartials: Record<string, number>): DashPointView {
  return { start, end: start + windowUs, count, late, values, avgOfPartials, partials: 2 };
}

/** Numbers from a run of apm-percentiles (seed 1), rounded; window 2 has 3 late samples added for the picture. */
export const PERCENTILE_QUERY: DashQueryView = {
  id: 'latency',
  name: 'RPC latency: avg, p50, p90, p99, max',
  text: 'FROM servers(web-*) SELECT rpc.latency WINDOW 10s COMPUTE avg, p50, p90, p99, max',
  labels: ['avg', 'p50', 'p90', 'p99', 'max'],
  windowUs: 10_000_000,
  slideUs: 10_000_000,
  latenessUs: 0,
  newestStart: 20_000_000,
  finalBefore: 10_000_000,
  reading: false,
  series: [
    point(0, 10_000_000, 80, 0, { avg: 124, p50: 61, p90: 433, p99: 854, max: 848 }, { avg: 124, p50: 60, p90: 309, p99: 483 }),
    point(10_000_000, 10_000_000, 80, 3, { avg: 139, p50: 65, p90: 376, p99: 1353, max: 1365 }, { avg: 139, p50: 65, p90: 321, p99: 753 }),
    point(20_000_000, 10_000_000, 80, 0, { avg: 117, p50: 65, p90: 340, p99: 925, max: 917 }, { avg: 117, p50: 64, p90: 265, p99: 502 }),
  ],
};

function dashboardMemory(queries: DashQueryView[]): unknown {
  return { cfg: { refreshMs: 1000, tsdb: 'tsdb', historyMax: 300 }, counts: { refreshes: 35, reads: 35, replies: 34, hits: 6, misses: 40, timeouts: 0, staleReplies: 0 }, hitRate: 0.13, queries };
}

export function apmPercentilesFixture(t: Micros = 35_000_000): ChartsFixture {
  const nodes: NodeSpec[] = [
    { id: 'agg-1', kind: 'apm-aggregator' },
    { id: 'tsdb', kind: 'apm-tsdb' },
    { id: 'dash', kind: 'apm-dashboard', memory: dashboardMemory([PERCENTILE_QUERY]) },
  ];
  const events: TraceEvent[] = [{ t: 0, seq: 0, kind: 'run.start', scenario: 'apm-percentiles', seed: 'fixture', nodes: nodes.map((n) => n.id) }];
  const { trace, count } = traceUpTo(events, nodes, t);
  return { snapshot: fixtureSnapshot({ scenario: 'apm-percentiles', t, durationUs: APM_DURATION_US, nodes, eventCount: count }), trace, events };
}

/** A 10 s window sliding every 5 s: each point overlaps the next, so each is drawn over its 5 s slide. */
const SLIDING_QUERY: DashQueryView = {
  id: 'cpu',
  name: 'CPU, 10 s windows every 5 s',
  text: 'FROM servers(web-*) SELECT cpu WINDOW 10s SLIDE 5s LATENESS 2s COMPUTE min, max, avg, p99',
  labels: ['min', 'max', 'avg', 'p99'],
  windowUs: 10_000_000,
  slideUs: 5_000_000,
  latenessUs: 2_000_000,
  newestStart: 25_000_000,
  finalBefore: 13_000_000,
  reading: true,
  series: [0, 5, 10, 15, 20, 25].map((s, i) =>
    point(s * 1_000_000, 10_000_000, 160, i === 3 ? 7 : 0, { min: 27 + i, max: 64 - i, avg: 41 + 2 * wobble(i), p99: 62 - i * 0.5 }, { avg: 41 + 2 * wobble(i + 9), p99: 60 - i }),
  ),
};

export function apmAutoscaleFixture(t: Micros = 36_000_000): ChartsFixture {
  const nodes: NodeSpec[] = [
    ...['b1', 'b2', 'b3'].flatMap((b) => ['metric.cpu-0', 'metric.cpu-1'].map((p) => ({ id: `${b}.${p}`, kind: 'mq-partition', host: b }))),
    { id: 'ctl', kind: 'mq-coordinator' },
    { id: 'scaler', kind: 'apm-autoscaler' },
    { id: 'dash', kind: 'apm-dashboard', memory: dashboardMemory([SLIDING_QUERY]) },
  ];
  const e = new EventList();
  e.push(0, { kind: 'run.start', scenario: 'apm-autoscale', seed: 'fixture', nodes: nodes.map((n) => n.id) });
  // Lag climbs from 20 s (the load doubles), the autoscaler adds agg-2 at 31.5 s, and the backlog drains.
  const lagAt = (s: number) => (s < 20 ? 0 : s < 31.5 ? (s - 20) * 210 : Math.max(0, 2400 - (s - 31.5) * 600));
  for (let k = 1; k * 500_000 <= APM_DURATION_US; k++) {
    const at = k * 500_000;
    const s = at / 1_000_000;
    ['metric.cpu-0', 'metric.cpu-1'].forEach((p, i) => {
      const lagMs = Math.round(lagAt(s) * (i === 0 ? 1 : 0.6));
      const ready = Math.round(lagMs / 60);
      e.send(at + 200 + i * 100, `b${i + 1}.${p}`, 'ctl', 'status', { kind: 'status', partition: p, role: 'leader', term: 1, leader: `b${i + 1}.${p}`, ready, inflight: 1, lagMs });
    });
    const waiting = Math.round(lagAt(s) / 60 * 1.6);
    const trendPerS = s < 20 ? 0 : s < 31.5 ? 6 : -16;
    e.push(at + 400, { kind: 'node.state', node: 'scaler', key: 'lag', value: { waiting, lagMs: Math.round(lagAt(s)), trendPerS, drainS: trendPerS < 0 ? Math.round((waiting / 16) * 10) / 10 : null } });
    if (k === 63) e.note(at + 401, 'scaler', 'scale', { from: 1, to: 2, aggregator: 'agg-2', why: 'oldest message waited 2398 ms > 1500 ms' });
  }
  const { trace, count } = traceUpTo(e.events, nodes, t);
  return { snapshot: fixtureSnapshot({ scenario: 'apm-autoscale', t, durationUs: APM_DURATION_US, nodes, eventCount: count }), trace, events: e.events };
}
