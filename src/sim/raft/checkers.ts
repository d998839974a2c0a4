import type { Checker, CheckView, Finding } from '../kernel/checker.ts';
import type { TraceEvent } from '../kernel/trace.ts';
import type { NodeId } from '../kernel/types.ts';
import { entryAt, firstIndex, lastIndex, sameEntry, termAt } from './log.ts';
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
 * - Snapshots (§7): a snapshot holds committed entries only — its last entry is one the group committed, in that term.
 *
 * With log compaction a replica's log starts after its snapshot's base. Entries are compacted only once the trace has
 * announced them (replicas compact at the start of a step), so each committed entry is seen in some replica's log; a
 * replica's compacted prefix is checked through its base's term. Indexes at or below every replica's base — the
 * group's `floor` — can never be read again, so the checker forgets them: its memory follows the logs' retained length.
 */
interface GroupState {
  leaders: Record<number, NodeId>;
  /** Every replica's log (in memory, and so on its disk) starts above this index; the arrays below start after it. */
  floor: number;
  /** The committed term at `floor` (0 at index 0). */
  floorTerm: number;
  /** `committed[k]` is the entry committed at index `floor + 1 + k`. */
  committed: Entry[];
  /**
   * The term in which each index was first seen committed: the current term of the replica that first announced a
   * commit covering it (the committing leader). Leader Completeness binds leaders of later terms only.
   */
  committedInTerm: number[];
  /** Per log index (offset like `committed`), the first entry seen there for each term, with the term before it. */
  byIndex: { entry: Entry; prevTerm: number }[][];
  scanned: Record<NodeId, number>;
  commit: Record<NodeId, number>;
  /** Each replica's log base when last seen: a crashed replica's disk log starts there too (compaction is synced). */
  bases: Record<NodeId, number>;
}

/** Each Raft group (one per message-queue partition) is checked on its own. */
interface State {
  groups: Record<string, GroupState>;
}

/** The floor moves (and the arrays shift) only in steps this large or larger, so pruning is O(1) amortised. */
const FLOOR_STEP_MIN = 64;

const groupOf = (s: State, m: RaftMemory): GroupState =>
  (s.groups[m.cfg.name ?? 'raft'] ??= { leaders: {}, floor: 0, floorTerm: 0, committed: [], committedInTerm: [], byIndex: [], scanned: {}, commit: {}, bases: {} });

const raftMemory = (view: CheckView, node: NodeId) => view.memory(node) as RaftMemory | null;

function isRaftEvent(e: TraceEvent): e is Extract<TraceEvent, { kind: 'node.state' | 'node.note' | 'node.boot' }> {
  return e.kind === 'node.state' || e.kind === 'node.note' || e.kind === 'node.boot';
}

export const raftSafety: Checker<State> = {
  name: 'raft.safety',
  description: 'Election Safety, Leader Append-Only, Log Matching, Leader Completeness, State Machine Safety, committed-only snapshots and ordered WAL positions.',
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
    if (e.key === 'snapshot') return snapshotCommitted(s, e.node, e.value as { index: number; term: number }, e.seq);
    if (e.key === 'wal') {
      const finding = logMatching(s, e.node, m, e.seq) ?? commits(s, e.node, m, e.seq);
      if (finding === null) raiseFloor(s, e.node, m);
      return finding;
    }
    return null;
  },
};

/** The entry committed at `index`, if the checker knows it (above the floor). */
function committedAt(s: GroupState, index: number): Entry | undefined {
  return index > s.floor ? s.committed[index - s.floor - 1] : undefined;
}

/** The term committed at `index`, if known: the floor's term, or the committed entry's. */
function committedTermAt(s: GroupState, index: number): number | undefined {
  return index === s.floor ? s.floorTerm : committedAt(s, index)?.term;
}

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
 * candidate paused with a vote in hand, say, that resumes and counts it) need not hold entries committed since. What a
 * leader compacted into its snapshot it had committed and applied itself (checked then, by State Machine Safety); its
 * base must carry the committed term.
 */
function leaderCompleteness(s: GroupState, node: NodeId, m: RaftMemory, seq: number): Finding | null {
  const base = firstIndex(m.log);
  for (let k = 0; k < s.committed.length; k++) {
    const i = s.floor + 1 + k;
    const c = s.committed[k];
    if (c === undefined || s.committedInTerm[k] >= m.term || i < base) continue;
    const ok = i === base ? m.log[0].term === c.term : termAt(m.log, i) !== undefined && sameEntry(entryAt(m.log, i), c);
    if (!ok) {
      const has = i === base ? { index: base, term: m.log[0].term, compacted: true } : termAt(m.log, i) === undefined ? null : entryAt(m.log, i);
      return {
        message: `new leader ${node} (term ${m.term}) lacks entry ${c.term}/${i}, committed in term ${s.committedInTerm[k]} (Leader Completeness)`,
        evidence: { node, index: i, committed: c, committedInTerm: s.committedInTerm[k], has, seq },
      };
    }
  }
  return null;
}

