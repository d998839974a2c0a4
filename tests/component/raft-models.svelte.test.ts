/**
 * The Raft view-models under `$effect.root` + `flushSync` (STYLE.md 24): geometry as rounded numbers (positions are
 * rounded to 0.1 px by the models, so they are compared exactly), recomputed when the snapshot moves; and the Raft
 * trace's incremental fetching — the same data whether read in one go or in pages, cut back on a seek back, cut at
 * the fork on an injected fault, and started over for another run.
 */
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import { Lab, type Snapshot } from '../../src/sim/lab.ts';
import { ElectionsModel, spansOf } from '../../src/views/elections.svelte.ts';
import { raftLabAt, raftSnapshotAt, raftTraceAt, traceOf } from '../../src/views/fixtures.ts';
import { localPort } from '../../src/views/port.ts';
import { RaftTrace } from '../../src/views/raft-trace.svelte.ts';
import { CELL_W, ReplicaLogsModel, explainEntry } from '../../src/views/replica-logs.svelte.ts';
import { SpaceTimeModel } from '../../src/views/space-time.svelte.ts';

function withSnapshot<M>(initial: Snapshot, make: (get: () => Snapshot) => M, body: (model: M, set: (s: Snapshot) => void) => void): void {
  const cleanup = $effect.root(() => {
    let snap = $state.raw<Snapshot>(initial);
    const model = make(() => snap);
    flushSync();
    body(model, (s) => {
      snap = s;
      flushSync();
    });
  });
  cleanup();
}

/** A comparable digest of everything the trace holds. */
function digest(t: RaftTrace) {
  return JSON.stringify({
    count: t.count,
    states: [...t.states.entries()],
    votes: t.votes,
    receipts: t.receipts,
    preVotes: t.preVotes,
    messages: t.messages,
    heartbeats: [...t.heartbeats.entries()],
    resets: [...t.resets.entries()],
  });
}

describe('ElectionsModel', () => {
  it('maps the whole run onto the lanes, padded 14 px, and moves the cursor and the open bands with t', () => {
    const lab = raftLabAt('leaderCrashed');
    const trace = traceOf(lab);
    withSnapshot(lab.snapshot(), (get) => new ElectionsModel(get, trace), (m, set) => {
      expect(m.width).toBe(900);
      expect(m.domain).toEqual([0, 6_000_000]);
      // 872 px for 6 s: x(t) = 14 + t × 872 / 6e6.
      expect(m.x(0)).toBe(14);
      expect(m.x(2_000_000)).toBe(304.7);
      expect(m.cursorX).toBe(329.1);
      // The crash of r5 is a fault window: one 14 px row of fault labels between the axis and the lanes.
      expect(m.faultMarks.map((f) => [f.kind, f.x, f.w, f.label, f.row])).toEqual([['crash', 304.7, 24.4, 'crash r5', 0]]);
      expect(m.faultH).toBe(14);
      expect(m.lanes.map((l) => [l.id, l.y, l.mid])).toEqual([
        ['r1', 38, 56],
        ['r2', 78, 96],
        ['r3', 118, 136],
        ['r4', 158, 176],
        ['r5', 198, 216],
      ]);
      const down = m.bands.find((b) => b.node === 'r5' && b.state === 'down')!;
      expect([down.x, down.w, down.y, down.h]).toEqual([304.7, 24.4, 206, 20]);
      const lead5 = m.bands.find((b) => b.node === 'r5' && b.state === 'leader')!;
      expect(lead5.x + lead5.w).toBeCloseTo(304.7, 0);
      expect(lead5.label).toBe('leader T1');

      // The run moves on: the cursor follows; the down band grows with it (from the trace as it then is).
      const later = lab.seek(2_500_000);
      trace.ingestAll(lab.events(trace.count, 10_000));
      set(later);
      expect(m.cursorX).toBe(377.3);
      const grown = m.bands.find((b) => b.node === 'r5' && b.state === 'down')!;
      expect(grown.w).toBe(72.6);
      expect(m.bands.find((b) => b.node === 'r1' && b.state === 'leader')!.label).toBe('T2');
    });
  });

  it('a window follows the cursor at 75% and clamps at the start of the run', () => {
    withSnapshot(raftSnapshotAt('leaderCrashed'), (get) => new ElectionsModel(get, raftTraceAt('leaderCrashed')), (m) => {
      m.zoom = '100ms';
      flushSync();
      expect(m.domain).toEqual([2_093_000, 2_193_000]);
      expect(m.cursorX).toBe(668);
      expect(m.timeAt(668)).toBe(2_168_000);
      m.zoom = '2s';
      flushSync();
      expect(m.domain).toEqual([668_000, 2_668_000]);
    });
    withSnapshot(raftSnapshotAt('coldStart'), (get) => new ElectionsModel(get, raftTraceAt('coldStart')), (m) => {
      m.zoom = '500ms';
      flushSync();
      expect(m.domain).toEqual([0, 500_000]);
    });
  });

  it('spans merge equal neighbours and drop zero-length steps (a campaign is a term and a role change at once)', () => {
    const rec = (t: number, role: 'follower' | 'candidate' | 'leader', term: number, up = true) => ({ seq: t, t, role, term, leader: null, up });
    const spans = spansOf('r1', [rec(0, 'follower', 0), rec(10, 'follower', 1), rec(10, 'candidate', 1), rec(15, 'leader', 1), rec(40, 'leader', 1, false)], 50);
    expect(spans.map((s) => [s.state, s.term, s.from, s.to, s.open])).toEqual([
      ['follower', 0, 0, 10, false],
      ['candidate', 1, 10, 15, false],
      ['leader', 1, 15, 40, false],
      ['down', 1, 40, 50, true],
    ]);
  });
});

