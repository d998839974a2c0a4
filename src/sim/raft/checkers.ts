import type { Checker, CheckView, Finding } from '../kernel/checker.ts';
import type { TraceEvent } from '../kernel/trace.ts';
import type { NodeId } from '../kernel/types.ts';
import { sameEntry } from './log.ts';
import type { RaftMemory } from './replica.ts';
import type { Entry } from './types.ts';

/**
 * Raft's safety properties (Figure 3 of the paper), checked from outside the replicas after every event. They read
 * replica memory through the checker view and keep their own plain-data state, so checkpoints carry them.
 * - Election Safety: at most one leader per term.
 * - Leader Append-Only: a leader never truncates its own log.
 * - Log Matching: entries with the same index and term are the same entry, with the same term before them.
 * - Leader Completeness: a new leader holds every entry committed before it.
 * - State Machine Safety: no two replicas commit (and so apply) different entries at one index.
 * - WAL positions: applied ≤ commit ≤ append position, and commit never moves back within one incarnation.
 */
interface GroupState {
  leaders: Record<number, NodeId>;
  committed: Entry[];
  /**
   * The term in which each index was first seen committed: the current term of the replica that first announced a
   * commit covering it (the committing leader). Leader Completeness binds leaders of later terms only.
   */
  committedInTerm: number[];
  /** Per log index, the first entry seen there for each term, with the term before it (almost always one term). */
  byIndex: { entry: Entry; prevTerm: number }[][];
  scanned: Record<NodeId, number>;
  commit: Record<NodeId, number>;
}

/** Each Raft group (one per message-queue partition) is checked on its own. */
interface State {
  groups: Record<string, GroupState>;
}

const groupOf = (s: State, m: RaftMemory): GroupState =>
  (s.groups[m.cfg.name ?? 'raft'] ??= { leaders: {}, committed: [], committedInTerm: [], byIndex: [], scanned: {}, commit: {} });

const raftMemory = (view: CheckView, node: NodeId) => view.memory(node) as RaftMemory | null;

function isRaftEvent(e: TraceEvent): e is Extract<TraceEvent, { kind: 'node.state' | 'node.note' | 'node.boot' }> {
  return e.kind === 'node.state' || e.kind === 'node.note' || e.kind === 'node.boot';
}

export const raftSafety: Checker<State> = {
  name: 'raft.safety',
  description: 'Election Safety, Leader Append-Only, Log Matching, Leader Completeness, State Machine Safety and ordered WAL positions.',
  kinds: ['node.state', 'node.note', 'node.boot'],
  init: () => ({ groups: {} }),
  onEvent(all, e, view) {
    if (!isRaftEvent(e)) return null;
    if (e.kind === 'node.boot') {
      // Memory is not built yet when the boot is recorded; the node belongs to at most one group.
      for (const g of Object.values(all.groups)) {
        if (!(e.node in g.scanned)) continue;
        g.scanned[e.node] = 0;
        g.commit[e.node] = 0;
      }
      return null;
    }
    const m = raftMemory(view, e.node);
    if (!m || !('log' in m)) return null;
    const s = groupOf(all, m);
    if (e.kind === 'node.note') {
      if (e.name !== 'truncate') return null;
      const from = (e.data as { from: number }).from;
      s.scanned[e.node] = Math.min(s.scanned[e.node] ?? 0, from - 1);
      if (m.role === 'leader') return { message: `leader ${e.node} truncated its own log from index ${from} (Leader Append-Only)`, evidence: { node: e.node, from, term: m.term, seq: e.seq } };
      return null;
    }
    if (e.key === 'role' && e.value === 'leader') return electionSafety(s, e.node, m, e.seq) ?? leaderCompleteness(s, e.node, m, e.seq);
    if (e.key === 'term' && m.role === 'leader') return electionSafety(s, e.node, m, e.seq);
    if (e.key === 'wal') return logMatching(s, e.node, m, e.seq) ?? commits(s, e.node, m, e.seq);
    return null;
  },
};

function electionSafety(s: GroupState, node: NodeId, m: RaftMemory, seq: number): Finding | null {
  const other = s.leaders[m.term];
  if (other !== undefined && other !== node) {
    return { message: `two leaders in term ${m.term}: ${other} and ${node} (Election Safety)`, evidence: { term: m.term, leaders: [other, node], seq } };
  }
  s.leaders[m.term] = node;
  return null;
}

/**
 * §5.4: an entry committed in term T is in the log of every leader of a term above T. A leader of an older term (a
 * candidate paused with a vote in hand, say, that resumes and counts it) need not hold entries committed since.
 */
function leaderCompleteness(s: GroupState, node: NodeId, m: RaftMemory, seq: number): Finding | null {
  for (let i = 1; i < s.committed.length; i++) {
    const c = s.committed[i];
    if (s.committedInTerm[i] >= m.term) continue;
    const mine = m.log[i];
    if (!mine || !sameEntry(mine, c)) {
      return {
        message: `new leader ${node} (term ${m.term}) lacks entry ${c.term}/${i}, committed in term ${s.committedInTerm[i]} (Leader Completeness)`,
        evidence: { node, index: i, committed: c, committedInTerm: s.committedInTerm[i], has: mine ?? null, seq },
      };
    }
  }
  return null;
}

