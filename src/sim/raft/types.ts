import type { Micros } from '../kernel/time.ts';
import type { NodeId } from '../kernel/types.ts';

/**
 * Raft's data (Ongaro & Ousterhout 2014, Figure 2). Indices are 1-based; index 0 is the empty prefix (term 0).
 * Entries are immutable once created: the disk stores them by reference and replicas share them.
 */
export interface Entry {
  index: number;
  term: number;
  /**
   * `noop` is the entry a new leader appends in its own term (§5.4.2, §8); `put` a key-value write; `cmd` a command of
   * a plugged-in state machine (the message queue's produce, ack, requeue…), carried in `cmd`.
   */
  kind: 'noop' | 'put' | 'cmd';
  /** Client command id (unique per client write), for dedup and tracing. */
  id?: string;
  key?: string;
  value?: string;
  /** Virtual time the leader appended it, for commit latency. */
  at: Micros;
  /** The state machine command of a `cmd` entry (frozen, shared like the entry). */
  cmd?: unknown;
  /** Bytes the entry takes on the wire and on disk; 48 when left out. */
  bytes?: number;
  /**
   * The client's low-water mark when it sent the command (§6.3 of the Raft dissertation): every command of the id's
   * session with a lower sequence number has had its answer, so the group may forget their ids and treat a late copy
   * of one as a stale duplicate.
   */
  low?: number;
}

/**
 * The dedupe table of one client session (§6.3 of the Raft dissertation): the ids the group has seen, by sequence
 * number, with their log indexes, above the client's low-water mark. Ids below `low` are forgotten; a command that
 * still carries one is a stale duplicate of an answered request.
 */
export interface Session {
  low: number;
  seqs: Record<number, number>;
}

/**
 * A snapshot of a replica's state machine (§7): the state after applying every entry up to `index`, whose term was
 * `term`. Only committed entries are ever in a snapshot (`index` ≤ the commit index when taken). Deeply frozen and
 * shared by reference between the replica, its disk and InstallSnapshot messages.
 */
export interface RaftSnapshot {
  index: number;
  term: number;
  /** Bytes it takes on disk and on the wire (modelled: the state machine's own estimate). */
  bytes: number;
  /** Virtual time it was taken. */
  at: Micros;
  /** The state machine's state: plain data in the machine's own snapshot format. */
  data: unknown;
  /** The dedupe table of every command at or below `index`. */
  sessions: Readonly<Record<string, Readonly<Session>>>;
}

export type Role = 'follower' | 'candidate' | 'leader';

export interface RaftConfig {
  /** Group members, this node included; default: every raft node of the scenario. */
  group?: NodeId[];
  /** The group's name when a run has several groups (a message-queue partition, `orders-0`); default `raft`. */
  name?: string;
  electionMinMs: number;
  electionMaxMs: number;
  heartbeatMs: number;
  /** Entries applied per second by the background applier; 0 = apply as soon as committed. */
  applyRatePerS: number;
  /** Most entries in one AppendEntries. */
  appendEntriesMax: number;
  /** §9.6 PreVote: ask whether you could win before bumping the term. */
  preVote: boolean;
  /** A leader that has not heard from a quorum within an election timeout steps down. */
  checkQuorum: boolean;
  /** §5.3 optimisation: a rejection carries the conflicting term and its first index, skipping a term per round trip. */
  conflictHint: boolean;
  /**
   * §7 log compaction: once this many applied entries lie beyond the last snapshot, the replica snapshots its state
   * machine and drops the log up to `snapshotKeepEntries` before the snapshot's index. 0 = never.
   */
  snapshotEntries: number;
  /**
   * Entries kept before the snapshot's index (etcd's catch-up entries), so a follower a little behind still catches up
   * from the log; one further behind than that gets the snapshot (InstallSnapshot).
   */
  snapshotKeepEntries: number;
  /** InstallSnapshot sends a snapshot in chunks of at most this many bytes, one chunk per round trip. */
  snapshotChunkBytes: number;
  /**
   * A leader holds newly appended entries this long before sending them, so entries proposed close together travel in
   * one AppendEntries (etcd sends all the proposals of one Ready together; a Kafka follower fetches in batches). Costs
   * as much commit latency. 0 = send each entry at once.
   */
  replicateLingerMs: number;
  /**
   * A heartbeat goes only to a follower that was sent nothing within the last heartbeat interval: under load the
   * AppendEntries themselves keep followers' election timers reset. Needs two heartbeat intervals below the minimum
   * election timeout.
   */
  heartbeatWhenIdle: boolean;
}