describe('SpaceTimeModel', () => {
  it('puts each replica on a line 46 px apart and each arrow from (sender, sentAt) to (receiver, delivery)', () => {
    withSnapshot(raftSnapshotAt('leaderCrashed'), (get) => new SpaceTimeModel(get, raftTraceAt('leaderCrashed')), (m) => {
      expect(m.domain).toEqual([2_152_000, 2_172_000]);
      expect([...m.laneY.entries()]).toEqual([
        ['r1', 38],
        ['r2', 84],
        ['r3', 130],
        ['r4', 176],
        ['r5', 222],
      ]);
      // 872 px for 20 ms.
      expect(m.pxPerUs).toBeCloseTo(0.0436, 6);
      expect(m.cursorX).toBe(711.6);
      // Arrows are laid out from an origin on a 200 ms grid, in a group shifted so the window starts 14 px in.
      expect(m.origin).toBe(2_000_000);
      expect(m.shift).toBe(-6613.2);
      for (const a of m.arrows) {
        expect(a.x1).toBe(Math.round((a.msg.sentAt - 2_000_000) * 0.0436 * 10) / 10);
        expect(a.x2).toBe(Math.round(((a.msg.end ?? a.msg.due) - 2_000_000) * 0.0436 * 10) / 10);
        // On screen: within 0.1 px (two roundings) of 14 + (t − t0) × px/µs.
        expect(Math.abs(a.x1 + m.shift - (14 + (a.msg.sentAt - 2_152_000) * 0.0436))).toBeLessThanOrEqual(0.11);
        expect(a.y1).toBe(m.laneY.get(a.from));
        expect(a.y2).toBe(m.laneY.get(a.to));
      }
      const drop = m.arrows.find((a) => a.state === 'dropped')!;
      expect(drop.head).toMatch(/^M[\d.]+,217 L[\d.]+,227 M[\d.]+,217 L[\d.]+,227$/);
      expect(m.hit(drop.x2 + m.shift, drop.y2)?.seq).toBe(drop.seq);
      expect(m.hit(5, 5)).toBeNull();
      // Arrows that did not change keep their objects from one frame to the next (so their DOM is left alone).
      const before = new Map(m.arrows.map((a) => [a.seq, a]));
      m.windowId = '20ms';
      m.hidden = ['vote-reply'];
      flushSync();
      expect(m.arrows.every((a) => before.get(a.seq) === a)).toBe(true);
    });
  });
});

