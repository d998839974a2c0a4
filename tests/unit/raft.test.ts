/**
 * The Raft replica, one paper section at a time (Ongaro & Ousterhout 2014), driving the pure state machine and
 * asserting the effects it returns: what it sends, what it persists (synced, before the reply leaves), which role and
 * positions it announces. Teaching bugs are checked to remove exactly the rule they name.
 */
import { describe, expect, it } from 'vitest';
import { compileScenario } from '../../src/scenarios/schema.ts';
import { findScenario } from '../../src/scenarios/index.ts';
import type { DiskOp } from '../../src/sim/kernel/types.ts';
import { World } from '../../src/sim/kernel/world.ts';
import { BEHAVIORS, bugsFor, checkersFor } from '../../src/sim/nodes.ts';
import { raftSafety } from '../../src/sim/raft/checkers.ts';
import { firstIndex, lastIndex } from '../../src/sim/raft/log.ts';
import { takeSnapshot } from '../../src/sim/raft/replica.ts';
import type { Entry, RaftConfig, RaftMessage, RaftSnapshot } from '../../src/sim/raft/types.ts';
import { append, appendOk, diskWith, entry, Replica, vote, voteReply, type Effects } from './raft-harness.ts';

const G3 = ['a', 'b', 'c'];
const G5 = ['a', 'b', 'c', 'd', 'e'];

function elect(r: Replica): void {
  r.timer('election', 1000);
  for (const p of r.group.filter((x) => x !== r.id)) r.recv(p, voteReply(r.m.term, true));
}

describe('§5.2 leader election', () => {
  it('boots as a follower with an election timer in [min, max]', () => {
    const r = new Replica('a', G3, { electionMinMs: 150, electionMaxMs: 300 });
    expect(r.m.role).toBe('follower');
    expect(r.fx.states.role).toBe('follower');
    expect(r.fx.timers.election).toBeGreaterThanOrEqual(150_000);
    expect(r.fx.timers.election).toBeLessThanOrEqual(300_000);
  });

  it('on timeout becomes candidate: term + 1, votes for itself (synced), asks every peer', () => {
    const r = new Replica('a', G3);
    const fx = r.timer('election');
    expect(r.m.role).toBe('candidate');
    expect(r.m.term).toBe(1);
    expect(fx.persisted).toEqual([{ op: { op: 'put', key: 'hard', value: { term: 1, votedFor: 'a' } }, sync: true }]);
    expect(fx.sent.map((s) => [s.to, s.body])).toEqual([
      ['b', vote(1, 0, 0)],
      ['c', vote(1, 0, 0)],
    ]);
  });

  it('wins with a majority, appends a no-op of its term and sends AppendEntries', () => {
    const r = new Replica('a', G5);
    r.timer('election');
    r.recv('b', voteReply(1, true));
    expect(r.m.role).toBe('candidate');
    const fx = r.recv('c', voteReply(1, true));
    expect(r.m.role).toBe('leader');
    expect(r.m.log.at(-1)).toMatchObject({ index: 1, term: 1, kind: 'noop' });
    expect(fx.sent.filter((s) => s.kind === 'append')).toHaveLength(4);
    expect(fx.timers.heartbeat).toBe(50_000);
  });

  it('grants one vote per term, and persists it before replying', () => {
    const r = new Replica('c', G3);
    let fx = r.recv('a', vote(1, 0, 0));
    expect(fx.persisted[fx.persisted.length - 1]).toEqual({ op: { op: 'put', key: 'hard', value: { term: 1, votedFor: 'a' } }, sync: true });
    expect(r.sentTo('a')).toEqual([expect.objectContaining({ kind: 'vote-reply', granted: true, term: 1 })]);
    fx = r.recv('b', vote(1, 0, 0));
    expect(r.sentTo('b')).toEqual([expect.objectContaining({ granted: false, reason: 'already voted for a in term 1' })]);
    expect(fx.persisted).toEqual([]);
  });

  it('a candidate that hears AppendEntries of its term becomes follower', () => {
    const r = new Replica('a', G3);
    r.timer('election');
    r.recv('b', append(1, 0, 0, [entry(1, 1)], 0));
    expect(r.m.role).toBe('follower');
    expect(r.m.leader).toBe('b');
  });

  it('bug no-persist-vote: the vote is not written, so a restart forgets it', () => {
    const r = new Replica('c', G3, {}, ['no-persist-vote']);
    const fx = r.recv('a', vote(1, 0, 0));
    expect(fx.persisted.at(-1)!.op).toEqual({ op: 'put', key: 'hard', value: { term: 1, votedFor: null } });
  });
});

