/**
 * The what-if fork model against real Labs on this thread (`localPort(new Lab())` per side): a fork with no change
 * gives A's trace hash (determinism); acks=leader against acks=quorum on mq-acks-quorum changes the ledger exactly in
 * `delivered` and `lost`; a leader crash on raft-cold-start adds a term-2 leader to B's timeline only, and B is what
 * injecting the same crash in the main run gives; a bad setting fails with the Lab's reason and leaves the main
 * session alone; Cancel stops both workers at once; "Make B the main run" reproduces B's hash in the main session.
 * Also the pure pieces: the actions a branch keeps, the setting form's checks, and the leader spans.
 */
import { describe, expect, it } from 'vitest';
import { Lab, type Snapshot } from '../../src/sim/lab.ts';
import {
  appliedActions,
  faultLabel,
  FORK_CHUNKS,
  ForkModel,
  leaderSpans,
  optionsB,
  settingChange,
  settingsJsonChange,
  type RoleRec,
  type Spawn,
} from '../../src/views/fork.svelte.ts';
import { localPort, type LabPort } from '../../src/views/port.ts';
import { LabSession } from '../../src/views/session.svelte.ts';

/** The main run: a Lab at `t`, its snapshot and a session over it (as the app has them). */
function mainRun(scenario: string, t: number, seed = '1') {
  const lab = new Lab();
  lab.load(scenario, { seed });
  const origin = lab.seek(t);
  let session!: LabSession;
  const done = $effect.root(() => {
    session = new LabSession(localPort(lab), { snapshot: origin });
  });
  return { lab, origin, session, done };
}

/** Spawns Labs on this thread and counts them and their terminations; `slow` makes every call wait a macrotask. */
function spawner(slow = false) {
  const stats = { spawned: 0, terminated: 0, calls: 0 };
  const spawn: Spawn = () => {
    stats.spawned++;
    const base = localPort(new Lab());
    const port = Object.fromEntries(
      Object.entries(base).map(([name, fn]) => [
        name,
        async (...args: unknown[]) => {
          stats.calls++;
          if (slow) await new Promise((r) => setTimeout(r, 0));
          return (fn as (...a: unknown[]) => Promise<unknown>)(...args);
        },
      ]),
    ) as unknown as LabPort;
    return { port, terminate: () => void stats.terminated++ };
  };
  return { spawn, stats };
}

function model(origin: Snapshot, spawn: Spawn): { m: ForkModel; done: () => void } {
  let m!: ForkModel;
  const done = $effect.root(() => {
    m = new ForkModel(origin, spawn);
  });
  return { m, done };
}

const LEDGER = ['produced', 'acked', 'delivered', 'duplicated', 'lost', 'expired', 'deadLettered', 'pending'];

