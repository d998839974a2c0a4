/**
 * The Lab API's time travel and actions: seek(t) then run gives exactly the events of a straight run; seeking back
 * restores a checkpoint and re-runs; an injected fault is recorded as an action pinned to its step, so a replay from
 * scenario + seed + actions reproduces the hash; injecting after a seek back forks the timeline.
 */
import { describe, expect, it } from 'vitest';
import { Lab, LabError, type StepArg } from '../../src/sim/lab.ts';
import type { TraceEvent, TraceKind } from '../../src/sim/kernel/trace.ts';
import { canonicalJson } from '../../src/sim/kernel/hash.ts';

const all = (lab: Lab) => lab.events(0, 10_000).map(canonicalJson);

function straight(seed = 's') {
  const lab = new Lab();
  lab.load('ping-pong', { seed });
  lab.runToEnd();
  return lab;
}

describe('seek', () => {
  it.each([[0], [1_234_567], [4_000_000], [7_999_999]])('seek(%i) then run gives the same events as a straight run', (t) => {
    const ref = straight();
    const lab = new Lab();
    lab.load('ping-pong', { seed: 's' });
    lab.seek(6_000_000);
    lab.seek(t);
    expect(lab.snapshot().t).toBe(t);
    lab.runToEnd();
    expect(lab.summary().traceHash).toBe(ref.summary().traceHash);
    expect(all(lab)).toEqual(all(ref));
  });

  it('seeking back restores state exactly as it was at that time', () => {
    const lab = new Lab();
    lab.load('ping-pong', { seed: 's' });
    lab.seek(5_200_000);
    const at = lab.snapshot();
    lab.seek(7_500_000);
    lab.seek(5_200_000);
    const again = lab.snapshot();
    expect(again.traceHash).toBe(at.traceHash);
    expect(again.nodes).toEqual(at.nodes);
    expect(again.inFlight).toEqual(at.inFlight);
    expect(again.nodes.find((n) => n.id === 'n2')!.status).toBe('crashed');
  });

  it('step counts and step-until-kind move exactly as asked', () => {
    const lab = new Lab();
    const s0 = lab.load('ping-pong');
    const s1 = lab.step(1);
    expect(s1.steps).toBe(s0.steps + 1);
    const s2 = lab.step({ untilKind: 'net.partition' });
    expect(lab.events(s2.eventCount - 1, 1)[0].kind).toBe('net.partition');
    expect(s2.t).toBe(2_000_000);
  });

  it('advance maps wall time × speed to virtual time and stops at the end', () => {
    const lab = new Lab();
    lab.load('ping-pong');
    expect(lab.advance(100).t).toBe(0); // not playing
    lab.play(10);
    expect(lab.advance(100).t).toBe(1_000_000);
    expect(lab.advance(10_000).t).toBe(3_500_000); // a frame is capped at 250 ms of wall time
    lab.setSpeed(1000);
    const end = lab.advance(250);
    expect(end.t).toBe(8_000_000);
    expect(end.playing).toBe(false);
    expect(() => lab.setSpeed(0)).toThrow(LabError);
  });

  it('a run that reaches its duration ends with exactly one run.end, at the duration', () => {
    const lab = new Lab();
    lab.load('ping-pong');
    const ends = () => lab.events(0, 500, { kinds: ['run.end'] });
    lab.step({ until: 7_999_999 });
    expect(ends()).toHaveLength(0);
    lab.runToEnd();
    expect(ends()).toHaveLength(1);
    expect(ends()[0].t).toBe(8_000_000);
    expect(lab.summary().events).toBe(ends()[0].seq + 1);
    expect(lab.step(5).t).toBe(8_000_000); // nothing after the end
    expect(ends()).toHaveLength(1);
  });
});