describe('§5.1 terms', () => {
  it('a leader that sees a higher term steps down and adopts it', () => {
    const r = new Replica('a', G3);
    elect(r);
    r.recv('b', vote(5, 0, 0));
    expect(r.m.role).toBe('follower');
    expect(r.m.term).toBe(5);
  });

  it('refuses stale AppendEntries, telling the sender the newer term', () => {
    const r = new Replica('a', G3, {}, [], diskWith([1, 1], 3));
    r.recv('b', append(2, 2, 1, [], 0));
    expect(r.sentTo('b')).toEqual([expect.objectContaining({ kind: 'append-reply', success: false, term: 3 })]);
  });

  it('bug no-step-down: the leader adopts the higher term but stays leader', () => {
    const r = new Replica('a', G3, {}, ['no-step-down']);
    elect(r);
    r.recv('b', appendOk(7, 0));
    expect(r.m.term).toBe(7);
    expect(r.m.role).toBe('leader');
  });
});

describe('§5.3 log replication', () => {
  it('a follower appends after a matching prev entry, persists synced, and replies with its match index', () => {
    const r = new Replica('b', G3);
    const fx = r.recv('a', append(1, 0, 0, [entry(1, 1), entry(2, 1, 'x')], 0));
    expect(fx.persisted).toEqual([
      { op: { op: 'put', key: 'hard', value: { term: 1, votedFor: null } }, sync: true },
      { op: { op: 'append', key: 'log', items: [entry(1, 1), entry(2, 1, 'x')] }, sync: true },
    ]);
    expect(r.sentTo('a')).toEqual([expect.objectContaining({ success: true, matchIndex: 2 })]);
    expect(fx.states.wal).toEqual({ last: 2, commit: 0, applied: 0 });
  });

  it('rejects when prev entry is missing, hinting its last index', () => {
    const r = new Replica('b', G3, {}, [], diskWith([1], 1));
    r.recv('a', append(1, 5, 1, [entry(6, 1)], 0));
    expect(r.sentTo('a')).toEqual([expect.objectContaining({ success: false, rejectedIndex: 5, hintIndex: 1, hintTerm: 1 })]);
  });

  it('with the conflict hint, a mismatch skips the whole conflicting term', () => {
    const r = new Replica('b', G3, { conflictHint: true }, [], diskWith([1, 2, 2, 2], 2));
    r.recv('a', append(3, 4, 3, [], 0));
    expect(r.sentTo('a')).toEqual([expect.objectContaining({ success: false, rejectedIndex: 4, hintIndex: 1, hintTerm: 1 })]);
    const plain = new Replica('b', G3, { conflictHint: false }, [], diskWith([1, 2, 2, 2], 2));
    plain.recv('a', append(3, 4, 3, [], 0));
    expect(plain.sentTo('a')).toEqual([expect.objectContaining({ success: false, hintIndex: 3 })]);
  });

  it('truncates a conflicting suffix and appends the leader’s entries', () => {
    const r = new Replica('b', G3, {}, [], diskWith([1, 1, 2], 2));
    const fx = r.recv('a', append(3, 2, 1, [entry(3, 3, 'n')], 0));
    expect(fx.notes.map((n) => n.name)).toContain('truncate');
    expect(fx.persisted.map((p) => p.op.op)).toEqual(['put', 'truncate', 'append']);
    expect(r.m.log.map((e) => e.term)).toEqual([0, 1, 1, 3]);
  });

  it('a duplicated, already applied AppendEntries changes nothing', () => {
    const r = new Replica('b', G3);
    const msg = append(1, 0, 0, [entry(1, 1), entry(2, 1)], 2);
    r.recv('a', msg);
    const fx = r.recv('a', msg);
    expect(fx.persisted).toEqual([]);
    expect(r.m.log).toHaveLength(3);
    expect(r.m.commitIndex).toBe(2);
  });

  it('the leader backs nextIndex off on rejection and retries from there', () => {
    const r = new Replica('a', G3, {}, [], diskWith([1, 1, 1], 1));
    elect(r);
    expect(r.m.nextIndex.b).toBe(5);
    r.recv('b', { kind: 'append-reply', term: 2, success: false, matchIndex: 0, rejectedIndex: 3, hintIndex: 1, hintTerm: 1, readSeq: 0 });
    expect(r.sentTo('b')).toEqual([expect.objectContaining({ kind: 'append', prevLogIndex: 1, prevLogTerm: 1 })]);
  });
});

