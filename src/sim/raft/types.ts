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
};

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
  | { kind: 'propose'; id: string; key: string; value: string }
  | { kind: 'propose-reply'; id: string; ok: boolean; index: number; leaderHint: NodeId | null; reason: string }
  | { kind: 'read'; id: string; key: string; mode: 'strong' | 'eventual' }
  | { kind: 'read-reply'; id: string; ok: boolean; value: string | null; appliedIndex: number; leaderHint: NodeId | null; reason: string };
