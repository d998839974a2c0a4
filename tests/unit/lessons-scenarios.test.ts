/**
 * The lessons as comparisons: each lesson is several scenarios over the same seed-driven workload, and the point is
 * the ordering of their numbers — which the per-scenario expectations can only bound one at a time. These tests run
 * the scenarios side by side through the Lab and assert the orderings the lecture notes argue. They also drive the
 * lessons' checkers with hand-made events (each must fire on the case it exists for and stay silent otherwise) and
 * flip the CP reader into follower reads to watch the linearizable-reads checker catch it.
 */
import { describe, expect, it } from 'vitest';
import { Lab } from '../../src/sim/lab.ts';
import type { TraceEvent } from '../../src/sim/kernel/trace.ts';
import type { SampleSummary } from '../../src/sim/kernel/metrics.ts';
import { ledger, linearizableReads, windowTotals } from '../../src/sim/lessons/checkers.ts';
import type { CheckView } from '../../src/sim/kernel/checker.ts';

function run(id: string, seed = '5', settings?: unknown) {
  const lab = new Lab();
  lab.load(id, { seed, ...(settings ? { settings } : {}) });
  const s = lab.runToEnd();
  const m = s.metrics;
  const num = (k: string) => m[k] as number;
  const sum = (k: string) => m[k] as SampleSummary;
  return { s, m, num, sum };
}

describe('online vs batch vs stream: the same orders, three freshness and cost profiles', () => {
  const online = run('lesson-online');
  const batch = run('lesson-batch');
  const stream = run('lesson-stream');

  it('all three see the same workload and give the same, true totals', () => {
    expect(online.num('generated')).toBeGreaterThan(25_000);
    expect(batch.num('generated')).toBe(online.num('generated'));
    expect(stream.num('generated')).toBe(online.num('generated'));
    for (const r of [online, batch, stream]) {
      expect(r.s.violations).toEqual([]);
      expect(r.num('windowsWrong')).toBe(0);
      expect(r.num('windowChecks')).toBeGreaterThan(10);
    }
  });

  it('freshness: online (ms) < stream (a poll interval) < batch (seconds, up to a period)', () => {
    expect(online.sum('resultStalenessMs').p50 * 10).toBeLessThan(stream.sum('resultStalenessMs').p50);
    expect(stream.sum('resultStalenessMs').p50 * 10).toBeLessThan(batch.sum('resultStalenessMs').p50);
    expect(stream.sum('resultStalenessMs').max).toBeLessThan(batch.sum('resultStalenessMs').min);
  });

  it('work: online re-reads the range on every refresh; batch and stream read each order once', () => {
    expect(online.num('rowsRead')).toBeGreaterThan(10 * online.num('generated'));
    expect(stream.num('rowsRead')).toBeLessThanOrEqual(stream.num('generated'));
    expect(stream.num('rowsRead')).toBeGreaterThan(0.99 * stream.num('generated'));
    expect(batch.num('rowsRead')).toBeLessThanOrEqual(batch.num('generated'));
    expect(online.num('computeMs')).toBeGreaterThan(stream.num('computeMs'));
    expect(stream.num('computeMs')).toBeGreaterThan(batch.num('computeMs'));
  });

  it('the person at the dashboard waits for the online scan; precomputed results come back at once', () => {
    expect(online.sum('dashboardLatencyMs').p50).toBeGreaterThan(5 * batch.sum('dashboardLatencyMs').p50);
    expect(online.sum('dashboardLatencyMs').p50).toBeGreaterThan(5 * stream.sum('dashboardLatencyMs').p50);
  });

  it('throughput while busy: a batch job amortises its start-up over a big batch, a stream pays per poll', () => {
    expect(batch.sum('recordsPerBusyS').p50).toBeGreaterThan(1.5 * stream.sum('recordsPerBusyS').p50);
  });
});