describe('§5.4 safety', () => {
  it('§5.4.1 refuses a vote to a candidate whose log is behind (lower last term, or same term and shorter)', () => {
    const r = new Replica('c', G3, {}, [], diskWith([1, 2], 2));
    r.recv('a', vote(3, 5, 1));
    expect(r.sentTo('a')).toEqual([expect.objectContaining({ granted: false })]);
    r.recv('b', vote(4, 1, 2));
    expect(r.sentTo('b')).toEqual([expect.objectContaining({ granted: false })]);
    r.recv('d', vote(5, 2, 2));
    expect(r.sentTo('d')).toEqual([expect.objectContaining({ granted: true })]);
  });

  it('bug no-uptodate-check: grants the vote anyway', () => {
    const r = new Replica('c', G3, {}, ['no-uptodate-check'], diskWith([1, 2], 2));
    r.recv('a', vote(3, 5, 1));
    expect(r.sentTo('a')).toEqual([expect.objectContaining({ granted: true })]);
  });

  it('§5.4.2 a leader does not commit an earlier-term entry by counting replicas (Figure 8)', () => {
    // Term-2 entry at index 2 held by a majority, but the leader is in term 4: it must not count it.
    const r = new Replica('a', G5, {}, [], diskWith([1, 2], 3));
    elect(r); // term 4, no-op at index 3
    r.recv('b', appendOk(4, 2));
    r.recv('c', appendOk(4, 2));
    expect(r.m.commitIndex).toBe(0);
    r.recv('b', appendOk(4, 3));
    r.recv('c', appendOk(4, 3));
    expect(r.m.commitIndex).toBe(3); // committing the no-op commits index 2 with it
  });

  it('bug commit-old-term: counts replicas of the earlier-term entry and commits it', () => {
    const r = new Replica('a', G5, {}, ['commit-old-term'], diskWith([1, 2], 3));
    elect(r);
    r.recv('b', appendOk(4, 2));
    r.recv('c', appendOk(4, 2));
    expect(r.m.commitIndex).toBe(2);
  });
});