/** §7: a snapshot's last entry was committed, in the snapshot's term — so a snapshot never holds uncommitted entries. */
function snapshotCommitted(s: GroupState, node: NodeId, snap: { index: number; term: number }, seq: number): Finding | null {
  if (snap.index < s.floor) return null;
  const term = committedTermAt(s, snap.index);
  if (term === snap.term) return null;
  const what = term === undefined ? 'an entry the group never committed' : `term ${snap.term} where term ${term} was committed`;
  return { message: `${node} holds a snapshot up to ${snap.term}/${snap.index}: ${what} (a snapshot must hold committed entries only)`, evidence: { node, snapshot: snap, committedTerm: term ?? null, seq } };
}

function logMatching(s: GroupState, node: NodeId, m: RaftMemory, seq: number): Finding | null {
  const base = firstIndex(m.log);
  const last = lastIndex(m.log);
  const from = Math.max(s.scanned[node] ?? 0, base, s.floor) + 1;
  for (let i = from; i <= last; i++) {
    const e = entryAt(m.log, i);
    const prevTerm = termAt(m.log, i - 1)!;
    const atIndex = (s.byIndex[i - s.floor - 1] ??= []);
    let seen: { entry: Entry; prevTerm: number } | undefined;
    for (const x of atIndex) if (x.entry.term === e.term) seen = x;
    if (!seen) atIndex.push({ entry: e, prevTerm });
    else if (!sameEntry(seen.entry, e) || seen.prevTerm !== prevTerm) {
      return { message: `${node} holds a different entry ${e.term}/${i} than another replica (Log Matching)`, evidence: { node, index: i, term: e.term, seen: seen.entry, has: e, seq } };
    }
  }
  s.scanned[node] = last;
  return null;
}

function commits(s: GroupState, node: NodeId, m: RaftMemory, seq: number): Finding | null {
  const base = firstIndex(m.log);
  const last = lastIndex(m.log);
  if (!(m.lastApplied <= m.commitIndex && m.commitIndex <= last && base <= m.lastApplied)) {
    return { message: `${node}: positions out of order: log base ${base}, applied ${m.lastApplied}, commit ${m.commitIndex}, append ${last}`, evidence: { node, seq } };
  }
  const before = s.commit[node] ?? 0;
  if (m.commitIndex < before) return { message: `${node}: commit index went back from ${before} to ${m.commitIndex}`, evidence: { node, before, now: m.commitIndex, seq } };
  // A base that moved past what this replica had committed (a snapshot installed, or restored at boot) carries the
  // term of the entry the group committed there.
  if (base > before && base > s.floor && base <= m.commitIndex) {
    const c = committedAt(s, base);
    if (c !== undefined && c.term !== m.log[0].term) {
      return { message: `${node}'s snapshot ends with ${m.log[0].term}/${base} where ${c.term}/${base} was committed (State Machine Safety)`, evidence: { node, index: base, committed: c, seq } };
    }
  }
  for (let i = Math.max(before, base, s.floor) + 1; i <= m.commitIndex; i++) {
    const e = entryAt(m.log, i);
    const k = i - s.floor - 1;
    const c = s.committed[k];
    if (c === undefined) {
      s.committed[k] = e;
      s.committedInTerm[k] = m.term;
    } else if (!sameEntry(c, e)) {
      return { message: `${node} committed ${e.term}/${i} where ${c.term}/${i} was already committed (State Machine Safety)`, evidence: { node, index: i, committed: c, has: e, seq } };
    }
  }
  s.commit[node] = m.commitIndex;
  return null;
}

/**
 * Forgets what no replica can show again: indexes at or below every replica's log base. A replica not yet seen, or one
 * that never compacts, holds the floor at 0 — the checker then keeps everything, as it did before compaction.
 */
function raiseFloor(s: GroupState, node: NodeId, m: RaftMemory): void {
  s.bases[node] = firstIndex(m.log);
  let floor = Infinity;
  for (const p of m.group) floor = Math.min(floor, s.bases[p] ?? 0);
  const known = s.floor + s.committed.length;
  floor = Math.min(floor, known);
  const step = floor - s.floor;
  if (!(step >= FLOOR_STEP_MIN && step * 2 >= s.committed.length)) return;
  const term = s.committed[step - 1]?.term;
  if (term === undefined) return; // a hole (never seen committed): keep everything until it is known
  s.floorTerm = term;
  s.committed.splice(0, step);
  s.committedInTerm.splice(0, step);
  s.byIndex.splice(0, step);
  s.floor = floor;
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
    if (e.key === 'wal' && s.crashAt !== null && m.role === 'leader' && (termAt(m.log, m.commitIndex) ?? 0) > s.crashTerm) {
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