describe('ForkModel', { timeout: 30_000 }, () => {
  it('a fork with no change gives B the hash of A, and the leaders are the same', async () => {
    const main = mainRun('raft-cold-start', 1_000_000);
    const { spawn, stats } = spawner();
    const { m, done } = model(main.origin, spawn);
    m.mode = 'none';
    expect(m.pending.ok).toBe(true);
    await m.run();
    expect(m.error).toBeNull();
    expect(m.status).toBe('done');
    expect(m.finalA!.t).toBe(main.origin.durationUs);
    expect(m.finalB!.traceHash).toBe(m.finalA!.traceHash);
    expect(m.sameHash).toBe(true);
    expect(m.ledger.length).toBeGreaterThan(3);
    expect(m.ledger.filter((r) => r.differs)).toEqual([]);
    expect(m.timelines).toHaveLength(1);
    expect(m.timelines[0].same).toBe(true);
    // Both workers were started and stopped once the runs were in.
    expect(stats).toMatchObject({ spawned: 2, terminated: 2 });
    // The main run was never touched.
    expect(main.lab.snapshot().t).toBe(1_000_000);
    done();
    main.done();
  });

  it('acks=leader against acks=quorum on mq-acks-quorum: the ledger differs in delivered and lost, nowhere else', async () => {
    const main = mainRun('mq-acks-quorum', 500_000, 'acks');
    const { m, done } = model(main.origin, spawner().spawn);
    m.mode = 'setting';
    m.settingKind = 'mq-producer';
    m.settingField = 'acks';
    m.settingValue = 'leader';
    expect(m.pending).toMatchObject({ ok: true, change: { kind: 'setting', settings: { config: { 'mq-producer': { acks: 'leader' } } } } });
    await m.run();
    expect(m.status).toBe('done');
    const row = (k: string) => m.ledger.find((r) => r.key === k)!;
    const differ = LEDGER.filter((k) => row(k).differs);
    expect(differ).toEqual(['delivered', 'lost']);
    expect(row('lost').a).toBe(0);
    expect(row('lost').b).toBeGreaterThan(0);
    expect(row('lost').change).toBe(`0 → ${row('lost').b} (+${row('lost').b})`);
    // What the leader acknowledged and lost is exactly what never got delivered.
    expect(row('delivered').a! - row('delivered').b!).toBe(row('lost').b);
    expect(row('acked').a).toBe(row('acked').b);
    expect(m.finalB!.settings).toEqual({ config: { 'mq-producer': { acks: 'leader' } } });
    // The charts put the differing ledger columns first and cover the same axis for both runs.
    expect(m.chosen.slice(0, 2)).toEqual(expect.arrayContaining(['delivered', 'lost']));
    const lost = m.charts.find((c) => c.key === 'lost')!;
    expect(lost.differs).toBe(true);
    expect(lost.panels[0].d).toMatch(/^M/);
    expect(lost.panels[1].ghost).toBe(lost.panels[0].d);
    done();
    main.done();
  });

  it('a leader crash at the fork: B gets a new leader in term 2, A keeps its leader, and B is what inject gives', async () => {
    const main = mainRun('raft-cold-start', 1_000_000);
    const { m, done } = model(main.origin, spawner().spawn);
    const [leader] = m.leadersAtFork;
    expect(leader).toMatch(/^r\d$/);
    m.chooseFault({ kind: 'crash', node: leader });
    expect(m.pending).toMatchObject({ ok: true, change: { kind: 'fault', label: `crashed ${leader} at 1.000s` } });
    await m.run();
    expect(m.error).toBeNull();
    const [tl] = m.timelines;
    expect(tl.same).toBe(false);
    const [a, b] = tl.rows;
    expect(a.spans.map((s) => [s.node, s.term])).toEqual([[leader, 1]]);
    expect(b.spans[0]).toMatchObject({ node: leader, term: 1 });
    expect(b.spans.slice(1).some((s) => s.term === 2 && s.node !== leader)).toBe(true);
    expect(b.crashes).toHaveLength(1);
    expect(a.crashes).toHaveLength(0);
    // The fault is pinned where the main run stood, and B equals the main run with the same crash injected.
    expect(m.finalB!.actions).toEqual([{ kind: 'crash', node: leader, at: 1_000_000, step: main.origin.steps }]);
    const same = new Lab();
    same.load('raft-cold-start', { seed: '1' });
    same.seek(1_000_000);
    same.inject({ kind: 'crash', node: leader });
    expect(same.runToEnd().traceHash).toBe(m.finalB!.traceHash);
    // A is the main run carried on to the end as it was.
    expect(m.finalA!.traceHash).toBe(main.lab.runToEnd().traceHash);
    expect(m.ledger.find((r) => r.key === 'leaderChanges')).toMatchObject({ a: 1, b: 2, differs: true });
    done();
    main.done();
  });

  it('a bad setting fails with the Lab’s reason, and the main session stays as it was', async () => {
    const main = mainRun('raft-cold-start', 1_000_000);
    const before = main.session.snapshot;
    const { m, done } = model(main.origin, spawner().spawn);
    m.mode = 'setting';
    m.settingKind = 'raft';
    m.settingField = 'electionMinMs';
    m.settingValue = '10';
    expect(m.pending.ok).toBe(true);
    await m.run();
    expect(m.status).toBe('failed');
    expect(m.error).toMatch(/^B \(the branch\) failed: settings: a node refused its config: raft: need heartbeat < electionMin/);
    expect(m.finalB).toBeNull();
    expect(main.session.snapshot).toBe(before);
    expect(main.session.error).toBeNull();
    expect(main.lab.snapshot().traceHash).toBe(before!.traceHash);
    expect(await m.promote(main.session)).toBe(false);
    expect(main.session.snapshot).toBe(before);
    done();
    main.done();
  });

  it('Cancel stops both runs at once and terminates their workers', async () => {
    const main = mainRun('mq-acks-quorum', 2_000_000, 'acks');
    const { spawn, stats } = spawner(true);
    const { m, done } = model(main.origin, spawn);
    m.mode = 'none';
    const running = m.run();
    for (let i = 0; i < 200 && m.reachedA === 0; i++) await new Promise((r) => setTimeout(r, 0));
    expect(m.status).toBe('running');
    expect(m.progress).toBeGreaterThan(0);
    expect(m.progress).toBeLessThan(1);
    m.cancel();
    expect(m.status).toBe('cancelled');
    expect(stats.terminated).toBe(2);
    await running;
    const calls = stats.calls;
    await new Promise((r) => setTimeout(r, 20));
    expect(stats.calls).toBe(calls);
    expect(m.status).toBe('cancelled');
    expect(m.ran).toBeNull();
    expect(m.charts).toEqual([]);
    done();
    main.done();
  });

  it('runs to fork + a span, sampling as it goes, and Make B the main run reproduces B in the main session', async () => {
    const main = mainRun('raft-cold-start', 1_000_000);
    const { spawn, stats } = spawner();
    const { m, done } = model(main.origin, spawn);
    m.chooseFault({ kind: 'crash', node: m.leadersAtFork[0] });
    m.spanUs = 500_000;
    expect(m.horizonUs).toBe(1_500_000);
    await m.run();
    expect(m.finalA!.t).toBe(1_500_000);
    expect(m.finalB!.t).toBe(1_500_000);
    // The axis shows as much before the fork as after it; samples cover it, one seek per chunk at least.
    expect(m.axisStartUs).toBe(500_000);
    expect(m.side('A').samples[0].t).toBe(500_000);
    expect(m.side('A').samples.length).toBeGreaterThan(30);
    expect(stats.calls).toBeGreaterThan(FORK_CHUNKS);
    const hashB = m.finalB!.traceHash;
    expect(await m.promote(main.session)).toBe(true);
    const s = main.session.snapshot!;
    expect(s.t).toBe(1_000_000);
    expect(s.actions).toEqual(m.finalB!.actions);
    await main.session.seek(1_500_000);
    expect(main.session.snapshot!.traceHash).toBe(hashB);
    done();
    main.done();
  });

  it('a teaching bug re-runs B from 0 with it on', async () => {
    const main = mainRun('raft-figure-8', 0);
    const { m, done } = model(main.origin, spawner().spawn);
    await m.loadBugs();
    expect(Object.keys(m.bugs!)).toContain('commit-old-term');
    m.mode = 'bug';
    m.bug = 'commit-old-term';
    await m.run();
    expect(m.finalB!.bugs).toContain('commit-old-term');
    expect(m.finalA!.bugs).not.toContain('commit-old-term');
    const safety = m.checkers.find((c) => c.name === 'raft.safety')!;
    expect(safety.a.violations).toBe(0);
    expect(safety.b.violations).toBeGreaterThan(0);
    expect(safety.b.first).toMatch(/^at \d/);
    done();
    main.done();
  });
});

