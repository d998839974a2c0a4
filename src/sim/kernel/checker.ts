import type { TraceEvent, TraceKind } from './trace.ts';
import type { NodeId, NodeStatus } from './types.ts';

/** What a checker may read of the world besides the event: node statuses and the time. */
export interface CheckView {
  readonly t: number;
  status(node: NodeId): NodeStatus;
  /** A node's memory (null while crashed). Read-only: checkers must never change it. */
  memory(node: NodeId): unknown;
  nodeIds(): readonly NodeId[];
}

export interface Finding {
  message: string;
  evidence: unknown;
}

/**
 * An invariant checker. It sits outside the nodes and sees every trace event right after it is recorded; its own
 * state is plain data kept in the world (so checkpoints carry it). A finding becomes a `check.violation` event.
 */
export interface Checker<S = unknown> {
  name: string;
  /** One sentence a learner reads in the invariant panel. */
  description: string;
  init(): S;
  /** The event kinds this checker looks at; the world calls it for no others. Leave out to see every event. */
  kinds?: readonly TraceKind[];
  onEvent(state: S, e: TraceEvent, view: CheckView): Finding | null;
  /** Observers may also report run metrics: a number is a counter, a list is a set of samples. */
  metrics?(state: S): Record<string, number | number[]>;
}
