import { forkTime, runKey, type RunKey } from './run-key.ts';
import type { Snapshot } from '../sim/lab.ts';
import type { DropReason, TraceEvent } from '../sim/kernel/trace.ts';
import type { Micros } from '../sim/kernel/time.ts';
import type { NodeId } from '../sim/kernel/types.ts';
import type { Role } from '../sim/raft/types.ts';
import { FaultWindows } from './fault-windows.ts';
import type { LabPort } from './port.ts';

/**
 * The Raft timelines' memory of the trace: what the elections and space-time views need, taken from trace events
 * fetched incrementally by seq (never the whole trace again each frame).
 *
 * Ordering duties:
 * - Events are ingested strictly in seq order, each exactly once: `count` is the next seq expected, and a fetched
 *   page that does not start there is dropped.
 * - Every list is append-only and seq-ordered, so going back in time is cutting each list at a seq (`truncate`).
 *   The one mutation of an earlier record — a message closed by its delivery or drop — is undone from the `ends`
 *   list, which is itself in seq order.
 * - The run moving back is detected from the snapshot: fewer events than ingested (a seek back, whose prefix is the
 *   same by determinism), or a changed action list (a fork: events from the first changed action's time on may
 *   differ), or another scenario, seed or bug set (start over). A `generation` counter makes a page fetched before
 *   a cut land nowhere.
 *
 * The data arrays are plain (not reactive); `revision` is bumped after each batch, and view-models read it in their
 * `$derived` fields to recompute geometry once per batch.
 */

/** Most events asked for in one call; smaller than the Lab's page limit so one structured clone stays short. */
export const TRACE_PAGE = 5_000;

/** One step of a replica's visible state: what it was from this event on. */
export interface StateRec {
  seq: number;
  t: Micros;
  role: Role;
  term: number;
  leader: NodeId | null;
  up: boolean;
}

export interface VoteRec {
  seq: number;
  t: Micros;
  voter: NodeId;
  candidate: NodeId;
  term: number;
  pre: boolean;
  granted: boolean;
  reason: string;
}

/** The candidate's side of a vote: the reply arrived (`vote-granted` / `vote-refused`). */
export interface ReceiptRec {
  seq: number;
  t: Micros;
  candidate: NodeId;
  voter: NodeId;
  pre: boolean;
  granted: boolean;
}

export interface PreVoteRec {
  seq: number;
  t: Micros;
  node: NodeId;
  term: number;
}

export interface MessageRec {
  /** The send (or duplication) event's seq: the record's place in `messages`. */
  seq: number;
  id: number;
  copy: number;
  kind: string;
  from: NodeId;
  to: NodeId;
  sentAt: Micros;
  /** When the network planned to deliver it. */
  due: Micros;
  /** The term a Raft message carries, when it carries one. */
  term: number | null;
  /** Delivery or drop time; null while in flight. */
  end: Micros | null;
  endSeq: number;
  dropped: DropReason | null;
}

/** Parallel arrays of times and seqs (cheaper than objects for thousands of heartbeats and timer resets). */
export interface TimeSeries {
  t: Micros[];
  seq: number[];
  why: string[];
}

function series(): TimeSeries {
  return { t: [], seq: [], why: [] };
}

function cutSeries(s: TimeSeries, cut: number): void {
  let n = s.seq.length;
  while (n > 0 && s.seq[n - 1] >= cut) n--;
  s.t.length = n;
  s.seq.length = n;
  s.why.length = n;
}

function popFrom<T extends { seq: number }>(list: T[], cut: number): T[] {
  let n = list.length;
  while (n > 0 && list[n - 1].seq >= cut) n--;
  return list.splice(n);
}