describe('recovery, reads, PreVote', () => {
  it('restores term, vote and log from disk; commit and applied start at zero', () => {
    const r = new Replica('a', G3, {}, [], diskWith([1, 1, 2], 2, 'b'));
    expect([r.m.term, r.m.votedFor, r.m.log.length - 1, r.m.commitIndex, r.m.lastApplied]).toEqual([2, 'b', 3, 0, 0]);
  });

  it('a rate-limited applier lags commit and catches up one entry per tick', () => {
    const r = new Replica('b', G3, { applyRatePerS: 100 });
    const fx = r.recv('a', append(1, 0, 0, [entry(1, 1), entry(2, 1, 'x'), entry(3, 1, 'y')], 3));
    expect(fx.states.wal).toEqual({ last: 3, commit: 3, applied: 0 });
    expect(fx.timers.apply).toBe(10_000);
    r.timer('apply');
    r.timer('apply');
    expect(r.m.lastApplied).toBe(2);
    expect(r.m.kv).toEqual({ k: 'x' });
  });

  it('§6.4 a strong read waits for a heartbeat round and the apply of the read index', () => {
    const r = new Replica('a', G3);
    elect(r);
    r.recv('b', appendOk(1, 1)); // no-op committed
    r.recv('client', { kind: 'read', id: 'q1', key: 'k', mode: 'strong' });
    expect(r.sentTo('client')).toEqual([]);
    r.recv('b', { ...appendOk(1, 1), readSeq: 1 } as never);
    expect(r.sentTo('client')).toEqual([expect.objectContaining({ kind: 'read-reply', ok: true, appliedIndex: 1 })]);
  });

  it('a follower answers eventual reads and refuses strong ones with a leader hint', () => {
    const r = new Replica('b', G3);
    r.recv('a', append(1, 0, 0, [entry(1, 1)], 1));
    r.recv('client', { kind: 'read', id: 'q', key: 'k', mode: 'eventual' });
    expect(r.sentTo('client')).toEqual([expect.objectContaining({ ok: true, appliedIndex: 1 })]);
    r.recv('client', { kind: 'read', id: 'q2', key: 'k', mode: 'strong' });
    expect(r.sentTo('client')).toEqual([expect.objectContaining({ ok: false, leaderHint: 'a', reason: 'not leader' })]);
  });

  it('§9.6 PreVote asks without raising the term; a refusal leaves the term alone', () => {
    const r = new Replica('a', G3, { preVote: true });
    const fx = r.timer('election');
    expect(r.m.term).toBe(0);
    expect(fx.persisted).toEqual([]);
    expect(fx.sent.map((s) => s.body)).toEqual([vote(1, 0, 0, true), vote(1, 0, 0, true)]);
    r.recv('b', { kind: 'vote-reply', term: 0, granted: false, pre: true, reason: 'no' });
    expect(r.m.term).toBe(0);
    r.recv('b', voteReply(1, true, true));
    expect(r.m.role).toBe('candidate');
    expect(r.m.term).toBe(1);
  });
});

describe('the rate-limited applier', () => {
  it('keeps its pace while commits keep arriving (a commit does not push its next tick back)', () => {
    const r = new Replica('b', G3, { applyRatePerS: 100 });
    r.recv('a', append(1, 0, 0, [entry(1, 1), entry(2, 1, 'x')], 2), 0);
    expect(r.fx.timers.apply).toBe(10_000);
    const fx = r.recv('a', append(1, 2, 1, [entry(3, 1, 'y')], 3), 5_000);
    expect(fx.timers.apply).toBeUndefined(); // already armed: the tick due at 10 ms stays where it is
  });
});

/** A leader of G3 with `n` client writes appended after its no-op (indexes 2..n+1), none acknowledged yet. */
function leaderWithWrites(cfg: Partial<RaftConfig>, n: number, value = (i: number) => `v${i}`): Replica {
  const r = new Replica('a', G3, cfg);
  elect(r);
  for (let i = 1; i <= n; i++) r.recv('client', { kind: 'propose', id: `cl:1-${i}`, key: `k${i}`, value: value(i), low: 1 });
  return r;
}

const snapPut = (fx: Effects) => fx.persisted.find((p) => p.op.op === 'put' && p.op.key === 'snapshot')?.op as { value: RaftSnapshot; bytes: number } | undefined;