export const RAFT_DEFAULTS: RaftConfig = {
  electionMinMs: 150,
  electionMaxMs: 300,
  heartbeatMs: 50,
  applyRatePerS: 0,
  appendEntriesMax: 64,
  preVote: false,
  checkQuorum: false,
  conflictHint: true,
  snapshotEntries: 0,
  snapshotKeepEntries: 0,
  snapshotChunkBytes: 1024 * 1024,
  replicateLingerMs: 0,
  heartbeatWhenIdle: false,
};

/** Limits on the compaction settings: a snapshot every entry at the most, and a chunk within one message. */
export const SNAPSHOT_ENTRIES_MAX = 1_000_000;
export const SNAPSHOT_CHUNK_BYTES_MIN = 256;
export const SNAPSHOT_CHUNK_BYTES_MAX = 8 * 1024 * 1024;

/** Teaching bugs: each removes one rule of Raft. */
export const RAFT_BUGS = {
  'commit-old-term': 'a leader commits entries of earlier terms by counting replicas (Raft paper Figure 8)',
  'no-uptodate-check': 'votes are granted without checking that the candidate’s log is at least as up to date (§5.4.1)',
  'no-persist-vote': 'votedFor is not persisted, so a restarted node can vote twice in one term (§5.2, Figure 2)',
  'no-step-down': 'a leader that sees a higher term adopts it but stays leader (§5.1)',
} as const;

export type RaftMessage =
  | { kind: 'vote'; term: number; lastLogIndex: number; lastLogTerm: number; pre: boolean }
  | { kind: 'vote-reply'; term: number; granted: boolean; pre: boolean; reason: string }
  | { kind: 'append'; term: number; prevLogIndex: number; prevLogTerm: number; entries: Entry[]; leaderCommit: number; readSeq: number }
  | { kind: 'append-reply'; term: number; success: boolean; matchIndex: number; rejectedIndex: number; hintIndex: number; hintTerm: number; readSeq: number }
  /**
   * §7 InstallSnapshot, in chunks (Figure 13): `offset` bytes came before this chunk of `size` bytes; the chunk that is
   * `done` carries the snapshot itself (the bytes model the transfer, the data travels by reference).
   */
  | { kind: 'install-snapshot'; term: number; index: number; lastTerm: number; bytes: number; offset: number; size: number; done: boolean; snapshot: RaftSnapshot | null; readSeq: number }
  /** `offset`: the bytes the follower holds of this snapshot; `done`: it holds the whole of it (or more) up to `matchIndex`. */
  | { kind: 'install-snapshot-reply'; term: number; index: number; offset: number; done: boolean; matchIndex: number; readSeq: number }
  /** `low`: the client's low-water mark (see `Entry.low`); left out by clients that keep no sessions. */
  | { kind: 'propose'; id: string; key: string; value: string; low?: number }
  | { kind: 'propose-reply'; id: string; ok: boolean; index: number; leaderHint: NodeId | null; reason: string }
  | { kind: 'read'; id: string; key: string; mode: 'strong' | 'eventual' }
  | { kind: 'read-reply'; id: string; ok: boolean; value: string | null; appliedIndex: number; leaderHint: NodeId | null; reason: string };
