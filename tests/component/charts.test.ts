/**
 * The Charts panel (issue 6), from the bottom up:
 * - the fold (ChartsTrace) fed synthetic events: only leaders' status bodies count, the ledger deduplicates as the
 *   run's ledger checker does, fault windows open and close with their repair, pages with holes (the fetch is
 *   filtered by kind) give the same data as one batch, and a cut (seek back) gives the same data as never going on;
 * - the fold against real runs through a port: the ledger at the cursor equals the run summary's ledger metrics at
 *   the end, after a seek back and after a fork;
 * - the pure helpers (current-term statuses, gaps, max lag, running totals, rates, bands, label rows, dodging);
 * - the geometry (ChartsModel): the shared time axis, bands, the query chart's steps, finality line, late flags,
 *   avg-of-partials lines and labels, the line cap;
 * - the component through its stories: titles, legends, tooltips that teach, the data tables, the hover readout,
 *   keyboard reading and seeking, every story rendering; and an SVG snapshot with rounded numbers.
 */
import { composeStories } from '@storybook/svelte';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import { Lab, type Snapshot } from '../../src/sim/lab.ts';
import type { TraceBody, TraceEvent } from '../../src/sim/kernel/trace.ts';
import Charts from '../../src/views/Charts.svelte';
import * as stories from '../../src/views/Charts.stories.ts';
import { apmAutoscaleFixture, apmPercentilesFixture, fixtureSnapshot, mqFinalLedger, mqFixture, PERCENTILE_QUERY } from '../../src/views/charts-fixtures.ts';
import {
  bucketFor,
  ChartsTrace,
  cumulative,
  currentStatuses,
  dashboardOf,
  depthByPartition,
  faultBands,
  hasCharts,
  lagMax,
  ledgerTotals,
  ratePerS,
  valueAt,
  type StatusRec,
} from '../../src/views/charts-trace.svelte.ts';
import { ChartsModel, dodge, faultLabel, fmtNum, labelRows, LINES_MAX, metricOf } from '../../src/views/charts.svelte.ts';
import { localPort } from '../../src/views/port.ts';
import { renderStory, type Composed } from './render.ts';

const { MqLeaderCrash, MqEndOfRun, ApmPercentiles, ApmAutoscale, Empty } = composeStories(stories);

/** Events with seqs from `from` on, in the order given. */
function events(list: [number, TraceBody][], from = 0): TraceEvent[] {
  return list.map(([t, body], i) => ({ ...body, t, seq: from + i }) as TraceEvent);
}

const status = (from: string, partition: string, role: string, term: number, ready: number, inflight: number, lagMs: number): TraceBody => ({
  kind: 'msg.send',
  id: 1,
  from,
  to: 'ctl',
  msg: 'status',
  body: { kind: 'status', partition, role, term, leader: from, ready, inflight, lagMs },
  size: 48,
  deliverAt: 0,
});

const note = (node: string, name: string, data: unknown): TraceBody => ({ kind: 'node.note', node, name, data });

const NODES = [
  { id: 'b1.p0', kind: 'mq-partition' },
  { id: 'b2.p0', kind: 'mq-partition' },
  { id: 'prod1', kind: 'mq-producer' },
  { id: 'sink', kind: 'mq-sink' },
  { id: 'c1', kind: 'mq-consumer' },
];

/** A small run with every kind of record: 16 events. */
const SAMPLE = events([
  [0, { kind: 'run.start', scenario: 's', seed: '1', nodes: NODES.map((n) => n.id) }],
  [100, status('b1.p0', 'p0', 'leader', 1, 3, 2, 40)],
  [110, status('b2.p0', 'p0', 'follower', 1, 0, 0, 0)],
  [200, note('prod1', 'produced', { pid: 'p', from: 0, to: 4, acks: 'quorum' })],
  [210, note('c1', 'produced', { pid: 'x', from: 0, to: 99 })],
  [300, note('prod1', 'acked', { pid: 'p', seqs: [0, 1, 2] })],
  [310, note('prod1', 'acked', { pid: 'p', seqs: [2, 3] })],
  [400, note('sink', 'processed', { consumer: 'c1', ids: ['p-0', 'p-1'] })],
  [500, { kind: 'fault', source: 'scenario', fault: { kind: 'crash', node: 'b1.p0' } }],
  [500, { kind: 'node.crash', node: 'b1.p0', lostWrites: 0 }],
  [600, note('b2.p0', 'redeliver', { partition: 'p0', ids: ['p-1'] })],
  [700, note('sink', 'processed', { consumer: 'c1', ids: ['p-1', 'p-2'] })],
  [800, note('b2.p0', 'dead-lettered', { partition: 'p0', ids: ['p-3'], reason: 'ttl' })],
  [900, { kind: 'node.boot', node: 'b1.p0', incarnation: 1, recovered: true }],
  [950, { kind: 'net.partition', shape: 'isolate', groups: [['c1'], ['b1', 'b2']], oneWay: false }],
  [1000, status('b2.p0', 'p0', 'leader', 2, 1, 0, 10)],
]);

