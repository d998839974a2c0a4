/**
 * The APM storage tier and dashboard (src/sim/apm/tsdb.ts, dashboard.ts), driven in small hand-built worlds: a
 * `writer` node defined here writes PointWrites (built with window.ts accumulators, so values and sketches are what an
 * aggregator would send) and reads to the `apm-tsdb` node, and an `apm-dashboard` reads from it on its own timer.
 * It checks, in order: a point is answered only after its synced append (the answer waits for the host's disk, and
 * the disk holds the point when the answer is sent); duplicate vs conflict on one key; points survive a crash that
 * loses unsynced writes; reads return a query's points from `from` on across partitions, bounded and cut at window
 * boundaries; the CPU queue spaces answers by the write cost; a regular 1 s series compresses far below 16 B/point,
 * matching an independent re-encoding; the dashboard merges two partitions' partials into the true min / max / avg
 * and a sketch percentile within α of the exact one, while the average of the partials' percentiles is far off on a
 * heavy-tailed partition; the cache never re-reads a final window; and same seed ⇒ same trace hash, with memory
 * that is plain data (a checkpoint resumes to the same hash).
 */
import { describe, expect, it } from 'vitest';
import { apmDashboard, type DashboardState } from '../../src/sim/apm/dashboard.ts';
import { parseQuery, type StoredQuery } from '../../src/sim/apm/query.ts';
import { encodeSeries } from '../../src/sim/apm/tsdb-codec.ts';
import { apmTsdb, BLOCK_POINTS, pointBytes, READ_POINTS_MAX, RAW_BYTES_PER_POINT, type TsdbState } from '../../src/sim/apm/tsdb.ts';
import type { ApmRpc, PointWrite } from '../../src/sim/apm/types.ts';
import { accumulate, aggregateAll, exactPercentile, newAccumulator, type AggregateFn } from '../../src/sim/apm/window.ts';
import { KERNEL_CHECKERS } from '../../src/sim/check/kernel.ts';
import type { TraceEvent } from '../../src/sim/kernel/trace.ts';
import type { Fault, LinkSpec, NodeBehavior, NodeId } from '../../src/sim/kernel/types.ts';
import { World, type HostSpec, type WorldSpec } from '../../src/sim/kernel/world.ts';
import { LINK } from './harness.ts';

// ---- a writer node and world builders ----------------------------------------------------------------------------

interface WriterConfig {
  tsdb?: NodeId;
  writes?: { atUs: number; point: PointWrite }[];
  reads?: { atUs: number; query: string; from: number }[];
}
interface WriterMemory {
  config: WriterConfig;
  replies: { at: number; body: ApmRpc }[];
}

/** Sends each write and read at its time (timer `w<i>` / `r<i>`, rid = i) and records every answer. */
const writer: NodeBehavior<WriterMemory, WriterConfig> = {
  kind: 'writer',
  boot(config, _disk, ctx) {
    (config.writes ?? []).forEach((w, i) => ctx.setTimer(`w${i}`, w.atUs));
    (config.reads ?? []).forEach((r, i) => ctx.setTimer(`r${i}`, r.atUs));
    return { config, replies: [] };
  },
  step(m, input, ctx) {
    const to = m.config.tsdb ?? 'tsdb';
    if (input.type === 'message') return void m.replies.push({ at: ctx.now, body: input.msg.body as ApmRpc });
    const i = Number(input.name.slice(1));
    if (input.name[0] === 'w') ctx.send(to, 'write-point', Object.freeze({ kind: 'write-point', point: m.config.writes![i].point }) satisfies ApmRpc, 256);
    else ctx.send(to, 'read', Object.freeze({ kind: 'read', rid: i, query: m.config.reads![i].query, from: m.config.reads![i].from }) satisfies ApmRpc, 32);
  },
};

type NodeEntry = { id: NodeId; kind: 'writer' | 'apm-tsdb' | 'apm-dashboard'; config: unknown };