describe('ReplicaLogsModel', () => {
  it('lays cells 30 px apart by index, follows the tail, and explains entries', () => {
    withSnapshot(raftSnapshotAt('leaderCrashed'), (get) => new ReplicaLogsModel(get), (m, set) => {
      expect(m.maxIndex).toBe(201);
      expect(m.contentW).toBe(204 * CELL_W);
      // The tail in view: 960 px from 6120 − 960 = 5160 px (index 173), with 4 columns built beyond the edge.
      expect(m.range).toEqual({ i0: 169, i1: 201 });
      const c = m.cells.find((x) => x.node === 'r1' && x.index === 201)!;
      expect([c.x, c.y, c.fill, c.committed]).toEqual([6000, 37, '#EE8866', false]);
      expect(m.rows.map((r) => [r.id, r.y, r.last, r.commit])).toEqual([
        ['r1', 20, 201, 199],
        ['r2', 96, 200, 199],
        ['r3', 172, 200, 199],
        ['r4', 248, 200, 199],
        ['r5', 324, 200, null],
      ]);
      const bottom = m.pins.find((p) => p.node === 'r1' && p.lane === 'bottom')!;
      expect(bottom.label).toBe('append 201 · commit, applied 199');
      expect(bottom.pins.map((p) => [p.kind, p.x])).toEqual([
        ['commit', 5955],
        ['applied', 5955],
        ['append', 6015],
      ]);
      expect(m.pins.find((p) => p.node === 'r1' && p.lane === 'top')!).toMatchObject({ label: 'match r2 r3 r4 r5 → 0', offscreen: 'left' });
      expect(explainEntry([...m.sources.values()], 'r1', 200)!.verdict).toBe('term-rule');
      expect(explainEntry([...m.sources.values()], 'r2', 199)!.verdict).toBe('committed');
      expect(explainEntry([...m.sources.values()], 'r5', 200)!.verdict).toBe('unknown');

      // Scrolling back stops following; the columns in view follow the scroll position.
      m.scrolled(300);
      flushSync();
      expect(m.following).toBe(false);
      expect(m.range).toEqual({ i0: 7, i1: 46 });
      // The same index keeps its place as the run goes on.
      set(raftSnapshotAt('stalePartition'));
      expect(m.cells.find((x) => x.node === 'r1' && x.index === 20)!.x).toBe(570);
    });
  });

  it('explains an entry with no leader, and one committed on the leader but not yet on a follower', () => {
    const lab = new Lab();
    lab.load('raft-leader-crash', { seed: '1' });
    withSnapshot(lab.seek(2_100_000), (get) => new ReplicaLogsModel(get), (m, set) => {
      const e = explainEntry([...m.sources.values()], 'r2', 200)!;
      expect(e.verdict).toBe('no-leader');
      expect(e.holding).toBe(5);
      set(raftSnapshotAt('steady'));
      const f = explainEntry([...m.sources.values()], 'r2', m.rows[1].last)!;
      expect(f.verdict).toBe('committed-on-leader');
      expect(f.headline).toBe('Committed on the leader r1; r2 has not heard yet.');
    });
  });
});

describe('RaftTrace', () => {
  it('holds the same data whether fetched in pages through a port or ingested at once', async () => {
    const lab = raftLabAt('leaderCrashed');
    const paged = new RaftTrace(localPort(lab));
    await paged.sync(lab.snapshot());
    expect(paged.count).toBe(lab.snapshot().eventCount);
    expect(digest(paged)).toBe(digest(traceOf(lab)));
  });

  it('a seek back cuts to the shorter prefix; a seek forward fetches only what is new', async () => {
    const lab = new Lab();
    lab.load('raft-leader-crash', { seed: '1' });
    const calls: number[] = [];
    const base = localPort(lab);
    const port = { ...base, events: (from: number, limit: number) => (calls.push(from), base.events(from, limit)) } as typeof base;
    const trace = new RaftTrace(port);
    await trace.sync(lab.seek(2_300_000));
    const at23 = digest(trace);
    await trace.sync(lab.seek(1_000_000));
    expect(trace.count).toBe(lab.snapshot().eventCount);
    const fresh = new Lab();
    fresh.load('raft-leader-crash', { seed: '1' });
    fresh.seek(1_000_000);
    expect(digest(trace)).toBe(digest(traceOf(fresh)));
    calls.length = 0;
    await trace.sync(lab.seek(2_300_000));
    expect(calls[0]).toBe(fresh.snapshot().eventCount);
    expect(digest(trace)).toBe(at23);
  });

  it('an injected fault after a seek back forks the timeline: the trace drops the old future', async () => {
    const lab = new Lab();
    lab.load('raft-leader-crash', { seed: '1' });
    const trace = new RaftTrace(localPort(lab));
    await trace.sync(lab.seek(3_000_000));
    lab.seek(500_000);
    // The trace only sees the snapshot after the crash: fewer events and a new action, in one go.
    const forked = lab.inject({ kind: 'crash', node: 'r5' });
    await trace.sync(forked);
    const later = lab.seek(1_000_000);
    await trace.sync(later);
    expect(digest(trace)).toBe(digest(traceOf(lab)));
    expect(trace.current('r5').up).toBe(false);
    // Reset (same run, no actions): back to the scenario's own timeline.
    lab.load('raft-leader-crash', { seed: '1' });
    await trace.sync(lab.seek(1_000_000));
    expect(digest(trace)).toBe(digest(traceOf(lab)));
    expect(trace.current('r5').up).toBe(true);
  });

  it('another run starts over', async () => {
    const lab = new Lab();
    lab.load('raft-leader-crash', { seed: '1' });
    const trace = new RaftTrace(localPort(lab));
    await trace.sync(lab.seek(1_000_000));
    lab.load('raft-cold-start', { seed: '1' });
    await trace.sync(lab.seek(300_000));
    expect(digest(trace)).toBe(digest(traceOf(lab)));
    expect([...trace.states.keys()]).not.toContain('r5');
  });
});