function fresh(list: readonly TraceEvent[] = SAMPLE): ChartsTrace {
  const t = new ChartsTrace(null);
  t.setNodes(NODES);
  t.ingestAll(list);
  return t;
}

/** A comparable digest of everything the trace holds. */
function digest(t: ChartsTrace) {
  return JSON.stringify({ count: t.count, statuses: t.statuses, ledger: t.ledger, scaler: t.scaler, decisions: t.decisions, faults: t.faults, totals: ledgerTotals(t.ledger) });
}

describe('ChartsTrace: the fold', () => {
  it('counts only leaders’ status bodies, and only producers’ produced / acked notes', () => {
    const t = fresh();
    expect(t.statuses.map((s) => [s.node, s.term, s.ready + s.inflight, s.lagMs])).toEqual([
      ['b1.p0', 1, 5, 40],
      ['b2.p0', 2, 1, 10],
    ]);
    // c1's "produced" note is not a producer's: ignored.
    expect(ledgerTotals(t.ledger).produced).toBe(5);
    expect(t.count).toBe(16);
  });

  it('deduplicates the ledger like the run’s checker: one ack and one delivery per message, then duplicates', () => {
    const t = fresh();
    expect(ledgerTotals(t.ledger)).toEqual({ produced: 5, acked: 4, delivered: 3, duplicated: 1, redelivered: 1, deadLettered: 1, expired: 1 });
    expect(cumulative(t.ledger, 'delivered')).toEqual({ t: [0, 400, 700], v: [0, 2, 3], total: 3 });
  });

  it('opens a fault window at the crash and closes it at the restart; a partition stays open', () => {
    const t = fresh();
    expect(t.faults.map((f) => [f.kind, f.subject, f.t, f.end, f.source])).toEqual([
      ['crash', 'b1.p0', 500, 900, 'scenario'],
      ['partition', '', 950, null, null],
    ]);
    expect(t.faults[1].detail).toBe('groups {c1} | {b1 b2}');
  });

  it('reads pages with holes (a filtered fetch) the same as one batch', () => {
    const whole = fresh();
    const paged = new ChartsTrace(null);
    paged.setNodes(NODES);
    // Only the chart kinds (run.start, seq 0, is a hole), in three pages; the caller says how far it looked (upTo).
    const kept = SAMPLE.filter((e) => e.kind !== 'run.start');
    paged.ingestAll(kept.slice(0, 4), 5);
    expect(paged.count).toBe(5);
    paged.ingestAll(kept.slice(4, 9), 10);
    paged.ingestAll(kept.slice(9), 16);
    expect(digest(paged)).toBe(digest(whole));
    // A page from before the cursor is ignored.
    paged.ingestAll(SAMPLE.slice(0, 5));
    expect(digest(paged)).toBe(digest(whole));
  });

  it('a cut (seek back) leaves exactly what a trace that never went further holds; going on again gives the same', () => {
    for (const cut of [0, 3, 7, 9, 12, 14, 15]) {
      const t = fresh();
      const before = t.revision;
      t.truncate(cut);
      expect(t.revision).toBeGreaterThan(before);
      expect(digest(t)).toBe(digest(fresh(SAMPLE.slice(0, cut))));
      t.ingestAll(SAMPLE.slice(cut));
      expect(digest(t)).toBe(digest(fresh()));
    }
    // Cut between the crash and the restart: the window is open again.
    const t = fresh();
    t.truncate(13);
    expect(t.faults.map((f) => [f.kind, f.end])).toEqual([['crash', null]]);
  });

  it('reads the autoscaler’s readings and decisions', () => {
    const t = fresh(
      events([
        [10, { kind: 'node.state', node: 'scaler', key: 'lag', value: { waiting: 9, lagMs: 399, trendPerS: 9, drainS: null } }],
        [20, note('scaler', 'scale', { from: 1, to: 2, aggregator: 'agg-2', why: 'oldest message waited 2398 ms > 1500 ms' })],
        [30, note('scaler', 'scale-capped', { active: 2, partitions: 2, why: 'one consumer per partition at most' })],
      ]),
    );
    expect(t.scaler).toEqual([{ seq: 0, t: 10, node: 'scaler', waiting: 9, lagMs: 399, trendPerS: 9, drainS: null }]);
    expect(t.decisions.map((d) => [d.from, d.to, d.aggregator, d.capped])).toEqual([
      [1, 2, 'agg-2', false],
      [2, 2, '', true],
    ]);
  });
});

