import type { TraceEvent } from '../kernel/trace.ts';
import type { NodeId } from '../kernel/types.ts';
import type { TraceHeader } from '../tracefile.ts';
import { batched } from './chunks.ts';

/**
 * Perfetto / Chrome trace-event JSON (the "JSON Object Format": `{displayTimeUnit, otherData, traceEvents}`), which
 * ui.perfetto.dev and chrome://tracing open as they are. Our virtual microseconds are the format's own unit, so `ts`
 * is the event's `t` unchanged.
 *
 * Layout:
 * - one process per node (pid 2, 3, … in the order of `run.start`), with a single thread (tid = pid); pid 1 is the
 *   network, which holds partitions, faults, violations and the in-flight counter. `ph: 'M'` events name every process
 *   and thread and fix their sort order.
 * - role spans (follower / candidate / leader, from `node.state` key `role`) and status spans (crashed, paused) are
 *   async slices (`b` … `e` with the same cat and a unique id). Every `b` gets its `e`: a role ends at the next role
 *   or a crash; spans still open at the end of the trace are closed at the trace's end time.
 * - each message is a flow arrow: a 1 µs complete slice (`X`) on the sender's thread with a flow start (`s`) right
 *   after it, and a 1 µs slice on the receiver's thread at delivery (or drop) with the flow end (`f`, `bp: 'e'`, bound
 *   to that enclosing slice). A duplicated copy gets its own arrow. Messages still in flight at the end of the trace
 *   end on an "in flight at end" slice at the receiver, so every `s` has exactly one `f`.
 * - counters (`ph: 'C'`): per node, every numeric `node.state` (Raft's `wal` {last, commit, applied} and `term`);
 *   on the network, messages in flight (one sample per virtual instant at which the count changed).
 * - instants (`ph: 'i'`): timers, notes, boots, crashes, faults; violations are global instants (`s: 'g'`).
 */

export interface PerfettoEvent {
  ph: 'X' | 'i' | 'b' | 'e' | 's' | 'f' | 'C' | 'M';
  name: string;
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  id?: number;
  s?: 'g' | 'p' | 't';
  bp?: 'e';
  args?: Record<string, unknown>;
}

export const NETWORK_PID = 1;
/** Message slices last one microsecond: long enough to hold their flow, short enough never to overlap the next event. */
export const MESSAGE_SLICE_US = 1;
/** Bodies larger than this (as JSON) are summarised by their size, so a long append does not bloat every slice. */
export const BODY_ARG_CHARS_MAX = 512;

export function perfettoChunks(header: TraceHeader, events: readonly TraceEvent[]): Generator<string, void, undefined> {
  return batched(perfettoPieces(header, events));
}

function* perfettoPieces(header: TraceHeader, events: readonly TraceEvent[]): Generator<string> {
  const other = { generator: `streamlab ${header.app}`, scenario: header.scenario, seed: header.seed, traceHash: header.hash, eventCount: header.eventCount, virtualUs: header.virtualUs };
  yield `{"displayTimeUnit":"ms","otherData":${JSON.stringify(other)},"traceEvents":[\n`;
  let first = true;
  for (const pe of perfettoEvents(header, events)) {
    yield (first ? '' : ',\n') + JSON.stringify(pe);
    first = false;
  }
  yield '\n]}\n';
}

/** The trace events in file order (the tests check these; the file is their JSON). */
export function* perfettoEvents(header: TraceHeader, events: readonly TraceEvent[]): Generator<PerfettoEvent, void, undefined> {
  const c = new PerfettoConverter();
  yield* c.drain();
  let endT = header.virtualUs;
  for (const e of events) {
    c.event(e);
    if (e.t > endT) endT = e.t;
    yield* c.drain();
  }
  c.finish(endT);
  yield* c.drain();
}

interface Span {
  id: number;
  name: string;
  cat: string;
}

interface Copy {
  flow: number;
  deliverAt: number;
}