describe('stream processing before 2010: smart broker vs partitioned log', () => {
  const broker = run('lesson-smart-broker');
  const log = run('lesson-partitioned-log');

  it('the same orders and the same slow worker: the broker loses orders, the log loses none', () => {
    expect(log.num('ledgerGenerated')).toBe(broker.num('ledgerGenerated'));
    expect(broker.num('missed:worker')).toBe(broker.num('brokerDropped'));
    expect(broker.num('missed:worker')).toBeGreaterThan(1_000);
    expect(log.num('missed:worker')).toBe(0);
    expect(log.num('duplicates:worker')).toBe(0);
  });

  it('the broker keeps its memory small; the log holds a backlog several times larger and drains it', () => {
    expect(broker.sum('backlogRecords:worker').max).toBeLessThanOrEqual(1_000 + 50);
    expect(log.sum('backlogRecords:worker').max).toBeGreaterThan(2 * broker.sum('backlogRecords:worker').max);
    expect(log.sum('lagMs:worker').max).toBeGreaterThan(broker.sum('lagMs:worker').max);
  });

  it('a consumer that starts late replays the log, but gets only new messages from the broker', () => {
    expect(log.num('missed:audit')).toBe(0);
    expect(broker.num('missed:audit')).toBeGreaterThan(0.4 * broker.num('ledgerGenerated'));
  });

  it('with reject-publish the broker pushes back on the source instead: the source is blocked, then drops', () => {
    const pushback = run('lesson-smart-broker', '5', { config: { 'lesson-broker': { overflow: 'reject-publish' }, 'lesson-source': { bufferMax: 1_000 } } });
    expect(pushback.s.violations).toEqual([]);
    expect(pushback.num('brokerDropped')).toBe(0);
    expect(pushback.num('sourceDropped')).toBeGreaterThan(500);
    expect(pushback.num('missed:worker')).toBe(pushback.num('sourceDropped'));
  });
});

describe('AP vs CP reads under a partition', () => {
  const ap = run('lesson-ap-reads');
  const cp = run('lesson-cp-reads');

  it('AP: every read answered, many stale; CP: none stale, the minority side unavailable', () => {
    expect(ap.num('readsUnavailable')).toBe(0);
    expect(ap.num('staleReads')).toBeGreaterThan(50);
    expect(cp.num('staleReads')).toBe(0);
    expect(cp.num('readsUnavailable')).toBeGreaterThan(50);
    expect(cp.num('readsChecked')).toBe(cp.num('readsServed'));
    expect(ap.s.violations).toEqual([]);
    expect(cp.s.violations).toEqual([]);
  });

  it('consistency costs latency: a leader read waits for a majority round; a local follower read does not', () => {
    expect(cp.sum('readLatencyMs').p50).toBeGreaterThan(20 * ap.sum('readLatencyMs').p50);
  });

  it('the linearizable-reads checker fires once the CP readers read from followers (linearizable still required)', () => {
    const flipped = run('lesson-cp-reads', '5', { config: { 'lesson-reader': { readFrom: 'follower' } } });
    const v = flipped.s.violations.filter((x) => x.checker === 'lesson.linearizable-reads');
    expect(v.length).toBeGreaterThan(0);
    expect(v[0].message).toMatch(/was committed before the read began/);
    expect(flipped.num('readsUnavailable')).toBe(0);
  });

  it('and stays silent when AP readers are switched to the leader and declare the need', () => {
    const strict = run('lesson-ap-reads', '5', { config: { 'lesson-reader': { readFrom: 'leader', linearizable: true } } });
    expect(strict.s.violations).toEqual([]);
    expect(strict.num('staleReads')).toBe(0);
    expect(strict.num('readsUnavailable')).toBeGreaterThan(0);
  });
});

// ---- the checkers on hand-made events -----------------------------------------------------------------------------

const VIEW: CheckView = { t: 0, status: () => 'up', memory: () => null, nodeIds: () => [] };
let seq = 0;

function ev(t: number, body: Record<string, unknown>): TraceEvent {
  return { ...body, t, seq: seq++ } as unknown as TraceEvent;
}

function feed<S>(checker: { init(): S; onEvent(s: S, e: TraceEvent, v: CheckView): { message: string } | null }, events: TraceEvent[]): { state: S; findings: string[] } {
  const state = checker.init();
  const findings: string[] = [];
  for (const e of events) {
    const f = checker.onEvent(state, e, VIEW);
    if (f) findings.push(f.message);
  }
  return { state, findings };
}