/** Every event of a Lab so far, unfiltered, read synchronously. */
function allEvents(lab: Lab): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (let from = 0; ; ) {
    const page = lab.events(from, 10_000);
    if (page.length === 0) return out;
    out.push(...page);
    from = page[page.length - 1].seq + 1;
  }
}

function ledgerMetrics(s: Snapshot): Record<string, unknown> {
  return Object.fromEntries(['produced', 'acked', 'delivered', 'duplicated', 'redelivered', 'deadLettered', 'expired'].map((k) => [k, s.metrics[k]]));
}

describe('ChartsTrace against real runs', () => {
  it.each(['mq-acks-quorum', 'mq-at-least-once', 'mq-poison-dlq', 'mq-ttl'])('%s: the ledger at the end equals the run summary’s ledger metrics', async (id) => {
    const lab = new Lab();
    lab.load(id);
    const s = lab.runToEnd();
    const trace = new ChartsTrace(localPort(lab));
    await trace.sync(s);
    expect(trace.count).toBe(s.eventCount);
    expect(ledgerTotals(trace.ledger)).toEqual(ledgerMetrics(s));
    expect(trace.statuses.length).toBeGreaterThan(10);
  });

  it('follows a seek back and a fork exactly (the same data as a trace read from scratch)', async () => {
    const lab = new Lab();
    lab.load('mq-acks-quorum', { seed: 'acks' });
    const trace = new ChartsTrace(localPort(lab));
    const check = async (s: Snapshot) => {
      await trace.sync(s);
      const again = new ChartsTrace(null);
      again.setNodes(s.nodes);
      again.ingestAll(allEvents(lab));
      expect(digest(trace)).toBe(digest(again));
      expect(ledgerTotals(trace.ledger)).toEqual(ledgerMetrics(s));
    };
    await check(lab.seek(3_000_000));
    const crash = trace.faults.find((f) => f.kind === 'crash')!;
    expect(crash.end).toBe(2_200_000);
    await check(lab.seek(1_500_000));
    expect(trace.faults.find((f) => f.kind === 'crash')!.end).toBeNull();
    // Fork: pause the producer at 1.5 s.
    await check(lab.inject({ kind: 'pause', node: 'prod1' }));
    expect(trace.faults.at(-1)).toMatchObject({ kind: 'pause', subject: 'prod1', t: 1_500_000, source: 'user', end: null });
    await check(lab.seek(5_000_000));
    // Another run starts over.
    lab.load('mq-baseline');
    await check(lab.seek(1_000_000));
    expect(trace.faults).toEqual([]);
  });
});