/** First index i with a[i] >= v (a sorted ascending). */
export function lowerBound(a: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const INITIAL: Omit<StateRec, 'seq' | 't'> = { role: 'follower', term: 0, leader: null, up: false };

export class RaftTrace {
  /** Bumped after every change to the data below; read it in `$derived` to follow the trace. */
  revision = $state(0);
  /** Events ingested so far; also the next seq to fetch. */
  count = 0;
  /** Per node, the state changes in seq order (role, term, leader belief, up/down). */
  readonly states = new Map<NodeId, StateRec[]>();
  readonly votes: VoteRec[] = [];
  readonly receipts: ReceiptRec[] = [];
  readonly preVotes: PreVoteRec[] = [];
  /** Messages in send order (so `sentAt` is non-decreasing). */
  readonly messages: MessageRec[] = [];
  /** Messages that ended (delivered or dropped), in the order they ended. */
  private readonly ends: MessageRec[] = [];
  /** In-flight messages by id (a duplicated message has more than one copy open). */
  private readonly open = new Map<number, MessageRec[]>();
  /** Heartbeat timer fires, per leader. */
  readonly heartbeats = new Map<NodeId, TimeSeries>();
  /** Election timer fires, per node. */
  readonly electionFires = new Map<NodeId, TimeSeries>();
  /** Moments a replica's election timer restarted, with why. */
  readonly resets = new Map<NodeId, TimeSeries>();
  /** Crash, pause, partition and link windows, shaded on the timelines as on the charts. */
  readonly faults = new FaultWindows();
  /** The time of every ingested event, by seq (to turn a fork's time into a seq). */
  private readonly times: Micros[] = [];
  /** Largest send-to-end span seen, so a time window can find the messages that cross into it. */
  maxLatencyUs = 0;
  /** Virtual time of the last ingested event. */
  lastT: Micros = 0;

  private run: RunKey | null = null;
  private target = 0;
  private generation = 0;
  private running: Promise<void> | null = null;

  constructor(private readonly port: LabPort | null = null) {}

  /**
   * Follows the run a snapshot shows: cuts what is no longer true, then fetches the new events (one fetch in flight
   * at a time; later calls only raise the target). Returns when the trace has caught up with the newest target.
   */
  sync(s: Snapshot | null): Promise<void> {
    if (!s) return Promise.resolve();
    const next = runKey(s);
    if (!this.run || this.run.key !== next.key) {
      this.truncate(0);
    } else {
      let cut = Math.min(this.count, s.eventCount);
      const atUs = forkTime(this.run, next, s);
      if (atUs !== null) {
        cut = Math.min(cut, lowerBound(this.times, atUs));
      }
      if (cut < this.count) this.truncate(cut);
    }
    this.run = next;
    this.target = s.eventCount;
    if (!this.port || this.count >= this.target) return this.running ?? Promise.resolve();
    this.running ??= this.drain();
    return this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.port && this.count < this.target) {
        const gen = this.generation;
        const from = this.count;
        const batch = await this.port.events(from, Math.min(TRACE_PAGE, this.target - from));
        if (gen !== this.generation || this.count !== from) continue;
        if (batch.length === 0) break;
        this.ingestAll(batch);
      }
    } catch {
      // No run loaded yet, or the worker failed: keep what we have; the next sync tries again.
    } finally {
      this.running = null;
    }
  }

  /** Ingests events that continue the trace (seq = count, count + 1, …); others are ignored. */
  ingestAll(events: readonly TraceEvent[]): void {
    let changed = false;
    for (const e of events) {
      if (e.seq !== this.count) continue;
      this.ingest(e);
      changed = true;
    }
    if (changed) this.revision++;
  }

  /** Forgets every event with seq ≥ cut. */
  truncate(cut: number): void {
    this.generation++;
    this.faults.truncate(cut);
    if (cut <= 0) {
      this.states.clear();
      this.votes.length = 0;
      this.receipts.length = 0;
      this.preVotes.length = 0;
      this.messages.length = 0;
      this.ends.length = 0;
      this.open.clear();
      this.heartbeats.clear();
      this.electionFires.clear();
      this.resets.clear();
      this.times.length = 0;
      this.maxLatencyUs = 0;
      this.lastT = 0;
      this.count = 0;
      this.revision++;
      return;
    }
    for (const [node, list] of this.states) if ((popFrom(list, cut), list.length === 0)) this.states.delete(node);
    popFrom(this.votes, cut);
    popFrom(this.receipts, cut);
    popFrom(this.preVotes, cut);
    // Empty series are removed, so a cut trace is the same data as one that never went further.
    for (const map of [this.heartbeats, this.electionFires, this.resets]) {
      for (const [node, s] of map) if ((cutSeries(s, cut), s.t.length === 0)) map.delete(node);
    }
    let n = this.ends.length;
    while (n > 0 && this.ends[n - 1].endSeq >= cut) {
      const m = this.ends[--n];
      m.end = null;
      m.endSeq = -1;
      m.dropped = null;
      if (m.seq < cut) this.reopen(m);
    }
    this.ends.length = n;
    for (const m of popFrom(this.messages, cut)) {
      const copies = this.open.get(m.id)?.filter((c) => c !== m) ?? [];
      if (copies.length) this.open.set(m.id, copies);
      else this.open.delete(m.id);
    }
    this.times.length = Math.min(this.times.length, cut);
    this.count = Math.min(this.count, cut);
    this.lastT = this.times[this.times.length - 1] ?? 0;
    this.revision++;
  }

  private reopen(m: MessageRec): void {
    const copies = this.open.get(m.id) ?? [];
    copies.push(m);
    copies.sort((a, b) => a.due - b.due || a.copy - b.copy);
    this.open.set(m.id, copies);
  }

  /**
   * The time the timelines can be drawn up to for this snapshot: its own time once the trace has every event, else
   * the last event the trace has (a page is still on its way). Drawing to the snapshot's time while a frame's events
   * are in flight would show an empty strip before the cursor.
   */
  horizon(s: Snapshot): Micros {
    void this.revision;
    return this.count >= s.eventCount ? s.t : Math.min(s.t, this.lastT);
  }

  /** The node's state just after the last ingested event. */
  current(node: NodeId): StateRec {
    const list = this.states.get(node);
    return list?.[list.length - 1] ?? { seq: -1, t: 0, ...INITIAL };
  }

  private push(e: TraceEvent & { node: NodeId }, change: Partial<StateRec>): void {
    let list = this.states.get(e.node);
    if (!list) this.states.set(e.node, (list = []));
    const prev = this.current(e.node);
    list.push({ ...prev, ...change, seq: e.seq, t: e.t });
  }

  private mark(map: Map<NodeId, TimeSeries>, node: NodeId, e: TraceEvent, why = ''): void {
    let s = map.get(node);
    if (!s) map.set(node, (s = series()));
    s.t.push(e.t);
    s.seq.push(e.seq);
    s.why.push(why);
  }

  private ingest(e: TraceEvent): void {
    this.times.push(e.t);
    this.lastT = e.t;
    this.count++;
    this.faults.ingest(e);
    switch (e.kind) {
      case 'msg.send':
      case 'msg.dup':
        return this.send(e);
      case 'msg.deliver':
      case 'msg.drop':
        return this.end(e);
      case 'node.state':
        return this.state(e);
      case 'node.note':
        return this.note(e);
      case 'node.crash':
        return this.push(e, { up: false, leader: null });
      case 'node.boot':
        this.push(e, { up: true, role: 'follower', leader: null });
        return this.mark(this.resets, e.node, e, 'boot');
      case 'timer.fire':
        if (e.name === 'heartbeat') this.mark(this.heartbeats, e.node, e);
        else if (e.name === 'election') this.mark(this.electionFires, e.node, e);
        return;
      default:
        return;
    }
  }

  private send(e: Extract<TraceEvent, { kind: 'msg.send' | 'msg.dup' }>): void {
    const body = e.kind === 'msg.send' ? (e.body as { term?: unknown } | null) : null;
    const original = e.kind === 'msg.dup' ? this.originalOf(e.id) : undefined;
    const term = e.kind === 'msg.send' ? (typeof body?.term === 'number' ? body.term : null) : (original?.term ?? null);
    const m: MessageRec = {
      seq: e.seq,
      id: e.id,
      copy: e.kind === 'msg.dup' ? e.copy : 0,
      kind: e.msg,
      from: e.from,
      to: e.to,
      sentAt: original?.sentAt ?? e.t,
      due: e.deliverAt,
      term,
      end: null,
      endSeq: -1,
      dropped: null,
    };
    this.messages.push(m);
    this.reopen(m);
    this.maxLatencyUs = Math.max(this.maxLatencyUs, m.due - m.sentAt);
  }

  /** The first copy of a duplicated message: sent moments before, so searched from the newest. */
  private originalOf(id: number): MessageRec | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) if (this.messages[i].id === id && this.messages[i].copy === 0) return this.messages[i];
    return undefined;
  }

  private end(e: Extract<TraceEvent, { kind: 'msg.deliver' | 'msg.drop' }>): void {
    const copies = this.open.get(e.id);
    const m = copies?.shift();
    if (!m) return;
    if (copies!.length === 0) this.open.delete(e.id);
    m.end = e.t;
    m.endSeq = e.seq;
    m.dropped = e.kind === 'msg.drop' ? e.reason : null;
    this.ends.push(m);
    this.maxLatencyUs = Math.max(this.maxLatencyUs, e.t - m.sentAt);
    // Figure 2: a follower (or candidate) restarts its election timer on an AppendEntries from a current leader.
    if (e.kind === 'msg.deliver' && m.kind === 'append') {
      const s = this.current(e.to);
      if (s.up && s.role !== 'leader' && m.term !== null && m.term >= s.term) this.mark(this.resets, e.to, e, `AppendEntries from ${e.from}`);
    }
  }

  private state(e: Extract<TraceEvent, { kind: 'node.state' }>): void {
    const prev = this.current(e.node);
    switch (e.key) {
      case 'role': {
        const role = e.value as Role;
        this.push(e, { role });
        if (role === 'candidate') this.mark(this.resets, e.node, e, 'campaign');
        else if (role === 'follower' && prev.role === 'leader') this.mark(this.resets, e.node, e, 'stepped down');
        return;
      }
      case 'term':
        this.push(e, { term: Number(e.value) });
        // A candidate whose timer fires again campaigns in the next term without a new role event.
        if (prev.role === 'candidate' && Number(e.value) > prev.term) this.mark(this.resets, e.node, e, 'campaign');
        return;
      case 'leader':
        return this.push(e, { leader: (e.value as NodeId | null) ?? null });
      default:
        return;
    }
  }

  private note(e: Extract<TraceEvent, { kind: 'node.note' }>): void {
    const d = (e.data ?? {}) as Record<string, unknown>;
    switch (e.name) {
      case 'vote-grant':
      case 'vote-refuse': {
        const granted = e.name === 'vote-grant';
        const pre = d.pre === true;
        this.votes.push({ seq: e.seq, t: e.t, voter: e.node, candidate: String(d.to), term: Number(d.term), pre, granted, reason: String(d.reason ?? '') });
        if (granted && !pre) this.mark(this.resets, e.node, e, `granted its vote to ${String(d.to)}`);
        return;
      }
      case 'vote-granted':
      case 'vote-refused':
        this.receipts.push({ seq: e.seq, t: e.t, candidate: e.node, voter: String(d.from), pre: d.pre === true, granted: e.name === 'vote-granted' });
        return;
      case 'pre-vote':
        this.preVotes.push({ seq: e.seq, t: e.t, node: e.node, term: Number(d.term) });
        this.mark(this.resets, e.node, e, 'pre-vote');
        return;
      default:
        return;
    }
  }
}

