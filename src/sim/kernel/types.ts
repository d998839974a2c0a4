import type { Micros } from './time.ts';
import type { Rng } from './rng.ts';

export type NodeId = string;

/**
 * A host: the machine (a broker process) nodes run on. Several nodes may share one host (one Raft replica per
 * partition inside one broker); a node that names no host is its own host, with the node's id as the host id. Crashes,
 * pauses, network placement and disk / NIC bandwidth belong to the host.
 */
export type HostId = string;

/** `up` runs; `crashed` has lost its memory and keeps its disk; `paused` keeps memory and holds or drops its input. */
export type NodeStatus = 'up' | 'crashed' | 'paused';

/** One directed link's behaviour. Probabilities are in [0, 1]; `bandwidthBytesPerS` 0 means unlimited. */
export interface LinkSpec {
  latencyUs: Micros;
  jitterUs: Micros;
  loss: number;
  dup: number;
  /** Probability that a message ignores per-link FIFO order and takes an extra random delay of up to 2 × latency. */
  reorder: number;
  bandwidthBytesPerS: number;
}

export type PartitionShape = 'isolate' | 'halves' | 'ring' | 'bridge' | 'groups';

/**
 * A fault, whether scheduled by a scenario, drawn by a random fault schedule, or injected by a user. The same closed
 * union is the vocabulary of the fault panel, the scenario files and the CLI's `--faults random`.
 */
export type Fault =
  // `node` may name a node (or a role reference resolving to one) or a host; either way the fault applies to every
  // node on that host. The same holds for a partition's `node` and `groups` and a link fault's `from` / `to`.
  | { kind: 'crash'; node: NodeId; loseUnsynced?: boolean }
  | { kind: 'restart'; node: NodeId }
  | { kind: 'pause'; node: NodeId }
  | { kind: 'resume'; node: NodeId }
  | {
      kind: 'partition';
      shape: PartitionShape;
      /** The node to isolate (`isolate`) or to put in the middle (`bridge`); drawn at random when left out. */
      node?: NodeId;
      /** Explicit groups for `groups`. */
      groups?: NodeId[][];
      /** When set, only messages from the first group to the others are cut; the reverse direction still flows. */
      oneWay?: boolean;
    }
  | { kind: 'heal' }
  | { kind: 'link'; from: NodeId | '*'; to: NodeId | '*'; set: Partial<LinkSpec>; symmetric?: boolean };

export type FaultKind = Fault['kind'];
export const FAULT_KINDS: readonly FaultKind[] = ['crash', 'restart', 'pause', 'resume', 'partition', 'heal', 'link'];

/**
 * A user action: a fault applied at virtual time `at`. `step` is the number of world steps taken when the user made
 * it, which pins the action between the same two events on replay even when several events share `at`; actions
 * written by hand may leave it out and then apply after every event at times <= `at`.
 */
export type Action = Fault & { at: Micros; step?: number };

/** A message on the wire. `sentAt` and `deliverAt` let views animate it; `id` is unique within a run. */
export interface Message {
  id: number;
  from: NodeId;
  to: NodeId;
  kind: string;
  body: unknown;
  size: number;
  sentAt: Micros;
  deliverAt: Micros;
}

/**
 * One disk write. `bytes` is an optional size hint for the host's disk bandwidth model (see `diskOpBytes`): without it
 * a `put` counts 64 bytes, an `append` 64 bytes per item, and `truncate` / `delete` nothing.
 */
export type DiskOp =
  | { op: 'put'; key: string; value: unknown; bytes?: number }
  | { op: 'append'; key: string; items: unknown[]; bytes?: number }
  | { op: 'truncate'; key: string; length: number; bytes?: number }
  | { op: 'delete'; key: string; bytes?: number };

/** What a node reads back from its disk when it boots: only synced data, plus unsynced data the crash did not lose. */
export type DiskView = Readonly<Record<string, unknown>>;

export type NodeInput =
  | { type: 'message'; msg: Message }
  | { type: 'timer'; name: string };

/**
 * Everything a node may do while it handles one input. Nothing here is performed during `step`: the calls only record
 * effects, and the world carries them out after `step` returns — disk writes first, then timers, then messages — so
 * a reply that promises durability never leaves before its write (etcd-raft's Ready contract).
 */
export interface NodeContext {
  readonly id: NodeId;
  readonly now: Micros;
  /** Every other node of the topology, in topology order (built on first use: O(nodes)). */
  readonly peers: readonly NodeId[];
  /** True when `node` is another node of the topology: O(1), unlike searching `peers`. */
  knows(node: NodeId): boolean;
  /** A random stream private to this node: `node:<id>:<name>`. */
  rng(name: string): Rng;
  /**
   * Sends `body` by reference: neither side may change it afterwards (the trace holds the same object). `after` (µs,
   * default 0) is work the node does before the message can leave — unpacking a request, its turn on a busy CPU. The
   * send is in the trace now and the message leaves then; a pause meanwhile freezes the work (the message leaves
   * that much later), and a crash loses the message (`sender-crashed`).
   */
  send(to: NodeId, kind: string, body: unknown, size?: number, after?: Micros): void;
  /**
   * Writes to this node's disk. On a host with a disk bandwidth the write's bytes (`diskOpBytes`) queue on the host's
   * disk, and when `sync` is set every message sent in the same step leaves only once that disk work is done — and
   * is lost with the node (`sender-crashed`) if it crashes before then.
   */
  persist(op: DiskOp, sync: boolean): void;
  setTimer(name: string, after: Micros): void;
  cancelTimer(name: string): void;
  /** Announces a change of a named, user-visible piece of state (role, term, epoch, suspicion…). */
  state(key: string, value: unknown): void;
  /** A node-specific event worth showing in the log. */
  note(name: string, data?: unknown): void;
  count(metric: string, n?: number): void;
  observe(metric: string, value: number): void;
  /** True when the named teaching bug is switched on for this run. */
  bug(name: string): boolean;
}

/**
 * One kind of node. `boot` builds memory from the disk (empty on first boot) — the same code path for a first start and
 * a recovery after a crash. `step` handles one input. State must be plain, structured-cloneable data.
 */
export interface NodeBehavior<S = unknown, C = unknown> {
  kind: string;
  boot(config: C, disk: DiskView, ctx: NodeContext): S;
  step(state: S, input: NodeInput, ctx: NodeContext): void;
  /** Teaching bugs this kind understands, by name, with what each removes. */
  bugs?: Readonly<Record<string, string>>;
  /**
   * What a per-frame snapshot shows of the memory at time `now`: plain data, bounded in size (say, the tail of a long
   * log). Without it the snapshot carries the whole memory.
   */
  view?(memory: S, now: Micros): unknown;
  /** The replication group the node belongs to (a Raft group's name), so faults can say `@leader/<group>`. */
  group?(memory: S): string | null;
  /** A few headline fields for labels and lanes (role, term, positions…) at time `now`, cheap enough for every frame. */
  headline?(memory: S, now: Micros): Record<string, string | number | boolean | null>;
}