describe('pure helpers', () => {
  const rec = (t: number, partition: string, term: number, depth: number, lagMs = 0): StatusRec => ({ seq: t, t, node: 'n', partition, term, ready: depth, inflight: 0, lagMs });

  it('drops a deposed leader’s statuses once a newer term has answered', () => {
    const list = [rec(1, 'a', 1, 5), rec(2, 'a', 2, 7), rec(3, 'a', 1, 6), rec(4, 'b', 1, 1)];
    expect(currentStatuses(list).map((r) => r.t)).toEqual([1, 2, 4]);
  });

  it('leaves a gap where a partition’s leader was silent for more than 500 ms', () => {
    const d = depthByPartition([rec(0, 'a', 1, 2), rec(100_000, 'a', 1, 4), rec(900_000, 'a', 1, 3)]).get('a')!;
    expect(d).toEqual({ t: [0, 100_000, 100_001, 900_000], v: [2, 4, null, 3], max: 4 });
  });

  it('takes the largest lag over partitions, forgetting stale ones, in seconds', () => {
    const l = lagMax([rec(0, 'a', 1, 0, 300), rec(10, 'b', 1, 0, 100), rec(600_000, 'b', 1, 0, 200)]);
    expect(l).toEqual({ t: [0, 10, 600_000], v: [0.3, 0.3, 0.2] });
  });

  it('rates per bucket, the unfinished bucket once half of it ran', () => {
    const ledger = [
      { seq: 0, t: 100_000, key: 'produced' as const, n: 10 },
      { seq: 1, t: 1_200_000, key: 'produced' as const, n: 5 },
      { seq: 2, t: 2_100_000, key: 'produced' as const, n: 4 },
    ];
    expect(ratePerS(ledger, 'produced', 1_000_000, 2_400_000)).toEqual({ t: [0, 1_000_000], v: [10, 5] });
    expect(ratePerS(ledger, 'produced', 1_000_000, 2_500_000)).toEqual({ t: [0, 1_000_000, 2_000_000], v: [10, 5, 8] });
    expect([bucketFor(5_000_000), bucketFor(40_000_000), bucketFor(600_000_000)]).toEqual([200_000, 1_000_000, 30_000_000]);
  });

  it('reads a step series at a time; merges a host’s crashes into one band named by the host', () => {
    expect([valueAt({ t: [10, 20], v: [1, 2] }, 5), valueAt({ t: [10, 20], v: [1, 2] }, 15), valueAt({ t: [10, 20], v: [1, 2] }, 20)]).toEqual([null, 1, 2]);
    const crash = (seq: number, node: string, end: number | null) => ({ seq, t: 100, kind: 'crash' as const, subject: node, detail: '', source: null, end, endSeq: end === null ? -1 : 9 });
    const bands = faultBands([crash(1, 'b1.p0', 300), crash(2, 'b1.p1', 300), crash(3, 'b1.p2', null)]);
    expect(bands).toHaveLength(1);
    expect(bands[0]).toMatchObject({ from: 100, to: null, subjects: ['b1.p0', 'b1.p1', 'b1.p2'] });
    expect(faultLabel(bands[0], [{ id: 'b1', nodes: ['b1.p0', 'b1.p1', 'b1.p2'] }])).toBe('crash b1');
    expect(faultLabel(bands[0], [])).toBe('crash b1.p0 +2');
  });

  it('rows for fault labels, dodged line labels, number formats, the query’s metric', () => {
    // The fourth label fits in no row and opens a third; past three rows a label shares the row that ends first.
    expect(labelRows([{ x: 0, w: 50 }, { x: 20, w: 50 }, { x: 60, w: 10 }, { x: 65, w: 10 }, { x: 66, w: 10 }, { x: 67, w: 10 }])).toEqual([0, 1, 0, 2, 0, 1]);
    expect(dodge([50, 52, 100, 10], 12, 0, 105)).toEqual([50, 62, 100, 10]);
    expect(dodge([100, 100, 100], 12, 0, 105)).toEqual([81, 93, 105]);
    expect([fmtNum(0), fmtNum(0.0123), fmtNum(1.234), fmtNum(123.4), fmtNum(12_345)]).toEqual(['0', '0.012', '1.23', '123', '12.3k']);
    expect(metricOf(PERCENTILE_QUERY.text)).toBe('rpc.latency');
  });

  it('finds the dashboard’s queries in the snapshot, and whether a run has charts at all', () => {
    const f = apmPercentilesFixture();
    expect(dashboardOf(f.snapshot)).toMatchObject({ node: 'dash', up: true, queries: [{ id: 'latency', labels: ['avg', 'p50', 'p90', 'p99', 'max'], finalBefore: 10_000_000 }] });
    const down = fixtureSnapshot({ scenario: 'x', t: 0, durationUs: 1, nodes: [{ id: 'dash', kind: 'apm-dashboard', status: 'crashed', memory: null }], eventCount: 0 });
    expect(dashboardOf(down)).toEqual({ node: 'dash', up: false, queries: [] });
    expect([hasCharts(f.snapshot), hasCharts(mqFixture(0).snapshot), hasCharts(fixtureSnapshot({ scenario: 'x', t: 0, durationUs: 1, nodes: [{ id: 'r1', kind: 'raft' }], eventCount: 0 }))]).toEqual([true, true, false]);
  });
});