interface Pending {
  to: NodeId;
  msg: string;
  copies: Copy[];
}

class PerfettoConverter {
  private out: PerfettoEvent[] = [];
  private readonly pids = new Map<NodeId, number>();
  private readonly roles = new Map<NodeId, Span>();
  private readonly statuses = new Map<NodeId, Span>();
  private readonly terms = new Map<NodeId, unknown>();
  /** Messages sent and not yet delivered or dropped: only what is in flight, so memory follows the network. */
  private readonly pending = new Map<number, Pending>();
  private partition: Span | null = null;
  private nextSpanId = 1;
  private inFlight = 0;
  private inFlightShown = 0;
  private inFlightT = 0;

  constructor() {
    this.meta(NETWORK_PID, 'network', 'network', 0);
  }

  *drain(): Generator<PerfettoEvent> {
    const out = this.out;
    this.out = [];
    yield* out;
  }

  event(e: TraceEvent): void {
    if (e.t !== this.inFlightT) this.flushInFlight(e.t);
    switch (e.kind) {
      case 'run.start':
        for (const n of e.nodes) this.pid(n);
        this.instant(NETWORK_PID, e.t, 'run start', 'run', { scenario: e.scenario, seed: e.seed, nodes: e.nodes });
        return;
      case 'msg.send':
        this.send(e.t, e.from, e.id, e.id * 2, e.msg, { id: e.id, to: e.to, size: e.size, deliverAt: e.deliverAt, ...bodyArg(e.body) });
        this.pending.set(e.id, { to: e.to, msg: e.msg, copies: [{ flow: e.id * 2, deliverAt: e.deliverAt }] });
        return;
      case 'msg.dup': {
        this.send(e.t, e.from, e.id, e.id * 2 + 1, `${e.msg} (duplicate)`, { id: e.id, to: e.to, copy: e.copy, deliverAt: e.deliverAt });
        const p = this.pending.get(e.id);
        if (p) p.copies.push({ flow: e.id * 2 + 1, deliverAt: e.deliverAt });
        return;
      }
      case 'msg.deliver':
        this.arrive(e.t, e.to, e.id, e.msg, 'msg', { id: e.id, from: e.from, latencyUs: e.t - e.sentAt });
        return;
      case 'msg.drop':
        this.arrive(e.t, e.to, e.id, `${e.msg} dropped (${e.reason})`, 'drop', { id: e.id, from: e.from, reason: e.reason });
        return;
      case 'timer.fire':
        this.instant(this.pid(e.node), e.t, `timer ${e.name}`, 'timer', {});
        return;
      case 'node.boot':
        this.close(this.statuses, e.node, e.t);
        this.instant(this.pid(e.node), e.t, e.recovered ? 'boot (recovered from disk)' : 'boot', 'status', { incarnation: e.incarnation, recovered: e.recovered });
        return;
      case 'node.crash':
        this.close(this.roles, e.node, e.t);
        this.close(this.statuses, e.node, e.t);
        this.open(this.statuses, e.node, e.t, 'crashed', 'status', { lostWrites: e.lostWrites });
        return;
      case 'node.pause':
        this.close(this.statuses, e.node, e.t);
        this.open(this.statuses, e.node, e.t, 'paused', 'status', {});
        return;
      case 'node.resume':
        this.close(this.statuses, e.node, e.t);
        this.instant(this.pid(e.node), e.t, 'resume', 'status', { queued: e.queued });
        return;
      case 'node.state':
        this.state(e.t, e.node, e.key, e.value);
        return;
      case 'node.note':
        this.instant(this.pid(e.node), e.t, e.name, 'note', argsOf(e.data));
        return;
      case 'net.partition':
        this.closePartition(e.t);
        this.partition = { id: this.nextSpanId++, name: `partition (${e.shape}${e.oneWay ? ', one-way' : ''})`, cat: 'net' };
        this.push({ ph: 'b', name: this.partition.name, cat: 'net', id: this.partition.id, pid: NETWORK_PID, tid: NETWORK_PID, ts: e.t, args: { groups: e.groups, oneWay: e.oneWay } });
        return;
      case 'net.heal':
        this.closePartition(e.t);
        this.instant(NETWORK_PID, e.t, 'heal', 'net', {});
        return;
      case 'net.link':
        this.instant(NETWORK_PID, e.t, `link ${e.from} → ${e.to}`, 'net', { set: e.set });
        return;
      case 'fault': {
        const node = 'node' in e.fault ? e.fault.node : undefined;
        const pid = node !== undefined && this.pids.has(node) ? this.pid(node) : NETWORK_PID;
        this.instant(pid, e.t, `fault: ${e.fault.kind}`, 'fault', { source: e.source, fault: e.fault });
        return;
      }
      case 'run.end':
        this.instant(NETWORK_PID, e.t, 'run end', 'run', {});
        return;
      case 'check.violation':
        this.push({ ph: 'i', s: 'g', name: `violation: ${e.checker}`, cat: 'check', pid: NETWORK_PID, tid: NETWORK_PID, ts: e.t, args: { message: e.message, evidence: e.evidence } });
        return;
      default: {
        const never: never = e;
        throw new Error(`perfetto: unhandled event kind ${(never as TraceEvent).kind}`);
      }
    }
  }