function logMatching(s: GroupState, node: NodeId, m: RaftMemory, seq: number): Finding | null {
  const from = (s.scanned[node] ?? 0) + 1;
  for (let i = from; i < m.log.length; i++) {
    const e = m.log[i];
    const prevTerm = m.log[i - 1].term;
    const atIndex = (s.byIndex[i] ??= []);
    let seen: { entry: Entry; prevTerm: number } | undefined;
    for (const x of atIndex) if (x.entry.term === e.term) seen = x;
    if (!seen) atIndex.push({ entry: e, prevTerm });
    else if (!sameEntry(seen.entry, e) || seen.prevTerm !== prevTerm) {
      return { message: `${node} holds a different entry ${e.term}/${i} than another replica (Log Matching)`, evidence: { node, index: i, term: e.term, seen: seen.entry, has: e, seq } };
    }
  }
  s.scanned[node] = m.log.length - 1;
  return null;
}

function commits(s: GroupState, node: NodeId, m: RaftMemory, seq: number): Finding | null {
  const last = m.log.length - 1;
  if (!(m.lastApplied <= m.commitIndex && m.commitIndex <= last)) {
    return { message: `${node}: positions out of order: applied ${m.lastApplied}, commit ${m.commitIndex}, append ${last}`, evidence: { node, seq } };
  }
  const before = s.commit[node] ?? 0;
  if (m.commitIndex < before) return { message: `${node}: commit index went back from ${before} to ${m.commitIndex}`, evidence: { node, before, now: m.commitIndex, seq } };
  for (let i = before + 1; i <= m.commitIndex; i++) {
    const e = m.log[i];
    const c = s.committed[i];
    if (c === undefined) {
      s.committed[i] = e;
      s.committedInTerm[i] = m.term;
    }
    else if (!sameEntry(c, e)) {
      return { message: `${node} committed ${e.term}/${i} where ${c.term}/${i} was already committed (State Machine Safety)`, evidence: { node, index: i, committed: c, has: e, seq } };
    }
  }
  s.commit[node] = m.commitIndex;
  return null;
}

/** Strong reads are linearizable: one sent after a write was acknowledged must see it (ReadIndex, §6.4). */
export const linearizableReads: Checker<null> = {
  name: 'raft.linearizable-reads',
  description: 'A strong read reflects every write acknowledged before it was sent.',
  kinds: ['node.note'],
  init: () => null,
  onEvent(_s, e) {
    if (e.kind !== 'node.note' || e.name !== 'read-served') return null;
    const d = e.data as { mode: string; appliedIndex: number; mustSee: number; id: string };
    if (d.mode === 'strong' && d.appliedIndex < d.mustSee) {
      return { message: `strong read ${d.id} saw index ${d.appliedIndex} but ${d.mustSee} was acknowledged before it`, evidence: { ...d, seq: e.seq } };
    }
    return null;
  },
};

interface ObserverGroup {
  leader: NodeId | null;
  leaderTerm: number;
  crashAt: number | null;
  crashTerm: number;
  failoverMs: number[];
  leaderChanges: number;
  maxTerm: number;
}

interface ObserverState {
  groups: Record<string, ObserverGroup>;
}

/**
 * Not a safety check: measures failover (leader crash → a new leader has committed an entry of its own term, its
 * no-op) and counts leader changes and terms, for `sim run`'s metrics.
 */
export const raftObserver: Checker<ObserverState> = {
  name: 'raft.observer',
  description: 'Measures failover time, leader changes and terms (never fails).',
  kinds: ['node.crash', 'node.state'],
  init: () => ({ groups: {} }),
  onEvent(all, e, view) {
    if (e.kind === 'node.crash') {
      for (const s of Object.values(all.groups)) {
        if (e.node !== s.leader) continue;
        s.crashAt = e.t;
        s.crashTerm = s.leaderTerm;
        s.leader = null;
      }
      return null;
    }
    if (e.kind !== 'node.state') return null;
    const m = raftMemory(view, e.node);
    if (!m || !('log' in m)) return null;
    const s = (all.groups[m.cfg.name ?? 'raft'] ??= { leader: null, leaderTerm: 0, crashAt: null, crashTerm: 0, failoverMs: [], leaderChanges: 0, maxTerm: 0 });
    if (e.key === 'term') s.maxTerm = Math.max(s.maxTerm, m.term);
    if (e.key === 'role' && e.value === 'leader') {
      if (s.leader !== e.node) s.leaderChanges++;
      s.leader = e.node;
      s.leaderTerm = m.term;
    }
    if (e.key === 'wal' && s.crashAt !== null && m.role === 'leader' && m.log[m.commitIndex].term > s.crashTerm) {
      s.failoverMs.push((e.t - s.crashAt) / 1000);
      s.crashAt = null;
    }
    return null;
  },
  metrics(all) {
    const groups = Object.values(all.groups);
    return {
      failoverMs: groups.flatMap((s) => s.failoverMs),
      leaderChanges: groups.reduce((n, s) => n + s.leaderChanges, 0),
      terms: groups.reduce((n, s) => Math.max(n, s.maxTerm), 0),
    };
  },
};

export const RAFT_CHECKERS: readonly Checker[] = [raftSafety as Checker, linearizableReads as Checker, raftObserver as Checker];