describe('ChartsModel: geometry', () => {
  it('one time axis for every chart: 54 px left, 18 px right of a 900 px panel; the cursor and the fault bands on it', () => {
    const f = mqFixture(2_200_000);
    const m = new ChartsModel(() => f.snapshot, f.trace);
    expect(m.width).toBe(900);
    // 828 px for 5 s: x(t) = 54 + t × 828 / 5e6.
    expect([m.px(0), m.px(5_000_000), m.px(1_500_000)]).toEqual([54, 882, 302.4]);
    expect(m.cursorX).toBe(418.3);
    expect(m.charts.map((c) => c.id)).toEqual(['depth', 'inflight', 'lag', 'ledger', 'throughput']);
    expect(m.bands).toEqual([
      expect.objectContaining({ kind: 'crash', x: 302.4, w: 115.9, label: 'crash b2', row: 0 }),
    ]);
    expect(m.bands[0].title).toMatch(/^crash b2 \(b2\.orders-0, b2\.orders-1, b2\.orders-2\) from 1\.500s, scheduled by the scenario; still going at 2\.200s\./);
    expect(m.timeAt(302.4)).toBe(1_500_000);
    m.widthPx = 1200;
    expect(m.px(5_000_000)).toBe(1182);
  });

  it('queue depth: a line per partition with a gap while orders-1 had no leader; the ledger ends at the fixture’s totals', () => {
    const f = mqFixture(5_000_000);
    const m = new ChartsModel(() => f.snapshot, f.trace);
    const depth = m.depth!;
    expect(depth.lines.map((l) => l.key)).toEqual(['orders-0', 'orders-1', 'orders-2']);
    // Two subpaths for orders-1: before the crash, and from b3's first status in term 2.
    expect(depth.lines[1].d.match(/M/g)).toHaveLength(2);
    const ledger = m.ledger!;
    const final = mqFinalLedger();
    for (const l of ledger.lines) expect(l.legend).toBe(`${l.label} ${final[l.key]}`);
    expect(ledger.lines.map((l) => l.key)).toEqual(['produced', 'acked', 'delivered', 'duplicated', 'redelivered']);
    expect(ledger.note).toBe('The totals at the cursor equal the run’s ledger metrics.');
    expect(m.bands.map((b) => [b.label, b.row])).toEqual([
      ['crash b2', 0],
      ['partition', 0],
    ]);
  });

  it('caps the depth chart at 8 lines, keeping the deepest partitions, and says so', () => {
    const list = events(Array.from({ length: 12 }, (_, p): [number, TraceBody] => [100 + p, status(`b1.q${p}`, `q${String(p).padStart(2, '0')}`, 'leader', 1, p, 0, 0)]));
    const trace = new ChartsTrace(null);
    trace.ingestAll(list);
    const snap = fixtureSnapshot({ scenario: 'x', t: 1_000, durationUs: 1_000_000, nodes: [{ id: 'b1.q0', kind: 'mq-partition' }], eventCount: list.length });
    const m = new ChartsModel(() => snap, trace);
    expect(m.depth!.lines).toHaveLength(LINES_MAX);
    expect(m.depth!.lines.map((l) => l.key)).toEqual(['q04', 'q05', 'q06', 'q07', 'q08', 'q09', 'q10', 'q11']);
    expect(m.depth!.note).toBe('8 of 12 partitions shown: the ones that reached the highest.');
  });

  it('a dashboard query: steps per window, the finality line, the avg-of-partials lines dashed and labelled, drawn under the truth', () => {
    const f = apmPercentilesFixture();
    const m = new ChartsModel(() => f.snapshot, f.trace);
    expect(m.charts.map((c) => c.id)).toEqual(['query:latency']);
    const c = m.queries[0];
    expect(c.query).toBe(PERCENTILE_QUERY.text);
    expect(c.unit).toBe('rpc.latency');
    // 40 s over 828 px: the windows [0, 10 s), [10, 20), [20, 30) end at 261, 468, 675.
    const p99 = c.lines.find((l) => l.key === 'p99')!;
    expect(p99.d).toMatch(/^M54,[\d.]+H261V[\d.]+H468V[\d.]+H675$/);
    const wrong = c.lines.find((l) => l.key === 'p99:avg-of-partials')!;
    expect([wrong.dash, wrong.color, wrong.label]).toEqual(['6 4', p99.color, 'p99 avg of partials (wrong)']);
    expect(c.lines.filter((l) => l.dash).map((l) => l.key)).toEqual(['p50:avg-of-partials', 'p90:avg-of-partials', 'p99:avg-of-partials']);
    expect(c.drawn.map((l) => l.key).slice(-3)).toEqual(['p50', 'p90', 'p99']);
    expect(c.rules).toEqual([expect.objectContaining({ kind: 'final', x: 261, label: '← final' })]);
    expect(c.lates).toEqual([expect.objectContaining({ x: 364.5, label: '3 late' })]);
    expect(c.bracket).toMatchObject({ x0: 54, x1: 261, text: 'window 10 s' });
    expect(c.labels.map((l) => [l.text, l.anchor, l.x])).toEqual([
      ['p50 (merged)', 'start', 680],
      ['avg of p50s (wrong)', 'start', 680],
      ['p90 (merged)', 'start', 680],
      ['avg of p90s (wrong)', 'start', 680],
      ['p99 (merged)', 'start', 680],
      ['avg of p99s (wrong)', 'start', 680],
    ]);
    // No two labels closer than 12 px.
    const ys = c.labels.map((l) => l.y).sort((a, b) => a - b);
    for (let i = 1; i < ys.length; i++) expect(ys[i] - ys[i - 1]).toBeGreaterThanOrEqual(11.9);
    expect(c.table.columns).toEqual(['window', 'avg', 'p50', 'p90', 'p99', 'max', 'avg of p50s (wrong)', 'avg of p90s (wrong)', 'avg of p99s (wrong)', 'samples', 'late', 'partials']);
    expect(c.table.rows[1]).toEqual(['10.000s–20.000s', '139', '65', '376', '1353', '1365', '65', '321', '753', '80', '3', '2']);
  });

  it('hover readouts: the values under the pointer, the window and the averaging error; the autoscaler’s reading', () => {
    const f = apmPercentilesFixture();
    const m = new ChartsModel(() => f.snapshot, f.trace);
    m.hoverT = 15_000_000;
    expect(m.readouts.get('query:latency')).toBe(
      'at 15.000s: avg 139 · p50 65 · avg of p50s (wrong) 65 · p90 376 · avg of p90s (wrong) 321 · p99 1353 · avg of p99s (wrong) 753 · max 1365 · window 10.000s–20.000s: 80 samples, 3 late, 2 partials; averaging: p50 off by 0, p90 off by 55, p99 off by 600',
    );
    const a = apmAutoscaleFixture();
    const am = new ChartsModel(() => a.snapshot, a.trace);
    expect(am.lag!.rules.map((r) => [r.kind, r.label])).toEqual([['scale', '1→2']]);
    expect(am.lag!.rules[0].title).toBe('Autoscaler at 31.500s: 1 → 2 aggregators (activated agg-2) because oldest message waited 2398 ms > 1500 ms.');
    am.hoverT = 33_000_000;
    expect(am.readouts.get('lag')).toMatch(/^at 33\.000s: lag [\d.]+ s · autoscaler saw \d+ waiting \(oldest [\d.]+ s\), draining 16\/s, empty in ~[\d.]+ s$/);
    // The sliding query: each 10 s window drawn over its 5 s slide.
    expect(am.queries[0].bracket?.text).toBe('window 10 s, every 5 s');
    expect(am.queries[0].note).toBe('Allowed lateness 2 s.');
  });
});