  /** Closes every open span and ends every flow still in flight at `endT`, so the file has no dangling `b` or `s`. */
  finish(endT: number): void {
    this.flushInFlight(endT);
    for (const node of [...this.roles.keys()]) this.close(this.roles, node, endT);
    for (const node of [...this.statuses.keys()]) this.close(this.statuses, node, endT);
    this.closePartition(endT);
    for (const [id, p] of this.pending) {
      for (const copy of p.copies) {
        const pid = this.pid(p.to);
        this.push({ ph: 'X', name: `${p.msg} (in flight at end)`, cat: 'msg', ts: endT, dur: MESSAGE_SLICE_US, pid, tid: pid, args: { id, deliverAt: copy.deliverAt } });
        this.push({ ph: 'f', bp: 'e', name: 'msg', cat: 'flow', id: copy.flow, ts: endT, pid, tid: pid });
      }
    }
    this.pending.clear();
    this.flushInFlight(endT + 1);
  }

  private push(e: PerfettoEvent): void {
    this.out.push(e);
  }

  private meta(pid: number, processName: string, threadName: string, sortIndex: number): void {
    this.push({ ph: 'M', name: 'process_name', pid, tid: pid, args: { name: processName } });
    this.push({ ph: 'M', name: 'process_sort_index', pid, tid: pid, args: { sort_index: sortIndex } });
    this.push({ ph: 'M', name: 'thread_name', pid, tid: pid, args: { name: threadName } });
    this.push({ ph: 'M', name: 'thread_sort_index', pid, tid: pid, args: { sort_index: 0 } });
  }

  /** The node's process id, naming its process and thread the first time the node is seen. */
  private pid(node: NodeId): number {
    let pid = this.pids.get(node);
    if (pid === undefined) {
      pid = this.pids.size + 2;
      this.pids.set(node, pid);
      this.meta(pid, `node ${node}`, node, pid);
    }
    return pid;
  }

  private instant(pid: number, ts: number, name: string, cat: string, args: Record<string, unknown>): void {
    this.push({ ph: 'i', s: 't', name, cat, ts, pid, tid: pid, args });
  }

  private send(ts: number, from: NodeId, _id: number, flow: number, name: string, args: Record<string, unknown>): void {
    const pid = this.pid(from);
    this.push({ ph: 'X', name, cat: 'msg', ts, dur: MESSAGE_SLICE_US, pid, tid: pid, args });
    this.push({ ph: 's', name: 'msg', cat: 'flow', id: flow, ts, pid, tid: pid });
    this.inFlight++;
  }

