import type { NodeSnapshot, Snapshot } from '../sim/lab.ts';
import type { NodeId } from '../sim/kernel/types.ts';
import type { Entry, RaftConfig, Role } from '../sim/raft/types.ts';
import { formatMicros, type Micros } from '../sim/kernel/time.ts';

/**
 * What the Raft views share: the shape of a replica's bounded memory view in a snapshot, the colour-blind-safe
 * palettes (terms, roles, message kinds), and the teaching text behind every tooltip. Pure TypeScript: no DOM, no
 * runes, so it is tested and reused without a browser.
 */

/** A Raft replica's memory as the snapshot carries it (`raftReplica.view`): the log is only its tail. */
export interface RaftView {
  id: NodeId;
  cfg: RaftConfig;
  group: NodeId[];
  term: number;
  votedFor: NodeId | null;
  role: Role;
  leader: NodeId | null;
  commitIndex: number;
  lastApplied: number;
  nextIndex: Record<NodeId, number>;
  /** Leader only: the highest index it knows each follower stores (Figure 2). */
  matchIndex: Record<NodeId, number>;
  lagging: Record<NodeId, boolean>;
  votes: Record<NodeId, boolean>;
  preCampaign: boolean;
  /** Index of the last entry (the append position); the log view may start later than 1. */
  logLength: number;
  /** Index of the first entry in `log`. */
  logFrom: number;
  /** Entries `logFrom..logLength`, at most 200 of them. */
  log: Entry[];
  /** Entries `1..logBase` were compacted into the snapshot (§7); 0 (or absent) when the log was never compacted. */
  logBase?: number;
  /** The snapshot the replica holds: its last index and term, and its size. */
  snapshot?: { index: number; term: number; bytes: number; at: number } | null;
}

export type { Entry, Role };

export function isRaftNode(n: NodeSnapshot): boolean {
  return n.kind === 'raft';
}

/** The replica's memory view, or null for other kinds and for crashed replicas (whose memory is gone). */
export function raftView(n: NodeSnapshot): RaftView | null {
  if (n.kind !== 'raft' || n.memory === null || typeof n.memory !== 'object') return null;
  return 'log' in n.memory && 'commitIndex' in n.memory ? (n.memory as RaftView) : null;
}

/** True when the run has Raft replicas: the App shows the Raft panels only then. */
export function hasRaft(s: Snapshot | null): boolean {
  return s !== null && s.nodes.some(isRaftNode);
}

/** The replicas' ids in snapshot order. */
export function raftIds(s: Snapshot | null): NodeId[] {
  return s ? s.nodes.filter(isRaftNode).map((n) => n.id) : [];
}

/**
 * Term fills: Paul Tol's "light" qualitative scheme, designed to stay distinct under the common colour-vision
 * deficiencies and to carry black text. Terms beyond eight cycle, which is why every cell also prints its term.
 */
export const TERM_PALETTE = ['#77AADD', '#EE8866', '#EEDD88', '#FFAABB', '#99DDFF', '#44BB99', '#BBCC33', '#AAAA00'] as const;
export const TERM_TEXT = '#14191f';

export function termColor(term: number): string {
  if (term <= 0) return '#DDDDDD';
  return TERM_PALETTE[(term - 1) % TERM_PALETTE.length];
}

/** Okabe–Ito colours for roles; the bands also differ in height and the labels say the role. */
export const ROLE_COLOR: Record<Role | 'down', string> = {
  leader: '#0072B2',
  candidate: '#E69F00',
  follower: '#8C9AA8',
  down: '#D55E00',
};

/**
 * Message kinds: a hue per request/reply pair (Okabe–Ito plus two of Tol's), the reply a lighter tint of its request.
 * Kinds of other node types get the neutral grey.
 */
export const KIND_COLOR: Record<string, string> = {
  append: '#0072B2',
  'append-reply': '#56B4E9',
  vote: '#D55E00',
  'vote-reply': '#E69F00',
  propose: '#009E73',
  'propose-reply': '#44BB99',
  read: '#AA4499',
  'read-reply': '#CC79A7',
};

export const RAFT_KINDS = ['append', 'append-reply', 'vote', 'vote-reply', 'propose', 'propose-reply', 'read', 'read-reply'] as const;

const OTHER_KIND_PALETTE = ['#999999', '#BBCC33', '#332288', '#882255'];

export function kindColor(kind: string): string {
  const c = KIND_COLOR[kind];
  if (c) return c;
  let h = 0;
  for (let i = 0; i < kind.length; i++) h = (h * 31 + kind.charCodeAt(i)) >>> 0;
  return OTHER_KIND_PALETTE[h % OTHER_KIND_PALETTE.length];
}

/** What each Raft message kind is, for the space-time legend and filter chips. */
export const KIND_TEXT: Record<string, string> = {
  append: 'AppendEntries (§5.3): the leader replicates entries, or sends an empty heartbeat, and carries its commit index.',
  'append-reply': 'AppendEntries reply: success with the follower’s match position, or a rejection that moves nextIndex back.',
  vote: 'RequestVote (§5.2): a candidate asks for a vote, sending its last log index and term (or a PreVote, §9.6).',
  'vote-reply': 'RequestVote reply: granted, or refused with the reason (already voted, stale term, log behind).',
  propose: 'A client write sent to the replica it believes leads.',
  'propose-reply': 'The answer to a write: committed and applied at an index, or "not leader" with a hint.',
  read: 'A client read: strong (the leader’s ReadIndex, §6.4) or eventual (any replica).',
  'read-reply': 'The answer to a read, with the applied index it was served at.',
};