function spec(opts: { nodes: NodeEntry[]; faults?: { at: number; fault: Fault }[]; hosts?: Record<string, HostSpec>; link?: Partial<LinkSpec>; durationUs?: number; seed?: string }): WorldSpec {
  return {
    scenario: 'apm-store',
    seed: opts.seed ?? 'apm-store',
    nodes: opts.nodes.map((n) => ({ id: n.id, kind: n.kind, config: n.config })),
    link: { ...LINK, ...opts.link },
    links: [],
    faults: (opts.faults ?? []).map((f) => ({ ...f, source: 'scenario' as const })),
    bugs: [],
    durationUs: opts.durationUs ?? 2_000_000,
    pauseMode: 'queue',
    ...(opts.hosts ? { hosts: opts.hosts } : {}),
  };
}

function build(s: WorldSpec, onEvent?: (e: TraceEvent) => void): World {
  return new World(s, { behaviors: { writer, 'apm-tsdb': apmTsdb, 'apm-dashboard': apmDashboard }, checkers: [...KERNEL_CHECKERS], keepEvents: true, ...(onEvent ? { onEvent } : {}) });
}

function runToEnd(w: World): World {
  while (w.step());
  expect(w.state.violations).toEqual([]);
  return w;
}

const tsdbOf = (w: World) => w.node('tsdb').memory as TsdbState;
const writerOf = (w: World, id = 'writer') => w.node(id).memory as WriterMemory;
const dashOf = (w: World) => w.node('dash').memory as DashboardState;

const FNS: AggregateFn[] = [{ fn: 'min' }, { fn: 'max' }, { fn: 'avg' }, { fn: 'percentile', p: 50 }, { fn: 'percentile', p: 99 }];
const S = 1_000_000;

/** A window's partial as an aggregator builds it: accumulate the samples, aggregate, ship the sketch. */
function point(query: string, partition: string, start: number, samples: readonly number[], extra: { by?: string; windowUs?: number; fns?: AggregateFn[] } = {}): PointWrite {
  const acc = newAccumulator();
  for (const v of samples) accumulate(acc, v);
  return {
    query, start, partition, end: start + (extra.windowUs ?? S), count: acc.count, late: 0,
    values: aggregateAll(acc, extra.fns ?? FNS), sum: acc.sum, min: acc.min, max: acc.max, sketch: acc.sketch, by: extra.by ?? 'agg-1', generation: 0,
  };
}

function stored(body: ApmRpc): Extract<ApmRpc, { kind: 'point-stored' }> {
  if (body.kind !== 'point-stored') throw new Error(`expected point-stored, got ${body.kind}`);
  return body;
}

function readReply(body: ApmRpc): Extract<ApmRpc, { kind: 'read-reply' }> {
  if (body.kind !== 'read-reply') throw new Error(`expected read-reply, got ${body.kind}`);
  return body;
}