describe('actions', () => {
  it('an injected fault is recorded with its time and step, and a replay reproduces the run', () => {
    const lab = new Lab();
    lab.load('ping-pong', { seed: 'act' });
    lab.seek(1_000_000);
    lab.step(3);
    lab.inject({ kind: 'crash', node: 'n4', loseUnsynced: true });
    lab.seek(1_500_000);
    lab.inject({ kind: 'restart', node: 'n4' });
    lab.runToEnd();
    const { actions } = lab.snapshot();
    expect(actions).toHaveLength(2);
    expect(actions[0]).toMatchObject({ kind: 'crash', node: 'n4', loseUnsynced: true });
    expect(actions[0].at).toBeGreaterThanOrEqual(1_000_000);

    const replay = new Lab();
    replay.load('ping-pong', { seed: 'act', actions });
    replay.runToEnd();
    expect(replay.summary().traceHash).toBe(lab.summary().traceHash);
    expect(replay.summary().traceHash).not.toBe(straight('act').summary().traceHash);
  });

  it('injecting after a seek back forks: the old future actions are dropped', () => {
    const lab = new Lab();
    lab.load('ping-pong', { seed: 'fork' });
    lab.seek(3_000_000);
    lab.inject({ kind: 'pause', node: 'n1' });
    lab.seek(1_000_000);
    expect(lab.snapshot().actions).toHaveLength(1); // the future is kept while only seeking
    lab.seek(3_500_000);
    expect(lab.snapshot().nodes[0].status).toBe('paused');
    lab.seek(1_000_000);
    lab.inject({ kind: 'crash', node: 'n3' });
    lab.runToEnd();
    const s = lab.snapshot();
    expect(s.actions.map((a) => a.kind)).toEqual(['crash']);
    expect(s.nodes[0].status).toBe('up');
  });

  it('rejects faults that cannot apply or are malformed, leaving the run as it was', () => {
    const lab = new Lab();
    lab.load('ping-pong');
    lab.seek(1_000_000);
    const before = lab.snapshot();
    expect(() => lab.inject({ kind: 'restart', node: 'n1' })).toThrow('cannot restart: n1 is not crashed');
    expect(() => lab.inject({ kind: 'crash', node: 'zz' })).toThrow('unknown node "zz"');
    expect(() => lab.inject({ kind: 'explode' })).toThrow(/action\.kind/);
    expect(() => lab.inject({ kind: 'link', from: 'n1', to: 'n2', set: { loss: 2 } })).toThrow(/set\.loss/);
    expect(lab.snapshot()).toEqual(before);
  });

  it('load rejects unknown scenarios, bad seeds and unknown bugs with a clear message', () => {
    const lab = new Lab();
    lab.load('ping-pong');
    const before = lab.snapshot();
    expect(() => lab.load('nope')).toThrow('unknown scenario "nope"');
    expect(() => lab.load('ping-pong', { seed: '' })).toThrow('seed must be');
    expect(() => lab.load('ping-pong', { bugs: ['nope'] })).toThrow('unknown bug "nope" for this scenario (known: unsynced-epoch)');
    expect(() => lab.load('ping-pong', { actions: [{ kind: 'crash', node: 'n1' }] })).toThrow('actions[0].at');
    expect(lab.snapshot()).toEqual(before);
  });
});