const title = (el: Element | null) => el?.querySelector(':scope > title')?.textContent ?? '';

describe('Charts component', () => {
  it('a queue run mid-crash: five charts with titles, units, legends, the open crash band on each, and the cursor', () => {
    renderStory(MqLeaderCrash);
    for (const id of ['depth', 'inflight', 'lag', 'ledger', 'throughput']) expect(screen.getByTestId(`chart-${id}`)).toBeTruthy();
    const h3 = (id: string) => screen.getByTestId(`chart-${id}`).querySelector('h3')!;
    expect(h3('depth').textContent).toBe('Queue depth per partition?');
    expect(h3('depth').getAttribute('title')).toMatch(/^Queue depth: messages waiting in a partition \(ready\), not yet handed to any consumer/);
    expect(h3('inflight').getAttribute('title')).toMatch(/^In flight: messages handed to a consumer and not yet acknowledged/);
    expect(h3('lag').getAttribute('title')).toMatch(/^Lag: how old the oldest waiting message is — Kafka’s consumer lag, measured in time\./);
    const bands = screen.getAllByTestId('fault-band');
    expect(bands).toHaveLength(5);
    expect(bands.every((b) => b.dataset.kind === 'crash' && b.textContent?.includes('crash b2'))).toBe(true);
    expect(title(bands[0])).toContain('still going at 2.200s');
    expect(screen.getByTestId('charts-summary').textContent).toBe('3 partitions · 1 fault window');
    expect(screen.getByTestId('legend-acked').getAttribute('title')).toMatch(/^Acked: messages the broker confirmed to their producer/);
  });

  it('every chart has an accessible name, a description and a table of its numbers', () => {
    renderStory(MqEndOfRun);
    const figures = screen.getAllByRole('figure');
    expect(figures).toHaveLength(5);
    for (const fig of figures) {
      const svg = fig.querySelector('svg.plot')!;
      const name = document.getElementById(svg.getAttribute('aria-labelledby')!)?.textContent;
      const desc = document.getElementById(svg.getAttribute('aria-describedby')!)?.textContent;
      expect(name).toBe(fig.querySelector('h3')!.textContent?.replace('?', ''));
      expect(desc?.length).toBeGreaterThan(30);
      const table = fig.querySelector('details table')!;
      expect(table.querySelector('caption')?.textContent?.length).toBeGreaterThan(5);
      expect(table.querySelectorAll('tbody tr').length).toBeGreaterThan(5);
    }
    const ledger = screen.getByTestId('chart-ledger');
    const rows = [...ledger.querySelectorAll('tbody tr')].map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent));
    const final = mqFinalLedger();
    expect(rows.at(-1)).toEqual(['5.000s', ...['produced', 'acked', 'delivered', 'duplicated', 'redelivered'].map((k) => String(final[k]))]);
    expect(ledger.querySelector('[data-testid="chart-note"]')?.textContent).toBe('The totals at the cursor equal the run’s ledger metrics.');
  });

  it('the percentile query: its text above the chart, dashed avg-of-partials lines labelled “(wrong)”, the final line and late flag', () => {
    renderStory(ApmPercentiles);
    expect(screen.getByTestId('query-text').textContent).toBe(PERCENTILE_QUERY.text);
    const wrong = document.querySelector('[data-testid="line"][data-key="p99:avg-of-partials"]')!;
    expect(wrong.getAttribute('stroke-dasharray')).toBe('6 4');
    expect(title(wrong)).toMatch(/^Average of partials \(wrong\): the plain average of each partition’s own value\./);
    expect(screen.getAllByTestId('line-label').map((l) => l.textContent)).toContain('avg of p99s (wrong)');
    expect(screen.getByTestId('legend-p99:avg-of-partials').textContent?.trim()).toBe('avg of p99s (wrong)');
    const rule = screen.getByTestId('rule');
    expect(rule.dataset.kind).toBe('final');
    expect(title(rule)).toMatch(/^Finality boundary: windows that start before this line are final/);
    expect(title(screen.getByTestId('late-mark'))).toMatch(/^3 samples for the window 10\.000s–20\.000s arrived after it closed\./);
  });

  it('hovering a chart shows the values at the pointer; arrows and Enter read and seek from the keyboard', async () => {
    const onseek = vi.fn();
    const f = mqFixture(5_000_000);
    render(Charts, { props: { snapshot: f.snapshot, trace: f.trace, onseek } });
    const svg = screen.getByTestId('chart-ledger').querySelector('svg.plot')!;
    // jsdom has no layout: the SVG's left edge is at 0, so clientX is the x in the chart.
    await fireEvent.pointerMove(svg, { clientX: 468 });
    const readout = screen.getByTestId('chart-ledger').querySelector('[data-testid="readout"]')!;
    expect(readout.textContent).toMatch(/^at 2\.500s: produced 200 · acked \d+ · delivered \d+ · duplicated 6 · redelivered 6$/);
    expect(screen.getAllByTestId('readout').every((r) => r.textContent?.startsWith('at 2.500s'))).toBe(true);
    await fireEvent.pointerLeave(svg);
    expect(readout.textContent).toBe('');
    await fireEvent.pointerDown(svg, { clientX: 302.4, button: 0 });
    expect(onseek).toHaveBeenLastCalledWith(1_500_000);
    await fireEvent.keyDown(svg, { key: 'ArrowLeft' });
    expect(svg.getAttribute('aria-valuetext')).toMatch(/^at 4\.800s: produced/);
    await fireEvent.keyDown(svg, { key: 'Enter' });
    expect(onseek).toHaveBeenLastCalledWith(4_800_000);
  });

  it('the empty start of a run says what is missing instead of drawing nothing', () => {
    renderStory(Empty);
    const empties = screen.getAllByTestId('chart-empty').map((e) => e.textContent);
    expect(empties).toContain('No partition leader has answered a status poll yet.');
    expect(empties).toContain('No complete 200 ms bucket yet.');
  });

  it('SVG snapshot of the percentile query (rounded numbers)', () => {
    renderStory(ApmPercentiles);
    const svg = screen.getByTestId('chart-query:latency').querySelector('svg.plot')!;
    // Scoped-style hashes and the per-instance id prefix ($props.id(), counted per page) are not the picture.
    const html = svg.outerHTML.replace(/<!---->/g, '').replace(/ ?svelte-[a-z0-9]+/g, '').replace(/ class=""/g, '').replace(/"c\d+-/g, '"cX-').replace(/#c\d+-/g, '#cX-');
    // Every coordinate is rounded to 0.1 px.
    expect(html).not.toMatch(/ (?:x|y|x1|x2|y1|y2|width|height|d|transform)="[^"]*\d\.\d{2,}/);
    expect(html).toMatchSnapshot();
  });
});