describe('fork helpers', () => {
  it('a branch keeps the actions applied at the fork; A keeps them all', () => {
    const lab = new Lab();
    lab.load('raft-cold-start', { seed: '1' });
    lab.seek(1_000_000);
    lab.inject({ kind: 'pause', node: 'r3' });
    lab.seek(1_500_000);
    lab.inject({ kind: 'resume', node: 'r3' });
    const back = lab.seek(1_200_000);
    expect(back.actions).toHaveLength(2);
    expect(appliedActions(back).map((a) => a.kind)).toEqual(['pause']);
    expect(optionsB(back, { kind: 'none', label: '' }).actions).toEqual([back.actions[0]]);
  });

  it('the setting form names unknown fields and wrong types before B runs', () => {
    const origin = new Lab().load('mq-acks-quorum');
    expect(settingChange(origin, 'mq-producer', 'ack', 'leader')).toMatchObject({ ok: false, error: expect.stringMatching(/^mq-producer has no config field "ack" \(fields: .*acks/) });
    expect(settingChange(origin, 'mq-producer', 'ratePerS', 'fast')).toEqual({ ok: false, error: 'mq-producer.ratePerS is a number (now 400); "fast" is a string' });
    expect(settingChange(origin, 'mq-nope', 'acks', 'leader')).toMatchObject({ ok: false, error: expect.stringMatching(/^pick a node kind/) });
    expect(settingChange(origin, 'mq-producer', 'acks', ' ')).toMatchObject({ ok: false });
    expect(settingChange(origin, 'mq-producer', 'ratePerS', '800')).toMatchObject({ ok: true, change: { settings: { config: { 'mq-producer': { ratePerS: 800 } } } } });
    expect(settingsJsonChange('{"config": ')).toMatchObject({ ok: false, error: expect.stringMatching(/^settings JSON: /) });
    expect(settingsJsonChange('[1]')).toMatchObject({ ok: false });
    expect(settingsJsonChange('{"config": {"raft": {"preVote": true}}}')).toMatchObject({ ok: true });
  });

  it('names a picked fault as the fault panel says it', () => {
    expect(faultLabel({ kind: 'crash', node: 'r1', loseUnsynced: true })).toBe('crashed r1');
    expect(faultLabel({ kind: 'crash', node: 'r1', loseUnsynced: false })).toBe('crashed r1 (unsynced writes kept)');
    expect(faultLabel({ kind: 'partition', shape: 'isolate', node: 'r2' })).toBe('isolated r2');
    expect(faultLabel({ kind: 'partition', shape: 'groups', groups: [['r1'], ['r2', 'r3']], oneWay: true })).toBe('cut {r1} → {r2 r3}');
    expect(faultLabel({ kind: 'link', from: 'r1', to: '*', set: { loss: 0.2 }, symmetric: true })).toBe('set r1 ↔ *: loss 0.2');
    expect(faultLabel({ kind: 'heal' })).toBe('healed the partition');
  });

  it('leader spans: one per term, closed by a step-down or a crash, overlapping for a stale leader', () => {
    const r = (t: number, node: string, what: RoleRec['what'], v: string | number): RoleRec => ({
      t,
      seq: t,
      node,
      what,
      role: typeof v === 'string' ? v : '',
      term: typeof v === 'number' ? v : 0,
    });
    const spans = leaderSpans([
      r(1, 'r1', 'term', 1),
      r(2, 'r1', 'role', 'candidate'),
      r(3, 'r1', 'role', 'leader'),
      r(10, 'r2', 'term', 2),
      r(11, 'r2', 'role', 'leader'),
      r(20, 'r1', 'crash', 'down'),
      r(30, 'r2', 'term', 3),
      r(40, 'r2', 'role', 'follower'),
      r(50, 'r3', 'term', 4),
      r(51, 'r3', 'role', 'leader'),
    ]);
    expect(spans).toEqual([
      { node: 'r1', term: 1, t0: 3, t1: 20 },
      { node: 'r2', term: 2, t0: 11, t1: 30 },
      { node: 'r2', term: 3, t0: 30, t1: 40 },
      { node: 'r3', term: 4, t0: 51, t1: null },
    ]);
  });
});