function storedQuery(id: string, text: string): StoredQuery {
  const parsed = parseQuery(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return { id, name: id, text, query: parsed.query };
}

// ---- the store -----------------------------------------------------------------------------------------------------

describe('apm-tsdb', () => {
  it('answers point-stored only after the synced append: the answer waits for the host disk', () => {
    const p = point('q1', 'cpu-0', 0, [40, 41, 42]);
    const diskBytesPerS = 100_000;
    const onDiskAtAnswer: number[] = [];
    let w: World | null = null;
    w = build(spec({ nodes: [{ id: 'writer', kind: 'writer', config: { writes: [{ atUs: 10_000, point: p }] } }, { id: 'tsdb', kind: 'apm-tsdb', config: {} }], hosts: { tsdb: { diskBytesPerS, nicBytesPerS: 0 } } }), (e) => {
      if (e.kind === 'msg.send' && e.msg === 'point-stored') onDiskAtAnswer.push(((w!.node('tsdb').disk.data.points as unknown[] | undefined) ?? []).length);
    });
    runToEnd(w);
    const send = w.trace.events.find((e): e is Extract<TraceEvent, { kind: 'msg.send' }> => e.kind === 'msg.send' && e.msg === 'point-stored')!;
    // arrives at 11 ms, served for writeUs = 50 µs, then the append of pointBytes(p) bytes, then 1 ms on the link
    expect(send.t).toBe(10_000 + 1_000 + 50);
    const diskUs = Math.ceil((pointBytes(p) * 1_000_000) / diskBytesPerS);
    expect(diskUs).toBeGreaterThan(1_000);
    expect(send.deliverAt).toBe(send.t + diskUs + 1_000);
    expect(onDiskAtAnswer).toEqual([1]);
    const reply = stored(writerOf(w).replies[0].body);
    expect(reply).toMatchObject({ ok: true, duplicate: false, conflict: false, key: { query: 'q1', start: 0, partition: 'cpu-0' } });
    expect(tsdbOf(w).counts).toMatchObject({ writes: 1, stored: 1, duplicates: 0, conflicts: 0 });
  });

  it('answers a repeated key as a duplicate (same values, any writer or order) or a conflict (other values)', () => {
    const first = point('q1', 'cpu-0', 0, [0.1, 0.2, 0.3], { by: 'agg-1' });
    const again = point('q1', 'cpu-0', 0, [0.3, 0.2, 0.1], { by: 'agg-2' }); // another sum order: last bits differ
    expect(again.sum).not.toBe(first.sum);
    const other = point('q1', 'cpu-0', 0, [0.1, 0.2, 0.9], { by: 'agg-2' });
    const writes = [first, again, other].map((pt, i) => ({ atUs: 10_000 * (i + 1), point: pt }));
    const w = runToEnd(build(spec({ nodes: [{ id: 'writer', kind: 'writer', config: { writes, reads: [{ atUs: 100_000, query: 'q1', from: 0 }] } }, { id: 'tsdb', kind: 'apm-tsdb', config: {} }] })));
    const replies = writerOf(w).replies.map((r) => r.body);
    expect(replies.slice(0, 3).map((b) => { const s = stored(b); return [s.ok, s.duplicate, s.conflict]; })).toEqual([[true, false, false], [true, true, false], [true, false, true]]);
    expect(tsdbOf(w).counts).toMatchObject({ writes: 3, stored: 1, duplicates: 1, conflicts: 1 });
    expect(w.metrics().counters).toMatchObject({ 'apm.tsdbDuplicates': 1, 'apm.tsdbConflicts': 1, 'apm.tsdbWrites': 3 });
    const note = w.trace.events.find((e) => e.kind === 'node.note' && e.name === 'conflict') as Extract<TraceEvent, { kind: 'node.note' }>;
    expect(note.data).toMatchObject({ key: { query: 'q1', start: 0, partition: 'cpu-0' }, stored: { by: 'agg-1', max: 0.3 }, written: { by: 'agg-2', max: 0.9 } });
    // the first write stays: an acknowledged point never changes, and the disk holds it once
    expect(readReply(replies[3]).points.map((p) => [p.by, p.max])).toEqual([['agg-1', 0.3]]);
    expect((w.node('tsdb').disk.data.points as unknown[]).length).toBe(1);
  });

  it('keeps every stored point across a crash that loses unsynced writes, and still spots duplicates after it', () => {
    const points = [0, 1, 2, 3, 4].map((k) => point('q1', 'cpu-0', k * S, [40 + k]));
    const writes = [...points.map((pt, i) => ({ atUs: 10_000 + i * 1_000, point: pt })), { atUs: 250_000, point: points[2] }, { atUs: 260_000, point: point('q1', 'cpu-0', 5 * S, [45]) }];
    const w = runToEnd(build(spec({
      nodes: [{ id: 'writer', kind: 'writer', config: { writes, reads: [{ atUs: 300_000, query: 'q1', from: 0 }] } }, { id: 'tsdb', kind: 'apm-tsdb', config: {} }],
      faults: [{ at: 100_000, fault: { kind: 'crash', node: 'tsdb', loseUnsynced: true } }, { at: 200_000, fault: { kind: 'restart', node: 'tsdb' } }],
    })));
    const crash = w.trace.events.find((e) => e.kind === 'node.crash') as Extract<TraceEvent, { kind: 'node.crash' }>;
    expect(crash.lostWrites).toBe(0); // every append was synced before its answer
    expect(w.trace.events.some((e) => e.kind === 'node.note' && e.node === 'tsdb' && e.name === 'recovered')).toBe(true);
    const s = tsdbOf(w);
    expect(s.counts.recovered).toBe(5);
    const replies = writerOf(w).replies.map((r) => r.body);
    expect(stored(replies[5])).toMatchObject({ ok: true, duplicate: true });
    expect(stored(replies[6])).toMatchObject({ ok: true, duplicate: false, conflict: false });
    expect(readReply(replies[7]).points.map((p) => p.start)).toEqual([0, 1, 2, 3, 4, 5].map((k) => k * S));
    expect(s.points).toBe(6);
  });

  it('reads a query from `from` on over every partition, in (start, partition) order, bounded at window boundaries', () => {
    const writes: { atUs: number; point: PointWrite }[] = [];
    for (let k = 0; k < 5; k++) for (const part of ['b', 'a']) writes.push({ atUs: 10_000 + writes.length * 100, point: point('q1', part, k * S, [k]) });
    writes.push({ atUs: 20_000, point: point('q2', 'a', 3 * S, [9]) }); // another query: never in q1's answer
    const reads = [{ atUs: 100_000, query: 'q1', from: 2 * S }, { atUs: 110_000, query: 'q1', from: 2 * S + 1 }, { atUs: 120_000, query: 'nope', from: 0 }];
    const w = runToEnd(build(spec({ nodes: [{ id: 'writer', kind: 'writer', config: { writes, reads } }, { id: 'tsdb', kind: 'apm-tsdb', config: {} }] })));
    const answers = writerOf(w).replies.map((r) => r.body).filter((b) => b.kind === 'read-reply').map(readReply);
    expect(answers.map((a) => a.rid)).toEqual([0, 1, 2]);
    expect(answers[0].points.map((p) => [p.start / S, p.partition])).toEqual([[2, 'a'], [2, 'b'], [3, 'a'], [3, 'b'], [4, 'a'], [4, 'b']]);
    expect(answers[1].points.map((p) => p.start / S)).toEqual([3, 3, 4, 4]);
    expect(answers[2].points).toEqual([]);
    expect(answers.every((a) => a.more === false)).toBe(true);
  });

  it('cuts a long read at a window boundary and says there is more', () => {
    const writes: { atUs: number; point: PointWrite }[] = [];
    for (let k = 0; k < 200; k++) for (const part of ['p0', 'p1', 'p2']) writes.push({ atUs: 10_000, point: point('q1', part, k * S, [k]) });
    const w = runToEnd(build(spec({ nodes: [{ id: 'writer', kind: 'writer', config: { writes, reads: [{ atUs: 500_000, query: 'q1', from: 0 }] } }, { id: 'tsdb', kind: 'apm-tsdb', config: {} }] })));
    const answer = readReply(writerOf(w).replies.at(-1)!.body);
    expect(READ_POINTS_MAX).toBe(500);
    expect(answer.points.length).toBe(498); // 166 whole windows of 3 partials; window 166 would not fit whole
    expect(answer.points.at(-1)!.start).toBe(165 * S);
    expect(answer.more).toBe(true);
  });

  it('serves requests one at a time: a burst of writes is answered writeUs apart', () => {
    const writes = [0, 1, 2, 3].map((k) => ({ atUs: 10_000, point: point('q1', 'p0', k * S, [k]) }));
    const w = runToEnd(build(spec({ nodes: [{ id: 'writer', kind: 'writer', config: { writes } }, { id: 'tsdb', kind: 'apm-tsdb', config: { writeUs: 200 } }] })));
    expect(writerOf(w).replies.map((r) => r.at - 12_000)).toEqual([200, 400, 600, 800]);
    expect(w.metrics().samples['apm.tsdbWaitMs']).toEqual([0, 0.2, 0.4, 0.6]);
  });

  it('refuses writes beyond pointsMax (ok: false) and notes it', () => {
    const writes = [0, 1, 2].map((k) => ({ atUs: 10_000 + k, point: point('q1', 'p0', k * S, [k]) }));
    const w = runToEnd(build(spec({ nodes: [{ id: 'writer', kind: 'writer', config: { writes } }, { id: 'tsdb', kind: 'apm-tsdb', config: { pointsMax: 2 } }] })));
    expect(writerOf(w).replies.map((r) => stored(r.body).ok)).toEqual([true, true, false]);
    expect(tsdbOf(w)).toMatchObject({ points: 2, counts: { refused: 1 } });
    expect(w.trace.events.some((e) => e.kind === 'node.note' && e.name === 'full')).toBe(true);
  });

  it('compresses a regular 1 s series of slowly varying values far below 16 B/point, as an independent encoding says', () => {
    // Two series of 600 windows (5 closed blocks of 120) of five servers' CPU-like readings drifting slowly: whole
    // percents in q-int, one decimal plus a little noise in q-dec.
    const windows = 600;
    const writes: { atUs: number; point: PointWrite }[] = [];
    const columns: Record<string, number[][]> = { 'q-int': FNS.map(() => []), 'q-dec': FNS.map(() => []) };
    for (let k = 0; k < windows; k++) {
      const base = 40 + 5 * Math.sin(k / 60);
      const whole = [0, 1, 2, 3, 4].map((srv) => Math.round(base) + srv);
      const tenths = [0, 1, 2, 3, 4].map((srv) => Math.round((base + srv * 0.5 + ((k * 7 + srv * 3) % 5) * 0.1) * 10) / 10);
      for (const [query, samples] of [['q-int', whole], ['q-dec', tenths]] as const) {
        const p = point(query, 'cpu-0', k * S, samples);
        p.values.forEach((v, i) => columns[query][i].push(v.value!));
        writes.push({ atUs: 10_000 + writes.length * 100, point: p });
      }
    }
    const w = runToEnd(build(spec({ nodes: [{ id: 'writer', kind: 'writer', config: { writes } }, { id: 'tsdb', kind: 'apm-tsdb', config: {} }] })));
    type View = { bytes: { rawPerPoint: number; compressedPerPoint: number; values: number; compressed: number }; bySeries: { query: string; bytesPerPoint: number; blocks: number }[] };
    const view = apmTsdb.view!(tsdbOf(w), w.t) as View;
    expect(view.bytes.rawPerPoint).toBe(RAW_BYTES_PER_POINT);
    expect(view.bytes.values).toBe(2 * windows * FNS.length);
    // Differential: encode each column block by block, independently of the store, and compare the bit totals.
    let bits = 0;
    for (const cols of Object.values(columns)) {
      for (const col of cols) {
        for (let b = 0; b < windows; b += BLOCK_POINTS) bits += encodeSeries(col.slice(b, b + BLOCK_POINTS).map((v, i) => ({ t: (b + i) * S, v }))).bits;
      }
    }
    expect(view.bytes.compressed).toBe(Math.ceil(bits / 8));
    const perSeries = Object.fromEntries(view.bySeries.map((r) => [r.query, r]));
    expect(perSeries['q-int'].blocks).toBe(windows / BLOCK_POINTS);
    // Measured: 0.51 B/point for whole numbers (mostly repeats: a 1-bit timestamp and a 1-bit value), 6.38 B/point
    // for tenths, whose binary expansions differ in many low bits (the codec's note: decimals compress worst); 3.44
    // over both. Raw: 16.
    expect(perSeries['q-int'].bytesPerPoint).toBeGreaterThan(0.25); // a regular timestamp alone costs 1 bit
    expect(perSeries['q-int'].bytesPerPoint).toBeLessThan(0.75);
    expect(perSeries['q-dec'].bytesPerPoint).toBeGreaterThan(5);
    expect(perSeries['q-dec'].bytesPerPoint).toBeLessThan(RAW_BYTES_PER_POINT / 2);
    const perBlock = w.metrics().samples['apm.tsdbBytesPerPoint'];
    expect(perBlock.length).toBe((2 * windows) / BLOCK_POINTS); // one sample per closed block
    for (const x of perBlock) expect(x).toBeLessThan(RAW_BYTES_PER_POINT / 2);
  });
});

// ---- the dashboard -------------------------------------------------------------------------------------------------

describe('apm-dashboard', () => {
  const LATENCY = storedQuery('lat', 'FROM * SELECT rpc.latency WINDOW 1s COMPUTE min, max, avg, p50, p99');

  it('merges two partitions\' partials into the true min/max/avg and a sketch percentile within α; averaging partials is far off', () => {
    // Partition A: 900 fast requests (10–19.9 ms). Partition B: 100 requests, 20 of them a heavy tail (500–975 ms).
    const a = Array.from({ length: 900 }, (_, i) => 10 + (i % 100) / 10);
    const b = Array.from({ length: 100 }, (_, i) => (i < 80 ? 10 + (i % 80) / 10 : 500 + (i - 80) * 25));
    const writes = [{ atUs: 10_000, point: point('lat', 'rpc.latency-0', 0, a) }, { atUs: 10_000, point: point('lat', 'rpc.latency-1', 0, b, { by: 'agg-2' }) }];
    const w = runToEnd(build(spec({
      nodes: [{ id: 'writer', kind: 'writer', config: { writes } }, { id: 'tsdb', kind: 'apm-tsdb', config: {} }, { id: 'dash', kind: 'apm-dashboard', config: { queries: [LATENCY] } }],
      durationUs: 1_500_000,
    })));
    const q = dashOf(w).queries[0];
    expect(q.series.length).toBe(1);
    const dp = q.series[0];
    const all = [...a, ...b].sort((x, y) => x - y);
    expect(dp).toMatchObject({ start: 0, end: S, count: 1000, partials: 2 });
    expect(dp.values.min).toBe(all[0]);
    expect(dp.values.max).toBe(all.at(-1));
    expect(dp.values.avg).toBeCloseTo(all.reduce((x, y) => x + y, 0) / all.length, 9);
    for (const p of [50, 99]) {
      const exact = exactPercentile(all, p)!;
      expect(Math.abs(dp.values[`p${p}`]! - exact)).toBeLessThanOrEqual(0.01 * exact + 1e-9);
    }
    // The mistake: p99 of A (~19.9) and of B (~975) averaged is ~500, while the true p99 is ~750.
    const exact99 = exactPercentile(all, 99)!;
    expect(Math.abs(dp.avgOfPartials.p99! - exact99)).toBeGreaterThan(0.2 * exact99);
    expect(Math.abs(dp.avgOfPartials.avg! - dp.values.avg!)).toBeGreaterThan(0.5 * dp.values.avg!);
    expect(Object.keys(dp.avgOfPartials).sort()).toEqual(['avg', 'p50', 'p99']);
    expect(apmDashboard.headline!(dashOf(w), w.t)).toEqual({ role: 'dashboard', queries: 1, points: 1 });
  });

  it('serves final windows from its cache: after the first answer it only reads from newest − lateness − window on', () => {
    // Windows 0–9 s (two partitions) written at 10.2 s, window 10 s at 12.5 s; the dashboard refreshes every second.
    const writes: { atUs: number; point: PointWrite }[] = [];
    for (let k = 0; k < 10; k++) for (const part of ['p0', 'p1']) writes.push({ atUs: 10_200_000, point: point('lat', part, k * S, [k + 1, k + 2]) });
    for (const part of ['p0', 'p1']) writes.push({ atUs: 12_500_000, point: point('lat', part, 10 * S, [11, 12]) });
    const w = runToEnd(build(spec({
      nodes: [{ id: 'writer', kind: 'writer', config: { writes } }, { id: 'tsdb', kind: 'apm-tsdb', config: {} }, { id: 'dash', kind: 'apm-dashboard', config: { queries: [LATENCY] } }],
      durationUs: 14_500_000,
    })));
    const reads = w.trace.events.filter((e): e is Extract<TraceEvent, { kind: 'msg.send' }> => e.kind === 'msg.send' && e.msg === 'read');
    const froms = reads.map((e) => (e.body as { from: number }).from);
    expect(froms.length).toBe(14);
    for (let i = 0; i < 11; i++) expect(froms[i]).toBe((i + 1) * S - 300 * S); // nothing held yet: the history's span
    expect(froms.slice(11)).toEqual([8 * S, 8 * S, 9 * S]);
    // Once final, a window never comes back from the store.
    const replies = w.trace.events.filter((e): e is Extract<TraceEvent, { kind: 'msg.send' }> => e.kind === 'msg.send' && e.msg === 'read-reply');
    const starts = replies.map((e) => readReply(e.body as ApmRpc).points.map((p) => p.start / S));
    expect(starts.slice(10).map((s) => [...new Set(s)])).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [8, 9], [8, 9, 10], [9, 10]]);
    const d = dashOf(w);
    expect(d.counts).toMatchObject({ hits: 8 + 8 + 9, misses: 10 + 2 + 3 + 2 });
    expect(w.metrics().samples['apm.dashCacheHitRate'].slice(-4)).toEqual([0, 8 / 10, 8 / 11, 9 / 11]);
    expect(w.metrics().samples['apm.dashStalenessMs']).toEqual([2000, 3000, 3000]);
    expect(d.queries[0].series.map((p) => [p.start / S, p.count, p.values.max])).toEqual(Array.from({ length: 11 }, (_, k) => [k, 4, k + 2]));
  });

  it('keeps at most historyMax windows per query, oldest dropped first', () => {
    const writes = Array.from({ length: 12 }, (_, k) => ({ atUs: 20_000_000, point: point('lat', 'p0', k * S, [k]) }));
    const w = runToEnd(build(spec({
      nodes: [{ id: 'writer', kind: 'writer', config: { writes } }, { id: 'tsdb', kind: 'apm-tsdb', config: {} }, { id: 'dash', kind: 'apm-dashboard', config: { queries: [LATENCY], historyMax: 5 } }],
      durationUs: 21_500_000,
    })));
    // At 21 s the first read spans now − 5 windows: from 16 s, which holds nothing; the store's points are older.
    expect(dashOf(w).queries[0].series).toEqual([]);
    const w2 = runToEnd(build(spec({
      nodes: [{ id: 'writer', kind: 'writer', config: { writes: writes.map((x) => ({ ...x, atUs: 500_000 })) } }, { id: 'tsdb', kind: 'apm-tsdb', config: {} }, { id: 'dash', kind: 'apm-dashboard', config: { queries: [LATENCY], historyMax: 5 } }],
      durationUs: 1_500_000,
    })));
    expect(dashOf(w2).queries[0].series.map((p) => p.start / S)).toEqual([7, 8, 9, 10, 11]);
  });
});

