import { assert, fail } from './assert.ts';
import { StreamHash } from './hash.ts';
import type { Micros } from './time.ts';
import type { Action, Fault, LinkSpec, NodeId, PartitionShape } from './types.ts';

/**
 * Why a message was not delivered: lost on the wire, cut by a partition, its receiver down, paused (drop mode) or with
 * a full inbox — or `sender-crashed`: its sender crashed after sending it but before it left (while the work, the
 * synced disk write or the NIC queue it waited on was not done).
 */
export type DropReason = 'loss' | 'partition' | 'node-down' | 'paused' | 'inbox-full' | 'sender-crashed';
export type FaultSource = 'scenario' | 'user' | 'random';

/**
 * The closed union of trace events. Every delivery, drop, timer, state change, fault, client operation and checker
 * verdict is one of these; views switch over `kind` exhaustively. `seq` is the event's index in the trace (0, 1, 2, …),
 * `t` its virtual time; both are non-decreasing along the trace.
 */
export type TraceBody =
  | { kind: 'run.start'; scenario: string; seed: string; nodes: NodeId[] }
  | { kind: 'msg.send'; id: number; from: NodeId; to: NodeId; msg: string; body: unknown; size: number; deliverAt: Micros }
  | { kind: 'msg.deliver'; id: number; from: NodeId; to: NodeId; msg: string; sentAt: Micros }
  | { kind: 'msg.drop'; id: number; from: NodeId; to: NodeId; msg: string; reason: DropReason }
  | { kind: 'msg.dup'; id: number; copy: number; from: NodeId; to: NodeId; msg: string; deliverAt: Micros }
  | { kind: 'timer.fire'; node: NodeId; name: string }
  | { kind: 'node.boot'; node: NodeId; incarnation: number; recovered: boolean }
  | { kind: 'node.crash'; node: NodeId; lostWrites: number }
  | { kind: 'node.pause'; node: NodeId }
  | { kind: 'node.resume'; node: NodeId; queued: number }
  | { kind: 'node.state'; node: NodeId; key: string; value: unknown }
  | { kind: 'node.note'; node: NodeId; name: string; data?: unknown }
  | { kind: 'net.partition'; shape: PartitionShape; groups: NodeId[][]; oneWay: boolean }
  | { kind: 'net.heal' }
  | { kind: 'net.link'; from: NodeId | '*'; to: NodeId | '*'; set: Partial<LinkSpec> }
  | { kind: 'fault'; source: FaultSource; fault: Fault | Action }
  | { kind: 'check.violation'; checker: string; message: string; evidence: unknown }
  /** The run reached its duration: end-of-run checks (a write acknowledged but never delivered…) run on it. */
  | { kind: 'run.end' };

export type TraceKind = TraceBody['kind'];
export type TraceEvent = TraceBody & { t: Micros; seq: number };

export const TRACE_KINDS: readonly TraceKind[] = [
  'run.start', 'msg.send', 'msg.deliver', 'msg.drop', 'msg.dup', 'timer.fire', 'node.boot', 'node.crash', 'node.pause',
  'node.resume', 'node.state', 'node.note', 'net.partition', 'net.heal', 'net.link', 'fault', 'check.violation', 'run.end',
];

/** The node an event belongs to, for filters and lanes: the receiver of a message, the subject of a node event. */
export function eventNode(e: TraceBody): NodeId | undefined {
  if ('node' in e) return e.node;
  if (e.kind === 'msg.deliver' || e.kind === 'msg.drop') return e.to;
  if (e.kind === 'msg.send' || e.kind === 'msg.dup') return e.from;
  return undefined;
}

export interface TraceState {
  count: number;
  hash: [number, number];
  lastT: Micros;
}

/**
 * Records events, keeps the running hash and (optionally) the events themselves. Sweeps switch `keep` off: the hash
 * alone identifies a run, and a thousand runs need not hold a thousand traces.
 */
export class TraceRecorder {
  readonly events: TraceEvent[] = [];
  private readonly hash: StreamHash;
  private _count: number;
  private lastT: Micros;

  constructor(
    readonly keep: boolean,
    private readonly eventsMax: number,
    state?: TraceState,
    events?: TraceEvent[],
  ) {
    this.hash = new StreamHash(state?.hash);
    this._count = state?.count ?? 0;
    this.lastT = state?.lastT ?? 0;
    if (events) this.events = events;
    assert(!keep || this.events.length === this._count, 'a kept trace must hold every event counted');
  }

  get count(): number {
    return this._count;
  }

  /**
   * Numbers one event (its `seq`), hashes and (if kept) keeps it. The event comes whole from its maker, `t` first and
   * `seq` second, the order the hash and exported files read its fields in; it is the recorder's from here on.
   */
  record(e: TraceEvent): TraceEvent {
    const t = e.t;
    if (!(t >= this.lastT)) fail(`trace time went backwards: ${t} after ${this.lastT}`);
    if (!(this._count < this.eventsMax)) fail(`trace is full (${this.eventsMax} events); shorten the run`);
    e.seq = this._count;
    this.hash.updateEvent(e);
    this._count++;
    this.lastT = t;
    if (this.keep) this.events.push(e);
    return e;
  }

  hashHex(): string {
    return this.hash.hex();
  }

  state(): TraceState {
    return { count: this._count, hash: this.hash.state(), lastT: this.lastT };
  }
}

/**
 * The hash of a list of events, recomputed from scratch: what an imported trace claims must equal this. Events are
 * hashed structurally in their own key order — the order the recorder built them in (t, seq, kind, then the body's
 * fields) — which JSON.parse preserves and every engine keeps for such keys, so a trace keeps its hash across export,
 * import, Node and browsers without the cost of writing or sorting text.
 */
export function hashEvents(events: readonly TraceEvent[]): string {
  const h = new StreamHash();
  for (const e of events) h.updateEvent(e);
  return h.hex();
}