describe('step to a matching event', () => {
  type Match = NonNullable<Extract<StepArg, { untilKind: unknown }>['match']>;
  const ELECTION = { untilKind: 'node.state', match: { key: 'role', values: ['candidate', 'leader'] } } as const;
  const COMMIT = { untilKind: 'node.state', match: { key: 'wal', rises: 'commit' } } as const;

  /** The events the last `lab.step(arg)` took that pass `ok`, and the same count for every step before its last one. */
  function stepAndFind(scenario: string, arg: { untilKind: TraceKind; match: Match }, ok: (e: TraceEvent, all: TraceEvent[]) => boolean, warm = 0) {
    const lab = new Lab();
    lab.load(scenario, { seed: '1' });
    if (warm) lab.step(warm);
    const before = lab.snapshot();
    const after = lab.step(arg);
    const all = lab.events(0, 10_000);
    const taken = all.slice(before.eventCount, after.eventCount);
    // A twin that stops one step short has seen none of them: the step stopped at the first match.
    const twin = new Lab();
    twin.load(scenario, { seed: '1' });
    if (warm) twin.step(warm);
    const steps = after.steps - before.steps;
    const short = steps > 1 ? twin.step(steps - 1) : twin.snapshot();
    return { hits: taken.filter((e) => ok(e, all)), early: all.slice(before.eventCount, short.eventCount).filter((e) => ok(e, all)), after };
  }

  it('an election: the step stops at the first candidate or leader announcement (§5.2)', () => {
    const isElection = (e: TraceEvent) => e.kind === 'node.state' && e.key === 'role' && (e.value === 'candidate' || e.value === 'leader');
    const { hits, early } = stepAndFind('raft-cold-start', ELECTION, isElection);
    expect(hits.length).toBeGreaterThan(0);
    expect(early).toEqual([]);
    // Stepping again reaches the win: the same candidate becomes leader.
    const lab = new Lab();
    lab.load('raft-cold-start', { seed: '1' });
    lab.step(ELECTION);
    const won = lab.step(ELECTION);
    expect(lab.events(0, 10_000).slice(0, won.eventCount).filter(isElection).map((e) => e.kind === 'node.state' && e.value)).toEqual(['candidate', 'leader']);
  });

  it('a commit: the step stops where some replica\'s commit index goes up, not at other WAL changes (§5.3)', () => {
    const commitOf = (e: TraceEvent) => (e.kind === 'node.state' && e.key === 'wal' ? (e.value as { commit: number }).commit : null);
    const rises = (e: TraceEvent, all: TraceEvent[]) => {
      const c = commitOf(e);
      if (c === null || e.kind !== 'node.state') return false;
      const prev = all.slice(0, e.seq).reverse().find((p) => p.kind === 'node.state' && p.node === e.node && p.key === 'wal');
      return prev !== undefined && c > commitOf(prev)!;
    };
    const { hits, early } = stepAndFind('raft-cold-start', COMMIT, rises);
    expect(hits.length).toBeGreaterThan(0);
    expect(early).toEqual([]);
    // Later in the run too, from a state with many WAL changes that do not commit (appends only).
    const later = stepAndFind('raft-cold-start', COMMIT, rises, 400);
    expect(later.hits.length).toBeGreaterThan(0);
    expect(later.early).toEqual([]);
  });

  it('a delivery of a chosen message kind, listed among the kinds seen', () => {
    const { hits, early, after } = stepAndFind('raft-cold-start', { untilKind: 'msg.deliver', match: { msg: 'append-reply' } }, (e) => e.kind === 'msg.deliver' && e.msg === 'append-reply');
    expect(hits.length).toBeGreaterThan(0);
    expect(early).toEqual([]);
    expect(after.messageKinds).toEqual([...after.messageKinds].sort());
    expect(after.messageKinds).toEqual(expect.arrayContaining(['append', 'append-reply', 'vote', 'vote-reply']));
  });

  it('a kind that never comes runs to the end; a run without kept events refuses a match', () => {
    const lab = new Lab();
    lab.load('raft-cold-start', { seed: '1' });
    expect(lab.step({ untilKind: 'msg.deliver', match: { msg: 'no-such-kind' } }).done).toBe(true);
    const bare = new Lab();
    bare.load('raft-cold-start', { seed: '1', keepEvents: false });
    expect(() => bare.step(ELECTION)).toThrow(LabError);
  });
});

describe('events: filters', () => {
  it('by message id, and by subject: message kinds, note names and state keys narrow only their own event kinds', () => {
    const lab = new Lab();
    lab.load('mq-baseline', { seed: '2' });
    lab.step({ until: 400_000 });
    const all = lab.events(0, 10_000);
    expect(all.length).toBe(lab.snapshot().eventCount);
    const one = all.find((e) => e.kind === 'msg.send')!;
    const byId = lab.events(0, 10_000, { msgId: (one as { id: number }).id });
    expect(byId.length).toBeGreaterThan(0);
    expect(byId.every((e) => 'id' in e && e.id === (one as { id: number }).id)).toBe(true);

    const narrow = lab.events(0, 10_000, { kinds: ['msg.send', 'node.note', 'node.state', 'node.boot'], msgs: ['status'], notes: ['produced'], states: ['role'] });
    const expected = all.filter(
      (e) =>
        (e.kind === 'msg.send' && e.msg === 'status') || (e.kind === 'node.note' && e.name === 'produced') || (e.kind === 'node.state' && e.key === 'role') || e.kind === 'node.boot',
    );
    expect(expected.some((e) => e.kind === 'msg.send')).toBe(true);
    expect(expected.some((e) => e.kind === 'node.note')).toBe(true);
    expect(narrow.map((e) => e.seq)).toEqual(expected.map((e) => e.seq));
    // Without `kinds`, a subject filter still leaves other kinds alone.
    const timers = lab.events(0, 10_000, { msgs: ['status'] }).filter((e) => e.kind === 'timer.fire').length;
    expect(timers).toBe(all.filter((e) => e.kind === 'timer.fire').length);
  });
});