describe('§7 log compaction', () => {
  it('snapshots applied, committed entries only — at the start of a step — and drops the log up to keepEntries before it', () => {
    const r = leaderWithWrites({ snapshotEntries: 3, snapshotKeepEntries: 1 }, 4);
    r.recv('b', appendOk(1, 3)); // commits and applies 1..3; entries 4 and 5 are not committed
    expect([r.m.commitIndex, r.m.lastApplied, lastIndex(r.m.log)]).toEqual([3, 3, 5]);
    expect(r.m.snapshot).toBeNull(); // not within the step that applied them
    const fx = r.recv('b', appendOk(1, 3));
    const put = snapPut(fx)!;
    expect(put.value).toMatchObject({ index: 3, term: 1, data: { kv: { k1: 'v1', k2: 'v2' } } });
    expect(put.bytes).toBe(put.value.bytes);
    expect(Object.isFrozen(put.value) && Object.isFrozen(put.value.data)).toBe(true);
    // One synced step: snapshot, the log's new base, the log after it.
    expect(fx.persisted.map((p) => [p.op.op, p.op.key, p.sync])).toEqual([
      ['put', 'snapshot', false], ['put', 'logBase', false], ['delete', 'log', false], ['append', 'log', true],
    ]);
    expect(fx.persisted[1].op).toMatchObject({ value: { index: 2, term: 1 } });
    expect((fx.persisted[3].op as { items: Entry[] }).items.map((e) => e.index)).toEqual([3, 4, 5]);
    expect([firstIndex(r.m.log), lastIndex(r.m.log)]).toEqual([2, 5]);
    expect(fx.states.snapshot).toEqual({ index: 3, term: 1, bytes: put.value.bytes, logFrom: 3 });
  });

  it('never takes a snapshot beyond the commit index, however far the log reaches', () => {
    const r = leaderWithWrites({ snapshotEntries: 2 }, 6);
    r.recv('b', appendOk(1, 2));
    r.timer('heartbeat');
    expect(r.m.snapshot).toMatchObject({ index: 2 });
    expect(lastIndex(r.m.log)).toBe(7);
    expect(() => takeSnapshot({ ...r.m, lastApplied: 5, commitIndex: 4, log: [...r.m.log] }, r.ctxForTest())).toThrow(/outside \[2, commit 4\]/);
  });

  it('sends a follower behind its log base the snapshot, in chunks, one per round trip; then entries', () => {
    const r = leaderWithWrites({ snapshotEntries: 3, snapshotChunkBytes: 256 }, 4, () => 'x'.repeat(120));
    r.recv('b', appendOk(1, 5)); // commits 1..5
    r.timer('heartbeat'); // snapshot at 5; c never answered
    expect(firstIndex(r.m.log)).toBe(5);
    const bytes = r.m.snapshot!.bytes;
    expect(bytes).toBeGreaterThan(512);
    const fx = r.recv('c', { kind: 'append-reply', term: 1, success: false, matchIndex: 0, rejectedIndex: 5, hintIndex: 0, hintTerm: 0, readSeq: 0 });
    expect(fx.notes).toContainEqual({ name: 'install-snapshot', data: { to: 'c', index: 5, term: 1, bytes, nextIndex: 1 } });
    expect(r.sentTo('c')).toEqual([expect.objectContaining({ kind: 'install-snapshot', index: 5, lastTerm: 1, offset: 0, size: 256, done: false, snapshot: null })]);
    // A heartbeat within the round trip sends nothing more; the answer brings the next chunk.
    r.timer('heartbeat', r.now + 10_000);
    expect(r.sentTo('c')).toEqual([]);
    r.recv('c', { kind: 'install-snapshot-reply', term: 1, index: 5, offset: 256, done: false, matchIndex: 0, readSeq: 0 });
    expect(r.sentTo('c')).toEqual([expect.objectContaining({ offset: 256, size: 256, done: false })]);
    r.recv('c', { kind: 'install-snapshot-reply', term: 1, index: 5, offset: 512, done: false, matchIndex: 0, readSeq: 0 });
    const last = r.sentTo('c')[0] as Extract<RaftMessage, { kind: 'install-snapshot' }>;
    expect(last).toMatchObject({ offset: 512, size: bytes - 512, done: true });
    expect(last.snapshot).toBe(r.m.snapshot);
    // Installed: the follower matches up to the snapshot, and the entries after it follow as AppendEntries.
    r.recv('c', { kind: 'install-snapshot-reply', term: 1, index: 5, offset: bytes, done: true, matchIndex: 5, readSeq: 0 });
    expect([r.m.matchIndex.c, r.m.nextIndex.c]).toEqual([5, 6]);
    expect(r.m.sending.c).toBeUndefined();
    expect(r.sentTo('c')).toEqual([]); // the snapshot holds all of the leader's log
    r.recv('client', { kind: 'propose', id: 'cl:1-5', key: 'k5', value: 'v5', low: 1 });
    expect(r.sentTo('c')).toEqual([expect.objectContaining({ kind: 'append', prevLogIndex: 5, prevLogTerm: 1, entries: [expect.objectContaining({ index: 6 })] })]);
  });

  it('a follower takes chunks in order only, then installs: its log and map are replaced, commit and applied jump', () => {
    const leader = leaderWithWrites({ snapshotEntries: 3, snapshotChunkBytes: 256 }, 4, () => 'x'.repeat(120));
    leader.recv('b', appendOk(1, 5));
    leader.timer('heartbeat');
    const snap = leader.m.snapshot!;
    const chunk = (offset: number): RaftMessage => {
      const size = Math.min(256, snap.bytes - offset);
      const done = offset + size === snap.bytes;
      return { kind: 'install-snapshot', term: 1, index: 5, lastTerm: 1, bytes: snap.bytes, offset, size, done, snapshot: done ? snap : null, readSeq: 0 };
    };
    const c = new Replica('c', G3, { snapshotEntries: 3 });
    c.recv('a', append(1, 0, 0, [entry(1, 1), entry(2, 2, 'stale')], 0)); // an entry the leader does not have
    c.recv('a', chunk(256));
    expect(c.sentTo('a')).toEqual([expect.objectContaining({ kind: 'install-snapshot-reply', offset: 0, done: false })]);
    c.recv('a', chunk(0));
    c.recv('a', chunk(256));
    expect(c.sentTo('a')).toEqual([expect.objectContaining({ offset: 512, done: false })]);
    const fx = c.recv('a', chunk(512));
    expect(c.sentTo('a')).toEqual([expect.objectContaining({ done: true, matchIndex: 5 })]);
    expect(fx.notes).toContainEqual(expect.objectContaining({ name: 'snapshot-installed', data: expect.objectContaining({ index: 5, discarded: 2 }) }));
    expect([firstIndex(c.m.log), lastIndex(c.m.log), c.m.commitIndex, c.m.lastApplied]).toEqual([5, 5, 5, 5]);
    expect(c.m.kv).toEqual(leader.m.kv);
    expect(c.m.kv).not.toBe((snap.data as { kv: object }).kv); // a copy: the snapshot stays frozen
    expect(fx.persisted.at(-1)!.sync).toBe(true);
    // A duplicate of the last chunk changes nothing: the snapshot is at or below the commit index now.
    c.recv('a', chunk(512));
    expect(c.sentTo('a')).toEqual([expect.objectContaining({ done: true, matchIndex: 5 })]);
  });

  it('Figure 13 step 6: a follower whose log holds the snapshot’s last entry keeps what follows it', () => {
    const leader = leaderWithWrites({ snapshotEntries: 3 }, 4);
    const entries = [...leader.m.log];
    leader.recv('b', appendOk(1, 5));
    leader.timer('heartbeat');
    const snap = leader.m.snapshot!;
    const b = new Replica('b', G3);
    b.recv('a', append(1, 0, 0, entries.slice(1), 0)); // the leader's entries 1..5, none known committed yet
    const fx = b.recv('a', { kind: 'install-snapshot', term: 1, index: 5, lastTerm: 1, bytes: snap.bytes, offset: 0, size: snap.bytes, done: true, snapshot: snap, readSeq: 0 });
    expect(fx.notes.map((n) => n.name)).toContain('snapshot-matches-log');
    expect([firstIndex(b.m.log), lastIndex(b.m.log), b.m.commitIndex, b.m.lastApplied]).toEqual([0, 5, 5, 5]);
    expect(b.m.kv).toEqual({ k1: 'v1', k2: 'v2', k3: 'v3', k4: 'v4' });
  });

  it('a crash after a snapshot restores it: the map, commit and applied at its index, and the log kept after it', () => {
    const r = leaderWithWrites({ snapshotEntries: 3, snapshotKeepEntries: 1 }, 4);
    r.recv('b', appendOk(1, 4));
    const disk: Record<string, unknown> = {};
    r.recv('b', appendOk(1, 4)); // snapshot at 4
    for (const p of [...r.fx.persisted]) applyDiskOp(disk, p.op);
    const before = { kv: { ...r.m.kv }, snap: r.m.snapshot };
    const again = new Replica('a', G3, { snapshotEntries: 3, snapshotKeepEntries: 1 }, [], { ...disk, hard: { term: 1, votedFor: 'a' }, log: (disk.log as Entry[]) });
    expect(again.m.snapshot).toBe(before.snap);
    expect([firstIndex(again.m.log), lastIndex(again.m.log), again.m.commitIndex, again.m.lastApplied]).toEqual([3, 5, 4, 4]);
    expect(again.m.kv).toEqual(before.kv);
    expect(again.fx.states.snapshot).toEqual({ index: 4, term: 1, bytes: before.snap!.bytes, logFrom: 4 });
    expect(again.m.ids).toEqual({ 'cl:1-3': 4, 'cl:1-4': 5 });
  });

  it('AppendEntries that repeat entries a follower compacted are answered with a match at its snapshot', () => {
    const leader = leaderWithWrites({ snapshotEntries: 3 }, 5);
    const all = [...leader.m.log];
    leader.recv('b', appendOk(1, 5));
    leader.timer('heartbeat');
    const snap = leader.m.snapshot!;
    const c = new Replica('c', G3);
    c.recv('a', { kind: 'install-snapshot', term: 1, index: 5, lastTerm: 1, bytes: snap.bytes, offset: 0, size: snap.bytes, done: true, snapshot: snap, readSeq: 0 });
    c.recv('a', append(1, 1, 1, [all[2], all[3]], 5));
    expect(c.sentTo('a')).toEqual([expect.objectContaining({ kind: 'append-reply', success: true, matchIndex: 5 })]);
    c.recv('a', append(1, 3, 1, [all[4], all[5], all[6]], 6));
    expect(c.sentTo('a')).toEqual([expect.objectContaining({ success: true, matchIndex: 6 })]);
    expect([lastIndex(c.m.log), c.m.commitIndex, c.m.kv.k5]).toEqual([6, 6, 'v5']);
  });
});