const wal = (t: number, node: string, commit: number) => ev(t, { kind: 'node.state', node, key: 'wal', value: { last: commit, commit, applied: commit } });
const note = (t: number, node: string, name: string, data: unknown) => ev(t, { kind: 'node.note', node, name, data });

describe('lesson.linearizable-reads', () => {
  it('fires on a read older than a commit announced before it began, by a reader that requires linearizability', () => {
    const { state, findings } = feed(linearizableReads, [
      wal(1_000, 'r1', 5),
      note(2_000, 'far', 'read-invoke', { id: 'far-1.1', linearizable: true }),
      wal(2_500, 'r1', 6),
      note(3_000, 'far', 'read-ok', { id: 'far-1.1', appliedIndex: 4, from: 'r5' }),
    ]);
    expect(findings).toEqual(['far read far-1.1 from r5 at applied index 4, but index 5 was committed before the read began (2 ms stale)']);
    expect(linearizableReads.metrics!(state)).toEqual({ readsChecked: 1, staleReads: 1, staleReadLagEntries: [1], staleReadAgeMs: [2] });
  });

  it('a commit after the read began does not make it stale; an eventual reader’s stale read is counted, not flagged', () => {
    const { state, findings } = feed(linearizableReads, [
      wal(1_000, 'r1', 5),
      note(2_000, 'near', 'read-invoke', { id: 'a', linearizable: true }),
      wal(2_100, 'r1', 9),
      note(3_000, 'near', 'read-ok', { id: 'a', appliedIndex: 5, from: 'r1' }),
      note(3_000, 'far', 'read-invoke', { id: 'b', linearizable: false }),
      note(3_100, 'far', 'read-ok', { id: 'b', appliedIndex: 2, from: 'r5' }),
      note(3_200, 'far', 'read-invoke', { id: 'c', linearizable: true }),
      note(4_300, 'far', 'read-unavailable', { id: 'c' }),
      note(4_400, 'far', 'read-ok', { id: 'c', appliedIndex: 0, from: 'r5' }), // given up on: not the reader's answer
    ]);
    expect(findings).toEqual([]);
    expect(state.checked).toBe(2);
    expect(state.stale).toBe(1);
    expect(state.invokedCount).toBe(0);
  });
});

describe('lesson.window-totals', () => {
  const events = (records: { id: number; t: number; value: number }[]) => ev(0, { kind: 'msg.send', msg: 'events', body: { kind: 'events', batch: 1, records } });
  const results = (windows: unknown[]) => ev(0, { kind: 'msg.send', msg: 'results', body: { kind: 'results', asOfUs: 30_000_000, windowUs: 10_000_000, windows, computed: 'on-read' } });

  it('compares final windows with the orders sent (each id once), skips windows the truth has not covered yet', () => {
    const { state } = feed(windowTotals, [
      events([{ id: 1, t: 1_000_000, value: 5 }, { id: 2, t: 9_000_000, value: 7 }, { id: 3, t: 12_000_000, value: 1 }]),
      events([{ id: 2, t: 9_000_000, value: 7 }]), // a resend
      results([
        { startUs: 0, count: 2, sum: 12, final: true },
        { startUs: 10_000_000, count: 1, sum: 1, final: true }, // ends after the newest order sent: unchecked
        { startUs: 20_000_000, count: 0, sum: 0, final: false },
      ]),
      results([{ startUs: 0, count: 3, sum: 19, final: true }]), // counted the resend twice: wrong
    ]);
    expect(windowTotals.metrics!(state)).toEqual({ windowChecks: 2, windowsWrong: 1, windowsUnchecked: 1 });
  });
});

describe('lesson.ledger', () => {
  it('counts per consumer what it processed once, twice and never, against what the source generated', () => {
    const { state } = feed(ledger, [
      note(0, 'src', 'produced', { from: 1, to: 40 }),
      note(0, 'w', 'processed', { ids: [1, 2, 3, 33, 34] }),
      note(0, 'w', 'processed', { ids: [3] }),
      note(0, 'a', 'processed', [] as unknown),
    ]);
    expect(ledger.metrics!(state)).toEqual({ ledgerGenerated: 40, ledgerOtherSources: 0, 'missed:w': 35, 'duplicates:w': 1, 'missed:a': 40, 'duplicates:a': 0 });
  });
});