// ---- determinism and plain memory -----------------------------------------------------------------------------------

describe('apm store determinism', () => {
  const LATENCY = storedQuery('lat', 'FROM * SELECT rpc.latency WINDOW 1s COMPUTE min, max, avg, p99');
  const make = (seed: string) => {
    const writes: { atUs: number; point: PointWrite }[] = [];
    for (let k = 0; k < 8; k++) for (const part of ['p0', 'p1']) writes.push({ atUs: (k + 1) * 400_000 + (part === 'p1' ? 7_000 : 0), point: point('lat', part, k * S, [k, 2 * k + 1, 3]) });
    return spec({
      seed,
      nodes: [{ id: 'writer', kind: 'writer', config: { writes } }, { id: 'tsdb', kind: 'apm-tsdb', config: {} }, { id: 'dash', kind: 'apm-dashboard', config: { queries: [LATENCY], refreshMs: 500 } }],
      link: { jitterUs: 3_000, dup: 0.1 },
      faults: [{ at: 1_500_000, fault: { kind: 'crash', node: 'tsdb' } }, { at: 1_900_000, fault: { kind: 'restart', node: 'tsdb' } }],
      durationUs: 4_000_000,
    });
  };

  it('gives the same trace hash for the same seed, another for another seed', () => {
    const a = runToEnd(build(make('s1')));
    const b = runToEnd(build(make('s1')));
    const c = runToEnd(build(make('s2')));
    expect(a.trace.hashHex()).toBe(b.trace.hashHex());
    expect(a.trace.count).toBe(b.trace.count);
    expect(c.trace.hashHex()).not.toBe(a.trace.hashHex());
    // The writes of window 3 reached the store while it was down (the writer does not retry): a gap, not a guess.
    expect(dashOf(a).queries[0].series.map((p) => [p.start / S, p.partials])).toEqual([0, 1, 2, 4, 5, 6, 7].map((k) => [k, 2]));
    expect(tsdbOf(a).points).toBe(14);
    expect(dashOf(a).counts.timeouts).toBeGreaterThan(0); // reads sent to the crashed store were given up
  });

  it('keeps memory as plain data: JSON round-trips, and a checkpoint resumes to the same hash', () => {
    const whole = runToEnd(build(make('s1')));
    const first = build(make('s1'));
    first.runUntil(2_600_000);
    for (const id of ['tsdb', 'dash']) {
      const mem = first.node(id).memory;
      expect(JSON.parse(JSON.stringify(mem))).toEqual(mem);
    }
    const cp = first.checkpoint();
    const resumed = new World(make('s1'), { behaviors: { writer, 'apm-tsdb': apmTsdb, 'apm-dashboard': apmDashboard }, checkers: [...KERNEL_CHECKERS], keepEvents: true }, [], { checkpoint: cp, events: first.trace.events });
    runToEnd(resumed);
    expect(resumed.trace.hashHex()).toBe(whole.trace.hashHex());
  });
});