describe('snapshot focus', () => {
  it('carries memory and disk data only for focused kinds and nodes, and everything again without a focus', () => {
    const lab = new Lab();
    lab.load('mq-baseline', { seed: '1' });
    const full = lab.step({ until: 1_500_000 });
    expect(full.nodes.every((n) => n.detail)).toBe(true);
    const part = full.nodes.find((n) => n.kind === 'mq-partition')!;
    lab.setFocus({ kinds: ['mq-coordinator'], nodes: [part.id] });
    const narrow = lab.snapshot();
    for (const n of narrow.nodes) {
      const want = n.kind === 'mq-coordinator' || n.id === part.id;
      expect(n.detail, n.id).toBe(want);
      if (want) expect(n.memory).toEqual(full.nodes.find((m) => m.id === n.id)!.memory);
      else {
        expect(n.memory).toBeUndefined();
        expect(n.disk.data).toEqual({});
        expect(n.disk.keys).toEqual(full.nodes.find((m) => m.id === n.id)!.disk.keys);
        expect(n.headline).toEqual(full.nodes.find((m) => m.id === n.id)!.headline);
      }
    }
    expect(JSON.stringify(narrow).length).toBeLessThan(JSON.stringify(full).length / 2);
    // The focus survives a load and never changes the run.
    lab.load('mq-baseline', { seed: '1' });
    const again = lab.step({ until: 1_500_000 });
    expect(again.traceHash).toBe(full.traceHash);
    expect(again.nodes.filter((n) => n.detail).length).toBe(narrow.nodes.filter((n) => n.detail).length);
    lab.setFocus(null);
    expect(lab.snapshot().nodes.every((n) => n.detail)).toBe(true);
    expect(() => lab.setFocus({ nodes: 'n1' as unknown as string[] })).toThrow(/setFocus: nodes must be a list/);
  });
});

describe('snapshot', () => {
  it('is plain cloneable data with messages in flight between send and delivery', () => {
    const lab = new Lab();
    lab.load('ping-pong');
    lab.seek(1_000_000);
    const s = lab.step({ untilKind: 'msg.send' });
    expect(structuredClone(s)).toEqual(s);
    expect(s.inFlight.length).toBeGreaterThan(0);
    for (const m of s.inFlight) {
      expect(m.sentAt).toBeLessThanOrEqual(s.t);
      expect(m.deliverAt).toBeGreaterThanOrEqual(s.t);
    }
    expect(s.nodes.map((n) => n.disk.data.epoch)).toEqual([1, 1, 1, 1, 1]);
  });

  it('events can be filtered by kind, node and text', () => {
    const lab = straight();
    const crashes = lab.events(0, 100, { kinds: ['node.crash'] });
    expect(crashes).toHaveLength(1);
    expect(crashes[0]).toMatchObject({ kind: 'node.crash', node: 'n2' });
    const n5 = lab.events(0, 10_000, { node: 'n5', kinds: ['msg.send'] });
    expect(n5.length).toBeGreaterThan(0);
    expect(n5.every((e) => e.kind === 'msg.send' && e.from === 'n5')).toBe(true);
    expect(lab.events(0, 100, { text: 'suspects:n5' }).length).toBeGreaterThan(0);
  });
});

describe('seek forward over known ground', () => {
  it('jumps to a later checkpoint instead of re-running, with identical events', () => {
    const ref = straight();
    const lab = new Lab();
    lab.load('ping-pong', { seed: 's' });
    lab.seek(8_000_000);
    const checkpoints = lab.snapshot().checkpoints;
    lab.seek(500_000);
    lab.seek(7_000_000);
    expect(lab.snapshot().checkpoints).toBe(checkpoints); // no duplicates taken on the way
    lab.runToEnd();
    expect(all(lab)).toEqual(all(ref));
  });
});

describe('bounded snapshots of long logs', () => {
  it('carry the tail of each Raft log and headline positions; inspect and logEntries reach the rest', () => {
    const lab = new Lab();
    lab.load('raft-cold-start');
    const s = lab.runToEnd();
    const r = s.nodes.find((n) => n.headline.role === 'leader')!;
    const view = r.memory as { log: { index: number }[]; logFrom: number; logLength: number; ids?: unknown };
    expect(view.logLength).toBeGreaterThan(250);
    expect(view.log).toHaveLength(200);
    expect(view.log[0].index).toBe(view.logFrom);
    expect(view.log.at(-1)!.index).toBe(view.logLength);
    expect(view.ids).toBeUndefined();
    expect(r.headline).toMatchObject({ role: 'leader', last: view.logLength });
    expect((r.disk.data.log as { length: number; tail: unknown[] }).length).toBe(view.logLength);
    const full = lab.inspect(r.id).memory as { log: unknown[] };
    expect(full.log).toHaveLength(view.logLength + 1);
    expect(lab.logEntries(r.id, 1, 3).map((e) => (e as { index: number }).index)).toEqual([1, 2, 3]);
    expect(() => lab.inspect('zz')).toThrow('unknown node "zz"');
  });
});