describe('every Charts story renders', () => {
  const all = Object.entries(composeStories(stories)) as [string, Composed][];
  it('has the six stories', () => expect(all.map(([n]) => n)).toEqual(['MqLeaderCrash', 'MqEndOfRun', 'ApmPercentiles', 'ApmAutoscale', 'Empty', 'DlqFilling']));
  for (const [name, story] of all) {
    it(name, () => {
      const { container } = renderStory(story);
      expect(container.querySelector('section svg')).not.toBeNull();
      expect(container.textContent?.trim().length).toBeGreaterThan(60);
      expect(container.querySelectorAll('figure').length).toBeGreaterThanOrEqual(1);
    });
  }
  it('the autoscale story marks the decision and the late window', () => {
    renderStory(ApmAutoscale);
    expect(screen.getAllByTestId('rule').map((r) => r.dataset.kind)).toEqual(['final', 'scale']);
    expect(screen.getByTestId('late-mark').querySelector('text')?.textContent).toBe('7 late');
  });
});

describe('the framing lessons’ charts', () => {
  async function traced(id: string): Promise<{ lab: Lab; s: Snapshot; trace: ChartsTrace }> {
    const lab = new Lab();
    lab.load(id);
    const s = lab.runToEnd();
    const trace = new ChartsTrace(localPort(lab));
    await trace.sync(s);
    return { lab, s, trace };
  }

  it('smart broker: a backlog line per consumer queue, and the dropped total equals the broker’s own count', async () => {
    const { s, trace } = await traced('lesson-smart-broker');
    expect(hasCharts(s)).toBe(true);
    const m = new ChartsModel(() => s, trace);
    expect(m.charts.map((c) => c.id)).toContain('backlog');
    const backlog = m.backlog!;
    expect(backlog.lines.map((l) => l.key)).toEqual(expect.arrayContaining(['worker', 'dropped']));
    const dropped = trace.drops.reduce((n, d) => n + d.n, 0);
    expect(dropped).toBe(s.metrics.brokerDropped);
    expect(backlog.lines.find((l) => l.key === 'dropped')!.legend).toBe(`dropped (total) ${fmtNum(dropped)}`);
  });

  it('partitioned log: the worker’s backlog grows past the broker’s queue limit and nothing is dropped', async () => {
    const { s, trace } = await traced('lesson-partitioned-log');
    const m = new ChartsModel(() => s, trace);
    const worker = trace.backlogs.filter((r) => r.queue === 'worker').map((r) => r.n);
    expect(Math.max(...worker)).toBeGreaterThan(2_500);
    expect(trace.drops).toEqual([]);
    expect(m.backlog!.lines.some((l) => l.key === 'dropped')).toBe(false);
  });

  it('staleness: a batch job’s sawtooth reaches its interval, a stream stays under a second', async () => {
    const batch = await traced('lesson-batch');
    const stream = await traced('lesson-stream');
    const worst = (t: ChartsTrace) => Math.max(...t.staleness.map((r) => r.ms));
    expect(worst(batch.trace)).toBeGreaterThan(10_000);
    expect(worst(stream.trace)).toBeLessThan(1_000);
    const m = new ChartsModel(() => batch.s, batch.trace);
    expect(m.charts.map((c) => c.id)).toEqual(['staleness', 'backlog']);
    expect(m.staleness!.aria).toMatch(/^Dashboard staleness at each refresh; the worst was /);
  });
});
