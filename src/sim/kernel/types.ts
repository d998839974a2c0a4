import type { Micros } from './time.ts';
import type { Rng } from './rng.ts';

export type NodeId = string;

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

export type DiskOp =
  | { op: 'put'; key: string; value: unknown }
  | { op: 'append'; key: string; items: unknown[] }
  | { op: 'truncate'; key: string; length: number }
  | { op: 'delete'; key: string };

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
  /** Every other node of the topology, in topology order. */
  readonly peers: readonly NodeId[];
  /** A random stream private to this node: `node:<id>:<name>`. */
  rng(name: string): Rng;
  /** Sends `body` by reference: neither side may change it afterwards (the trace holds the same object). */
  send(to: NodeId, kind: string, body: unknown, size?: number): void;
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
   * What a per-frame snapshot shows of the memory: plain data, bounded in size (say, the tail of a long log).
   * Without it the snapshot carries the whole memory.
   */
  view?(memory: S): unknown;
  /** A few headline fields for labels and lanes (role, term, positions…), cheap enough for every frame. */
  headline?(memory: S): Record<string, string | number | boolean | null>;
}