  /** A delivery or a drop: the receiver's slice, then the flow end of the copy that arrives now. */
  private arrive(ts: number, to: NodeId, id: number, name: string, cat: string, args: Record<string, unknown>): void {
    const pid = this.pid(to);
    this.push({ ph: 'X', name, cat, ts, dur: MESSAGE_SLICE_US, pid, tid: pid, args });
    const p = this.pending.get(id);
    if (!p) return; // A delivery without its send (a trace cut at the front); nothing to draw the arrow from.
    // Copies arrive at their own deliverAt; when both share it, either may go first.
    let i = p.copies.findIndex((c) => c.deliverAt === ts);
    if (i < 0) i = 0;
    const [copy] = p.copies.splice(i, 1);
    if (p.copies.length === 0) this.pending.delete(id);
    this.push({ ph: 'f', bp: 'e', name: 'msg', cat: 'flow', id: copy.flow, ts, pid, tid: pid });
    this.inFlight--;
  }

  private state(ts: number, node: NodeId, key: string, value: unknown): void {
    const pid = this.pid(node);
    if (key === 'term') this.terms.set(node, value);
    if (key === 'role') {
      this.close(this.roles, node, ts);
      this.open(this.roles, node, ts, String(value), 'role', this.terms.has(node) ? { term: this.terms.get(node) } : {});
      return;
    }
    if (typeof value === 'number' && Number.isFinite(value)) {
      this.push({ ph: 'C', name: key, ts, pid, tid: pid, args: { [key]: value } });
      return;
    }
    const numbers = numericFields(value);
    if (numbers) {
      this.push({ ph: 'C', name: key, ts, pid, tid: pid, args: numbers });
      return;
    }
    this.instant(pid, ts, `${key} = ${short(value)}`, 'state', { key, value });
  }

  private open(spans: Map<NodeId, Span>, node: NodeId, ts: number, name: string, cat: string, args: Record<string, unknown>): void {
    const pid = this.pid(node);
    const span = { id: this.nextSpanId++, name, cat };
    spans.set(node, span);
    this.push({ ph: 'b', name, cat, id: span.id, ts, pid, tid: pid, args });
  }

  private close(spans: Map<NodeId, Span>, node: NodeId, ts: number): void {
    const span = spans.get(node);
    if (!span) return;
    spans.delete(node);
    const pid = this.pid(node);
    this.push({ ph: 'e', name: span.name, cat: span.cat, id: span.id, ts, pid, tid: pid });
  }

  private closePartition(ts: number): void {
    if (!this.partition) return;
    const p = this.partition;
    this.partition = null;
    this.push({ ph: 'e', name: p.name, cat: p.cat, id: p.id, ts, pid: NETWORK_PID, tid: NETWORK_PID });
  }

  /** One in-flight sample per virtual instant at which the count changed, written when time moves on. */
  private flushInFlight(nextT: number): void {
    if (this.inFlight !== this.inFlightShown) {
      this.push({ ph: 'C', name: 'in flight', ts: this.inFlightT, pid: NETWORK_PID, tid: NETWORK_PID, args: { messages: this.inFlight } });
      this.inFlightShown = this.inFlight;
    }
    this.inFlightT = nextT;
  }
}

function bodyArg(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  const text = JSON.stringify(body) ?? '';
  return text.length <= BODY_ARG_CHARS_MAX ? { body } : { bodyChars: text.length };
}

function argsOf(data: unknown): Record<string, unknown> {
  if (data === undefined) return {};
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) return data as Record<string, unknown>;
  return { data };
}

/** The finite numeric fields of a plain object, or null when it has none (then it is not a counter). */
function numericFields(value: unknown): Record<string, number> | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const out: Record<string, number> = {};
  let n = 0;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'number' && Number.isFinite(v)) {
      out[k] = v;
      n++;
    }
  }
  return n ? out : null;
}

function short(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
  return text.length > 40 ? text.slice(0, 39) + '…' : text;
}
