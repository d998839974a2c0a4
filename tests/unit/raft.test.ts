/**
 * The Raft replica, one paper section at a time (Ongaro & Ousterhout 2014), driving the pure state machine and
 * asserting the effects it returns: what it sends, what it persists (synced, before the reply leaves), which role and
 * positions it announces. Teaching bugs are checked to remove exactly the rule they name.
 */
import { describe, expect, it } from 'vitest';
import { append, appendOk, diskWith, entry, Replica, vote, voteReply } from './raft-harness.ts';

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