describe('§6.3 client sessions across compaction', () => {
  it('answers a retry of a command compacted into the snapshot without appending it again', () => {
    const r = leaderWithWrites({ snapshotEntries: 3 }, 4);
    r.recv('b', appendOk(1, 5));
    r.timer('heartbeat');
    expect(r.m.ids['cl:1-2']).toBeUndefined(); // compacted: only the session table knows it
    const fx = r.recv('client', { kind: 'propose', id: 'cl:1-2', key: 'k2', value: 'v2', low: 1 });
    expect(r.sentTo('client')).toEqual([expect.objectContaining({ ok: true, index: 3, reason: 'duplicate' })]);
    expect(fx.persisted).toEqual([]);
    expect(lastIndex(r.m.log)).toBe(5);
  });

  it('forgets ids below the client’s low-water mark, and refuses a late copy of one instead of applying it twice', () => {
    const r = leaderWithWrites({ snapshotEntries: 3 }, 4);
    r.recv('client', { kind: 'propose', id: 'cl:1-5', key: 'k5', value: 'v5', low: 4 }); // answers for 1..3 arrived
    r.recv('b', appendOk(1, 6));
    r.timer('heartbeat');
    expect(r.m.sessions['cl:1-']).toEqual({ low: 4, seqs: { 4: 5, 5: 6 } });
    const fx = r.recv('client', { kind: 'propose', id: 'cl:1-2', key: 'k2', value: 'late', low: 1 });
    expect(fx.notes).toEqual([{ name: 'stale-duplicate', data: { client: 'client', id: 'cl:1-2' } }]);
    expect(r.sentTo('client')).toEqual([]);
    expect(lastIndex(r.m.log)).toBe(6);
  });
});