/** Teaching text behind the Raft views' tooltips. Kafka names are given where learners already know them. */
export const RAFT_TERMS = {
  term: 'Term: Raft’s logical clock (§5.1). Each election starts a new term and a term has at most one leader. A cell’s colour and number are the term in which a leader created that entry.',
  append:
    'Append position (last log index): where this replica’s log ends; the next entry goes after it. Kafka calls it the log end offset (LEO). Entries here may not be committed yet.',
  commit:
    'Commit index: the highest entry known to be stored on a majority of replicas. Kafka calls it the high watermark (HW): consumers only read below it. A committed entry survives any minority of failures and every future leader has it (Leader Completeness, §5.4).',
  applied:
    'Applied position (lastApplied): entries up to here have been applied to the replicated state machine (the key-value map). It trails the commit index while the applier catches up — like a consumer’s offset behind the high watermark.',
  match:
    'Replicated (match) position: on the leader, the highest entry it knows each follower stores (matchIndex, Figure 2), learned from AppendEntries replies. Kafka: the follower’s log end offset as the leader tracks it for the in-sync replica set (ISR).',
  uncommitted: 'Dashed, paler cells are not committed yet: a new leader may still overwrite them. Hover one to see why it is not committed.',
  noop: 'no-op: the empty entry a new leader appends in its own term. When it commits, every earlier entry commits with it (§5.4.2, §8).',
  leader: 'Leader: accepts client writes, replicates them with AppendEntries and decides what is committed. At most one per term (Election Safety).',
  candidate: 'Candidate: its election timer fired, so it started a new term, voted for itself and asked the others for votes (§5.2).',
  follower: 'Follower: passive; appends what the leader sends and votes in elections. Its election timer restarts on every AppendEntries from the leader.',
  down: 'Down: the replica crashed. Its memory (role, commit and applied positions) is gone; its synced disk (term, vote, log) survives.',
  electionTimer:
    'Election timeout: a follower that hears nothing from a leader for a random time between the minimum and maximum timeout becomes a candidate (§5.2). The shaded window is when this replica’s timer can fire, counted from its last reset (an AppendEntries from the leader, a vote granted, or its own campaign). Random timeouts make split votes rare.',
  vote: 'RequestVote: a replica grants at most one vote per term, and only to a candidate whose log is at least as up to date as its own (§5.4.1). A refusal carries the reason.',
  preVote: 'PreVote (§9.6): before starting a real election a replica asks whether it could win, without bumping its term, so a cut-off replica cannot depose a healthy leader.',
  heartbeat: 'Heartbeat: the leader sends AppendEntries (empty when there is nothing new) every heartbeat interval so followers’ election timers do not fire.',
  spaceTime:
    'Space-time diagram (Lamport, 1978): one line per node, time running left to right. Each arrow is one message, from the moment it was sent to the moment it was delivered; × marks a drop; dashed arrows are still in flight. Arrows that cross were reordered by the network.',
  elections:
    'Election timeline: one lane per replica. Bands show its role and term over virtual time; diamonds mark the start of a campaign; ✓ and ✗ are votes granted and refused. Click or drag on the lanes to seek.',
  logs: 'Replica logs: each row is one replica’s log, one cell per entry, aligned by index so the rows can be compared. Hover an entry to see whether it is committed and, if not, why.',
  compacted:
    'Log compaction (§7): these committed entries were applied and folded into a snapshot of the state machine, written to disk, and dropped from the log. A follower that needs them gets the snapshot (InstallSnapshot); a restart restores it and replays the log after it. Kafka does the same with log segments and retention.',
} as const;

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "2.163s" style times for tooltips. */
export function at(t: Micros): string {
  return formatMicros(t);
}

/** A short description of an entry: "put k3=c1-41" or "no-op". */
export function entryText(e: Entry): string {
  return e.kind === 'noop' ? 'no-op' : `put ${e.key ?? '?'}=${e.value ?? '?'}`;
}

/** The quorum of a group of n replicas: a strict majority. */
export function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * Ticks for a time axis over [t0, t1] (µs) with about `count` ticks at 1-2-5 steps, labelled compactly. d3's
 * `scale.ticks` does the same on numbers; this keeps labels in the units the lab uses everywhere else.
 */
export function timeTicks(t0: Micros, t1: Micros, count: number): { t: Micros; label: string }[] {
  const span = Math.max(1, t1 - t0);
  const raw = span / Math.max(1, count);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const out: { t: Micros; label: string }[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push({ t, label: tickLabel(t, step) });
  return out;
}

function tickLabel(t: Micros, step: number): string {
  if (t === 0) return '0';
  // Seconds once past one second ("3.186s"), with as many decimals as the step needs; milliseconds before.
  if (t >= 1_000_000 || step >= 100_000) {
    const decimals = Math.max(0, Math.min(4, Math.ceil(-Math.log10(step / 1_000_000) - 1e-9)));
    return `${(t / 1_000_000).toFixed(decimals)}s`;
  }
  const decimals = Math.max(0, Math.min(3, Math.ceil(-Math.log10(step / 1_000) - 1e-9)));
  return `${(t / 1_000).toFixed(decimals)}ms`;
}