/** What the world's disk does with one write (sync is immediate here). */
function applyDiskOp(disk: Record<string, unknown>, op: DiskOp): void {
  if (op.op === 'put') disk[op.key] = op.value;
  else if (op.op === 'delete') delete disk[op.key];
  else if (op.op === 'append') disk[op.key] = [...((disk[op.key] as unknown[] | undefined) ?? []), ...op.items];
  else disk[op.key] = (disk[op.key] as unknown[]).slice(0, op.length);
}

describe('raft.safety across compaction', () => {
  const view = (mems: Record<string, unknown>) => ({ t: 0, status: () => 'up' as const, memory: (id: string) => mems[id] ?? null, nodeIds: () => Object.keys(mems) });

  it('reports a snapshot whose last entry the group never committed', () => {
    const r = leaderWithWrites({ snapshotEntries: 100 }, 3);
    r.recv('b', appendOk(1, 2));
    const state = raftSafety.init();
    const mems = { a: r.m };
    expect(raftSafety.onEvent(state, { t: 0, seq: 1, kind: 'node.state', node: 'a', key: 'wal', value: {} }, view(mems))).toBeNull();
    const ok = raftSafety.onEvent(state, { t: 0, seq: 2, kind: 'node.state', node: 'a', key: 'snapshot', value: { index: 2, term: 1 } }, view(mems));
    expect(ok).toBeNull();
    const bad = raftSafety.onEvent(state, { t: 0, seq: 3, kind: 'node.state', node: 'a', key: 'snapshot', value: { index: 4, term: 1 } }, view(mems));
    expect(bad?.message).toBe('a holds a snapshot up to 1/4: an entry the group never committed (a snapshot must hold committed entries only)');
    const wrongTerm = raftSafety.onEvent(state, { t: 0, seq: 4, kind: 'node.state', node: 'a', key: 'snapshot', value: { index: 2, term: 2 } }, view(mems));
    expect(wrongTerm?.message).toMatch(/term 2 where term 1 was committed/);
  });

  it('forgets what every replica compacted, so its memory follows the logs, not the run', () => {
    const { world } = compileScenario(findScenario('raft-chaos')!, { knownKinds: Object.keys(BEHAVIORS), knownBugs: bugsFor });
    const w = new World({ ...world, durationUs: 5_000_000 }, { behaviors: BEHAVIORS, checkers: checkersFor(world.nodes.map((n) => n.kind)), keepEvents: false });
    w.runUntil(5_000_000);
    expect(w.state.violations).toEqual([]);
    const g = (w.state.checks['raft.safety'] as { groups: Record<string, { floor: number; committed: unknown[]; byIndex: unknown[] }> }).groups.raft;
    const committed = Math.max(...w.nodeIds.filter((id) => id.startsWith('r')).map((id) => (w.node(id).memory as { commitIndex: number }).commitIndex));
    expect(committed).toBeGreaterThan(500);
    expect(g.floor).toBeGreaterThan(committed - 200);
    expect(g.committed.length).toBeLessThan(200);
    expect(g.byIndex.length).toBeLessThan(250);
  });
});
