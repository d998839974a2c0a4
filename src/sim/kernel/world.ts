import { assert, assertNever, fail } from './assert.ts';
import type { Checker, CheckView, Finding } from './checker.ts';
import { cloneShared } from './clone.ts';
import { diskCrash, diskCreate, diskOpBytes, diskView, diskWrite, type DiskState } from './disk.ts';
import { heapCreate, heapPeek, heapPop, heapPush, type HeapState } from './heap.ts';
import { metricCount, metricObserve, metricsCreate, type MetricsState } from './metrics.ts';
import { isCut, linkKey, netCreate, netHeal, netPartition, netSetLink, partitionGroups, transmit, transmitLocal, type NetState } from './network.ts';
import { RngStreams } from './rng.ts';
import type { Micros } from './time.ts';
import { EffectBuffer } from './effects.ts';
import { TRACE_KINDS, TraceRecorder, type DropReason, type FaultSource, type TraceEvent, type TraceKind, type TraceState } from './trace.ts';
import type { Action, DiskOp, Fault, HostId, LinkSpec, Message, NodeBehavior, NodeId, NodeInput, NodeStatus } from './types.ts';

/** Limits on everything (TigerBeetle style); their relations are asserted when a world is built. */
export const LIMITS = {
  nodesMax: 20_000,
  heapItemsMax: 2_000_000,
  traceEventsMax: 50_000_000,
  inboxMax: 10_000,
  messageBytesMax: 16 * 1024 * 1024,
  violationsMax: 1_000,
  stepsPerCallMax: 100_000_000,
  /** Highest disk or NIC rate a host may declare (1 TB/s): a bound, not a realistic figure. */
  hostBytesPerSMax: 1e12,
} as const;

export interface NodeSpec {
  id: NodeId;
  kind: string;
  config: unknown;
  /**
   * The host (broker machine) the node runs on; default: the node's own id. Nodes of one host crash, restart, pause
   * and resume together, sit on the same side of every partition, talk to each other locally, and share the host's
   * disk and NIC. A host id may equal a node id only when that node lives on that host.
   */
  host?: HostId;
}

/** A host's resources: bytes per second its disk writes and its NIC sends; 0 = unlimited. */
export interface HostSpec {
  diskBytesPerS: number;
  nicBytesPerS: number;
}

/**
 * Where each host's disk and NIC stand: the time each finishes the work already queued on it (at or before now when
 * idle). Part of the world state, so checkpoints carry it and a seek re-creates the same queueing. A crash leaves both
 * as they are: the device finishes what it was handed, and a write is applied to the simulated disk when it is made.
 */
export interface HostLoad {
  diskBusyUntil: Micros;
  nicBusyUntil: Micros;
}

/** The host ids of a topology, unique, in topology order of first appearance (a node without `host` is its own). */
export function hostIdsOf(nodes: readonly Pick<NodeSpec, 'id' | 'host'>[]): HostId[] {
  return [...new Set(nodes.map((n) => n.host ?? n.id))];
}

/**
 * Why a topology's hosts are inconsistent, or null: a host id that is the id of a node living on another host would
 * make every fault or link naming it ambiguous.
 */
export function hostClash(nodes: readonly Pick<NodeSpec, 'id' | 'host'>[]): string | null {
  const hostOf = new Map(nodes.map((n) => [n.id, n.host ?? n.id]));
  for (const n of nodes) {
    const h = n.host ?? n.id;
    const other = hostOf.get(h);
    if (other !== undefined && other !== h) return `host id ${h} is the id of a node on host ${other}`;
  }
  return null;
}

/** A fully validated, normalised world description (the scenario schema produces it). Times are microseconds. */
export interface WorldSpec {
  scenario: string;
  seed: string;
  nodes: NodeSpec[];
  link: LinkSpec;
  links: { from: NodeId | '*'; to: NodeId | '*'; set: Partial<LinkSpec>; symmetric: boolean }[];
  faults: { at: Micros; fault: Fault; source: FaultSource }[];
  bugs: string[];
  durationUs: Micros;
  /** What a paused node does with messages: hold them until resumed, or drop them. Its timers are always held. */
  pauseMode: 'queue' | 'drop';
  /** Disk and NIC rates per host id; a host left out (or the whole field) has unlimited disk and NIC. */
  hosts?: Record<HostId, HostSpec>;
}

type DeliverItem = Extract<Scheduled, { type: 'deliver' }>;

type Scheduled =
  /**
   * `leaveAt`: when the message leaves its sender (its step's work and synced writes done, out of the NIC): a crash of
   * the sender before then marks it `unsent`, and it is dropped as `sender-crashed` when it would have arrived.
   * `workUntil`: when the work the sender did before sending (`send`'s `after`) is done; a pause before then freezes
   * that work, so the item is `held` (skipped) and a copy, later by the pause's length, queued on resume.
   */
  | {
      t: Micros; seq: number; type: 'deliver'; msg: Message; copy: number; lost: boolean; cutAtSend: boolean;
      leaveAt: Micros; workUntil: Micros; unsent: boolean; held: boolean;
    }
  | { t: Micros; seq: number; type: 'timer'; node: NodeId; name: string; incarnation: number }
  | { t: Micros; seq: number; type: 'fault'; fault: Fault; source: FaultSource };

export interface NodeRecord {
  id: NodeId;
  kind: string;
  status: NodeStatus;
  /** Bumped on every crash; timers of an earlier incarnation never fire. */
  incarnation: number;
  /** The node's memory; null while crashed. */
  memory: unknown;
  disk: DiskState;
  /**
   * Live timers by name. `at` is when the timer is due; `seq` and `itemAt` are the heap item standing for it. Re-setting
   * a timer to a later time (an election timer reset by every heartbeat) only moves `at`: when the item comes due
   * early it re-arms itself at `at`, so a reset costs no heap push and leaves no stale item behind.
   */
  timers: Record<string, { seq: number; itemAt: Micros; at: Micros }>;
  /** When the node was paused (-1 when it is not), and the messages whose sending work the pause froze. */
  pausedAt: Micros;
  heldSends: DeliverItem[];
  /**
   * Input held while paused (pauseMode 'queue'). A held timer keeps its heap seq and stays in `timers` until it is
   * handled, so a timer the node cancels or re-sets while working through the backlog is skipped as stale.
   */
  inbox: (NodeInput & { timerSeq?: number })[];
}

export interface Violation {
  t: Micros;
  seq: number;
  checker: string;
  message: string;
  evidence: unknown;
}

/** All mutable world state: plain data, so one `structuredClone` is a checkpoint. */
export interface WorldState {
  t: Micros;
  steps: number;
  heap: HeapState<Scheduled>;
  nodes: Record<NodeId, NodeRecord>;
  net: NetState;
  metrics: MetricsState;
  checks: Record<string, unknown>;
  violations: Violation[];
  violationCount: number;
  /** Index of the next user action to apply. */
  nextAction: number;
  /** True once `run.end` was recorded: the run is over. */
  ended: boolean;
  /** The role each live node last announced (`node.state` key `role`) and the event seq, to resolve `@leader`. */
  roles: Record<NodeId, { role: string; seq: number }>;
  /** Disk and NIC queues per host id (every host has an entry; it only moves on hosts with a rate). */
  hostLoad: Record<HostId, HostLoad>;
}

export interface Checkpoint {
  state: WorldState;
  rng: Record<string, object>;
  trace: TraceState;
}

export interface WorldOptions {
  behaviors: Readonly<Record<string, NodeBehavior<any, any>>>;
  checkers: readonly Checker[];
  keepEvents: boolean;
  /** Called for each event after checkers ran; used by the Lab to stop at a kind. */
  onEvent?: (e: TraceEvent) => void;
}

export class World {
  readonly state: WorldState;
  readonly rng: RngStreams;
  readonly trace: TraceRecorder;
  readonly nodeIds: readonly NodeId[];
  /** Host ids, unique, in topology order of first appearance; equal to `nodeIds` when no node names a host. */
  readonly hostIds: readonly HostId[];
  /** The host of each node (hot path: every send and delivery looks it up). */
  private readonly hostByNode = new Map<NodeId, HostId>();
  /** The nodes of each host, in topology order. */
  private readonly nodesByHost = new Map<HostId, NodeId[]>();
  /** Disk and NIC rates of hosts that have one (bytes per second, > 0). */
  private readonly diskRate = new Map<HostId, number>();
  private readonly nicRate = new Map<HostId, number>();
  /** True when some host holds more than one node: only then can a fault's ids collapse onto one host. */
  private readonly sharedHosts: boolean;
  private actions: Action[];
  private readonly view: CheckView;
  private lastKind: TraceKind | null = null;
  /** The one effect buffer, pointed at the node that steps (see EffectBuffer); made on first use. */
  private effects: EffectBuffer | null = null;
  /** Checkers by the event kinds they look at, in the order given. */
  private readonly checkersByKind = new Map<TraceKind, Checker[]>();

  constructor(
    readonly spec: WorldSpec,
    private readonly opts: WorldOptions,
    actions: readonly Action[] = [],
    from?: { checkpoint: Checkpoint; events: TraceEvent[] },
  ) {
    if (!(spec.nodes.length >= 1 && spec.nodes.length <= LIMITS.nodesMax)) fail(`a world needs 1..${LIMITS.nodesMax} nodes`);
    assert(LIMITS.inboxMax * spec.nodes.length <= LIMITS.traceEventsMax * 10, 'inbox limit too large for the trace limit');
    assert(Number.isInteger(spec.durationUs) && spec.durationUs > 0, 'run duration must be a positive integer');
    this.nodeIds = spec.nodes.map((n) => n.id);
    assert(new Set(this.nodeIds).size === this.nodeIds.length, 'node ids must be unique');
    for (const n of spec.nodes) assert(opts.behaviors[n.kind], `no behaviour for node kind ${n.kind}`);
    this.hostIds = hostIdsOf(spec.nodes);
    this.sharedHosts = this.hostIds.length < this.nodeIds.length;
    this.indexHosts(spec);
    this.actions = sortActions(actions);
    for (const kind of TRACE_KINDS) {
      const list = opts.checkers.filter((c) => !c.kinds || c.kinds.includes(kind));
      if (list.length > 0) this.checkersByKind.set(kind, list);
    }
    this.view = {
      t: 0,
      status: (id) => this.node(id).status,
      memory: (id) => this.node(id).memory,
      nodeIds: () => this.nodeIds,
    };
    Object.defineProperty(this.view, 't', { get: () => this.state.t });

    if (from) {
      const cp = cloneShared(from.checkpoint);
      this.state = cp.state;
      this.rng = new RngStreams(spec.seed, cp.rng);
      this.trace = new TraceRecorder(opts.keepEvents, LIMITS.traceEventsMax, cp.trace, opts.keepEvents ? from.events.slice(0, cp.trace.count) : undefined);
      return;
    }
    this.rng = new RngStreams(spec.seed);
    this.trace = new TraceRecorder(opts.keepEvents, LIMITS.traceEventsMax);
    this.state = {
      t: 0,
      steps: 0,
      heap: heapCreate<Scheduled>(),
      nodes: {},
      net: netCreate(spec.link),
      metrics: metricsCreate(),
      checks: {},
      violations: [],
      violationCount: 0,
      nextAction: 0,
      ended: false,
      roles: {},
      hostLoad: {},
    };
    for (const h of this.hostIds) this.state.hostLoad[h] = { diskBusyUntil: 0, nicBusyUntil: 0 };
    for (const c of opts.checkers) this.state.checks[c.name] = c.init();
    for (const l of spec.links) netSetLink(this.state.net, this.hostIds, this.hostRef(l.from), this.hostRef(l.to), l.set, l.symmetric);
    for (const f of spec.faults) {
      if (!(f.at <= spec.durationUs)) fail(`fault at ${f.at}us is after the end of the run`);
      heapPush(this.state.heap, { t: f.at, seq: 0, type: 'fault', fault: f.fault, source: f.source }, LIMITS.heapItemsMax);
    }
    this.emit({ t: this.state.t, seq: 0, kind: 'run.start', scenario: spec.scenario, seed: spec.seed, nodes: [...this.nodeIds] });
    for (const n of spec.nodes) {
      this.state.nodes[n.id] = { id: n.id, kind: n.kind, status: 'up', incarnation: 0, memory: null, disk: diskCreate(), timers: {}, inbox: [], pausedAt: -1, heldSends: [] };
      this.boot(n.id);
    }
  }

  get t(): Micros {
    return this.state.t;
  }

  get steps(): number {
    return this.state.steps;
  }

  /** True once nothing is left to do within the run's duration and `run.end` was recorded. */
  get done(): boolean {
    return this.state.ended;
  }

  node(id: NodeId): NodeRecord {
    const n = this.state.nodes[id];
    if (!(n)) fail(`unknown node ${id}`);
    return n;
  }

  /** The host a node runs on. */
  /** True when `node` is a node of this world. */
  hasNode(node: NodeId): boolean {
    return this.hostByNode.has(node);
  }

  hostOf(node: NodeId): HostId {
    const h = this.hostByNode.get(node);
    if (h === undefined) fail(`unknown node ${node}`);
    return h;
  }

  /** The nodes of a host, in topology order. */
  nodesOn(host: HostId): readonly NodeId[] {
    const list = this.nodesByHost.get(host);
    if (list === undefined) fail(`unknown host ${host}`);
    return list;
  }

  /** A host's status: its nodes' common status, or `mixed` when they differ (faults apply to whole hosts, so rare). */
  hostStatus(host: HostId): NodeStatus | 'mixed' {
    const nodes = this.nodesOn(host);
    const first = this.node(nodes[0]).status;
    for (let i = 1; i < nodes.length; i++) if (this.node(nodes[i]).status !== first) return 'mixed';
    return first;
  }

  /** How long the work already queued on a host's disk and NIC takes to drain from now, in microseconds. */
  hostBacklog(host: HostId): { diskUs: Micros; nicUs: Micros } {
    const load = this.state.hostLoad[host];
    if (load === undefined) fail(`unknown host ${host}`);
    return { diskUs: Math.max(0, load.diskBusyUntil - this.state.t), nicUs: Math.max(0, load.nicBusyUntil - this.state.t) };
  }

  /** Node metrics plus what observer checkers measured (their lists become sample sets, their numbers counters). */
  metrics(): MetricsState {
    const m = this.state.metrics;
    const out: MetricsState = { counters: { ...m.counters }, samples: { ...m.samples }, samplesDropped: { ...m.samplesDropped } };
    for (const c of this.opts.checkers) {
      if (!c.metrics) continue;
      for (const [name, v] of Object.entries(c.metrics(this.state.checks[c.name]))) {
        if (Array.isArray(v)) out.samples[name] = v;
        else out.counters[name] = v;
      }
    }
    return out;
  }

  checkpoint(): Checkpoint {
    return cloneShared({ state: this.state, rng: this.rng.save(), trace: this.trace.state() });
  }

  /** The kind of the last event the last step recorded (for "step until kind"). */
  get lastEventKind(): TraceKind | null {
    return this.lastKind;
  }

  /**
   * Processes one unit of work — a due user action, one scheduled item, or, once nothing is left before the run's
   * duration, the end of the run (the clock moves to the duration and `run.end` is recorded). Returns false when the
   * run is over.
   */
  step(): boolean {
    const work = this.nextWork();
    if (work === null) return false;
    this.perform(work);
    return true;
  }

  /** Carries out one unit of work (see `step`), found by `nextWork`. */
  private perform(work: 'action' | 'end' | Scheduled): void {
    this.state.steps++;
    if (work === 'end') {
      this.state.t = this.spec.durationUs;
      this.state.ended = true;
      this.emit({ t: this.state.t, seq: 0, kind: 'run.end' });
      return;
    }
    if (work === 'action') {
      const a = this.actions[this.state.nextAction++];
      this.state.t = Math.max(this.state.t, a.at);
      this.applyFault(a, 'user');
      return;
    }
    const item = heapPop(this.state.heap)!;
    assert(item === work, 'the item popped is the one peeked');
    if (!(item.t >= this.state.t)) fail(`event at ${item.t} is before now ${this.state.t}`);
    this.state.t = item.t;
    this.dispatch(item);
  }

  /** Virtual time of the next unit of work, or null when the run is over. */
  nextTime(): Micros | null {
    const work = this.nextWork();
    return work === null ? null : this.workTime(work);
  }

  /**
   * Runs every unit of work scheduled at or before `t` (bounded by the run's duration), then sets the clock to `t`.
   * `afterStep` runs after each step (the Lab takes checkpoints there).
   */
  runUntil(t: Micros, afterStep?: () => void): void {
    const target = Math.min(t, this.spec.durationUs);
    let budget = LIMITS.stepsPerCallMax;
    for (;;) {
      // One look at the next unit of work serves both the bound and the step.
      const work = this.nextWork();
      if (work === null || this.workTime(work) > target) break;
      if (!(--budget > 0)) fail(`more than ${LIMITS.stepsPerCallMax} steps in one call`);
      this.perform(work);
      afterStep?.();
    }
    if (target > this.state.t) this.state.t = target;
  }

  /**
   * Forks the timeline: user actions not yet applied are dropped and `action` becomes the next one. It must be
   * pinned to now (`at` = current time, `step` = steps taken), so `step()` applies it at once and a replay applies it
   * between the same two events.
   */
  fork(action: Action): void {
    assert(action.at === this.state.t && action.step === this.state.steps, 'a forked action must be pinned to now');
    this.actions = [...this.actions.slice(0, this.state.nextAction), action];
  }

  /** The user actions this world was given or forked with, applied or not. */
  get actionList(): readonly Action[] {
    return this.actions;
  }

  /**
   * Whether `fault` can apply now; returns the reason it cannot, or null. Faults are judged per host (the fault's
   * node, once resolved, names a host): a crash needs a node of the host still running or paused, a restart a crashed
   * one, a pause a running one, a resume a paused one.
   */
  cannotApply(given: Fault): string | null {
    const fault = this.resolve(given);
    if (fault === null) return `no node has that role right now (${describeRefs(given)})`;
    const known = (id: HostId) => this.nodesByHost.has(id);
    const any = (host: HostId, status: NodeStatus) => this.nodesOn(host).some((id) => this.node(id).status === status);
    const unit = this.sharedHosts ? 'hosts' : 'nodes';
    switch (fault.kind) {
      case 'crash':
        if (!known(fault.node)) return `unknown node ${fault.node}`;
        return this.nodesOn(fault.node).every((id) => this.node(id).status === 'crashed') ? `${fault.node} is already crashed` : null;
      case 'restart':
        if (!known(fault.node)) return `unknown node ${fault.node}`;
        return !any(fault.node, 'crashed') ? `${fault.node} is not crashed` : null;
      case 'pause':
        if (!known(fault.node)) return `unknown node ${fault.node}`;
        return !any(fault.node, 'up') ? `${fault.node} is not running` : null;
      case 'resume':
        if (!known(fault.node)) return `unknown node ${fault.node}`;
        return !any(fault.node, 'paused') ? `${fault.node} is not paused` : null;
      case 'partition': {
        if (this.hostIds.length < 2) return `a partition needs at least two ${unit}`;
        if (fault.node !== undefined && !known(fault.node)) return `unknown node ${fault.node}`;
        if (fault.shape === 'bridge' && this.hostIds.length < 3) return `a bridge needs at least three ${unit}`;
        if (fault.shape === 'groups') {
          if (!fault.groups || fault.groups.length < 2) return 'a groups partition needs at least two groups';
          const bad = fault.groups.flat().find((n) => !known(n));
          if (bad !== undefined) return `unknown node ${bad} in partition groups`;
        }
        return null;
      }
      case 'heal':
        return null;
      case 'link':
        if (fault.from !== '*' && !known(fault.from)) return `unknown node ${fault.from}`;
        if (fault.to !== '*' && !known(fault.to)) return `unknown node ${fault.to}`;
        return null;
      default:
        return assertNever(fault, 'fault');
    }
  }

  /** In-flight messages (undelivered copies), oldest first, at most `limit`. */
  inFlight(limit: number): (Message & { copy: number; doomed: boolean })[] {
    const out: (Message & { copy: number; doomed: boolean })[] = [];
    for (const it of this.state.heap.items) {
      if (it.type !== 'deliver' || it.held) continue;
      const doomed = it.lost || it.unsent || it.cutAtSend || isCut(this.state.net, this.hostOf(it.msg.from), this.hostOf(it.msg.to));
      out.push({ ...it.msg, deliverAt: it.t, copy: it.copy, doomed });
    }
    out.sort((a, b) => a.sentAt - b.sentAt || a.id - b.id || a.copy - b.copy);
    return out.slice(0, limit);
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private nextWork(): 'action' | 'end' | Scheduled | null {
    if (this.state.ended) return null;
    const head = heapPeek(this.state.heap);
    const a = this.actions[this.state.nextAction];
    if (a && a.at <= this.spec.durationUs) {
      const due = a.step !== undefined ? this.state.steps >= a.step || !head || head.t > a.at : !head || head.t > a.at;
      if (due) return 'action';
    }
    if (!head || head.t > this.spec.durationUs) return 'end';
    return head;
  }

  private workTime(work: 'action' | 'end' | Scheduled): Micros {
    if (work === 'end') return this.spec.durationUs;
    return work === 'action' ? this.actions[this.state.nextAction].at : work.t;
  }

  /**
   * Records one event and runs the checkers that watch its kind. Callers build the event whole — `t` now, `seq` 0 for
   * the recorder to number — so recording it copies nothing.
   */
  private emit(e: TraceEvent): TraceEvent {
    this.trace.record(e);
    this.lastKind = e.kind;
    if (e.kind === 'node.state' && e.key === 'role') this.state.roles[e.node] = { role: String(e.value), seq: e.seq };
    else if (e.kind === 'node.crash') delete this.state.roles[e.node];
    const checkers = this.checkersByKind.get(e.kind);
    if (checkers !== undefined && e.kind !== 'check.violation') {
      for (const c of checkers) {
        const finding = c.onEvent(this.state.checks[c.name], e, this.view);
        if (finding) this.violate(c.name, finding);
      }
    }
    this.opts.onEvent?.(e);
    return e;
  }

  private violate(checker: string, f: Finding): void {
    const e = this.emit({ t: this.state.t, seq: 0, kind: 'check.violation', checker, message: f.message, evidence: f.evidence });
    this.state.violationCount++;
    if (this.state.violations.length < LIMITS.violationsMax) {
      this.state.violations.push({ t: e.t, seq: e.seq, checker, message: f.message, evidence: f.evidence });
    }
  }

  private dispatch(item: Scheduled): void {
    switch (item.type) {
      case 'deliver':
        return this.deliver(item);
      case 'timer': {
        const n = this.node(item.node);
        const rec = n.timers[item.name];
        if (n.incarnation !== item.incarnation || rec === undefined || rec.seq !== item.seq) return; // cancelled or stale
        if (rec.at > item.t) return this.armTimer(n, item.name, rec.at); // postponed since it was queued
        if (n.status === 'paused') return this.hold(n, { type: 'timer', name: item.name, timerSeq: item.seq });
        delete n.timers[item.name];
        this.emit({ t: this.state.t, seq: 0, kind: 'timer.fire', node: n.id, name: item.name });
        return this.runNode(n, { type: 'timer', name: item.name });
      }
      case 'fault':
        return this.applyFault(item.fault, item.source);
      default:
        assertNever(item, 'scheduled item');
    }
  }

  private deliver(item: DeliverItem): void {
    if (item.held) return; // its sender was paused before its work was done: a later copy stands for it
    const { msg } = item;
    const n = this.node(msg.to);
    let drop: DropReason | null = null;
    if (item.unsent) drop = 'sender-crashed';
    else if (item.lost) drop = 'loss';
    else if (item.cutAtSend || isCut(this.state.net, this.hostByNode.get(msg.from)!, this.hostByNode.get(msg.to)!)) drop = 'partition';
    else if (n.status === 'crashed') drop = 'node-down';
    else if (n.status === 'paused' && this.spec.pauseMode === 'drop') drop = 'paused';
    else if (n.status === 'paused' && n.inbox.length >= LIMITS.inboxMax) drop = 'inbox-full';
    if (drop !== null) return void this.emit({ t: this.state.t, seq: 0, kind: 'msg.drop', id: msg.id, from: msg.from, to: msg.to, msg: msg.kind, reason: drop });
    this.emit({ t: this.state.t, seq: 0, kind: 'msg.deliver', id: msg.id, from: msg.from, to: msg.to, msg: msg.kind, sentAt: msg.sentAt });
    if (n.status === 'paused') n.inbox.push({ type: 'message', msg });
    else this.runNode(n, { type: 'message', msg });
  }

  /** A paused process's own timers are never lost: they fire late, on resume, whatever the pause mode says of messages. */
  private hold(n: NodeRecord, input: NodeInput & { timerSeq?: number }): void {
    n.inbox.push(input);
  }

  /**
   * Resolves a fault to the hosts it acts on, or null when a role reference names no node. Role references
   * (`@leader`, `@follower`, any `@<role>`, and `@crashed`) resolve to a node first: `@crashed` is the first crashed
   * node in topology order, `@leader` the live node that most recently announced itself leader, any other role the
   * first live node in topology order that holds it. Then every node id — the fault's `node`, partition group entries,
   * a link fault's `from` / `to` — becomes its host's id; host ids stay as they are, and unknown ids too (for
   * `cannotApply` to name). In partition groups, `@rest` stands for every host no group names, so "the leader and one
   * follower against the rest" is data. Resolution happens when the fault applies, so a scenario can say "crash the
   * leader" without knowing which node the seed made leader. When no node names a host, host ids are node ids and
   * only role references change.
   */
  resolve(fault: Fault): Fault | null {
    const one = (ref: NodeId): NodeId | null => {
      if (!ref.startsWith('@')) return ref;
      const slash = ref.indexOf('/');
      const role = slash < 0 ? ref.slice(1) : ref.slice(1, slash);
      const group = slash < 0 ? null : ref.slice(slash + 1);
      const inGroup = (id: NodeId) => group === null || this.behavior(this.node(id)).group?.(this.node(id).memory) === group;
      if (role === 'crashed') return this.nodeIds.find((id) => this.node(id).status === 'crashed' && (group === null || this.crashedIn(id, group))) ?? null;
      let best: NodeId | null = null;
      let bestSeq = -1;
      for (const id of this.nodeIds) {
        const r = this.state.roles[id];
        if (!r || r.role !== role || this.node(id).status === 'crashed' || !inGroup(id)) continue;
        if (role !== 'leader') return id;
        if (r.seq > bestSeq) [best, bestSeq] = [id, r.seq];
      }
      return best;
    };
    const host = (ref: NodeId): HostId | null => {
      const id = one(ref);
      return id === null ? null : this.hostRef(id);
    };
    if ('node' in fault && fault.node !== undefined) {
      const node = host(fault.node);
      if (node === null) return null;
      if (node !== fault.node) fault = { ...fault, node };
    }
    if (fault.kind === 'partition' && fault.groups) {
      // Two nodes of one host named in one group are one entry; without shared hosts the list is kept as written.
      const named = fault.groups.map((g) => {
        const hosts = g.filter((r) => r !== '@rest').map(host);
        return this.sharedHosts ? [...new Set(hosts)] : hosts;
      });
      if (named.some((g) => g.includes(null))) return null;
      const listed = new Set(named.flat());
      const rest = this.hostIds.filter((id) => !listed.has(id));
      const groups = fault.groups.map((g, i) => (g.includes('@rest') ? [...(named[i] as HostId[]), ...rest] : (named[i] as HostId[])));
      fault = { ...fault, groups };
    }
    if (fault.kind === 'link' && this.sharedHosts) {
      const from = fault.from === '*' ? '*' : this.hostRef(fault.from);
      const to = fault.to === '*' ? '*' : this.hostRef(fault.to);
      if (from !== fault.from || to !== fault.to) fault = { ...fault, from, to };
    }
    return fault;
  }

  /** A crashed node has no memory to ask; its group is read from its spec's config (`name`), as Raft configs give it. */
  private crashedIn(id: NodeId, group: string): boolean {
    const cfg = this.spec.nodes.find((n) => n.id === id)?.config as { name?: unknown } | undefined;
    return cfg?.name === group;
  }

  /** The host a fault or link names: a node id becomes its host's id; a host id, `'*'` or an unknown id stays. */
  private hostRef(ref: NodeId | '*'): HostId {
    if (ref === '*' || this.nodesByHost.has(ref)) return ref;
    return this.hostByNode.get(ref) ?? ref;
  }

  /** Builds the host indexes and rates from the spec, checking hosts the way the scenario schema does. */
  private indexHosts(spec: WorldSpec): void {
    const clash = hostClash(spec.nodes);
    if (clash !== null) fail(clash);
    for (const n of spec.nodes) {
      if (n.host !== undefined && !(typeof n.host === 'string' && n.host.length > 0)) fail(`node ${n.id}: host must be a non-empty string`);
      const h = n.host ?? n.id;
      this.hostByNode.set(n.id, h);
      const list = this.nodesByHost.get(h);
      if (list) list.push(n.id);
      else this.nodesByHost.set(h, [n.id]);
    }
    for (const [h, r] of Object.entries(spec.hosts ?? {})) {
      if (!this.nodesByHost.has(h)) fail(`resources for unknown host ${h}`);
      for (const [name, v] of [['diskBytesPerS', r.diskBytesPerS], ['nicBytesPerS', r.nicBytesPerS]] as const) {
        if (!(Number.isInteger(v) && v >= 0 && v <= LIMITS.hostBytesPerSMax)) fail(`host ${h}: ${name} must be an integer within 0..${LIMITS.hostBytesPerSMax}, got ${v}`);
      }
      if (r.diskBytesPerS > 0) this.diskRate.set(h, r.diskBytesPerS);
      if (r.nicBytesPerS > 0) this.nicRate.set(h, r.nicBytesPerS);
    }
    assert(this.nodesByHost.size === this.hostIds.length, 'every host has nodes');
  }

  private applyFault(given: Fault | Action, source: FaultSource): void {
    this.emit({ t: this.state.t, seq: 0, kind: 'fault', source, fault: given });
    if (this.cannotApply(given) !== null) return; // recorded, but it changes nothing (e.g. restarting a running node)
    const fault = this.resolve(given)!;
    // Node faults act on every node of the host, in topology order, skipping those the fault does not fit (with
    // faults applied per host, a host's nodes share one status, so none are skipped in practice).
    switch (fault.kind) {
      case 'crash':
        for (const id of this.nodesOn(fault.node)) if (this.node(id).status !== 'crashed') this.crash(this.node(id), fault.loseUnsynced === true);
        return;
      case 'restart':
        for (const id of this.nodesOn(fault.node)) {
          if (this.node(id).status !== 'crashed') continue;
          this.node(id).status = 'up';
          this.boot(id);
        }
        return;
      case 'pause':
        for (const id of this.nodesOn(fault.node)) {
          if (this.node(id).status !== 'up') continue;
          this.pause(this.node(id));
        }
        return;
      case 'resume':
        for (const id of this.nodesOn(fault.node)) if (this.node(id).status === 'paused') this.resume(this.node(id));
        return;
      case 'partition': {
        const groups = partitionGroups(fault.shape, this.hostIds, this.rng.stream('faults'), fault.node, fault.groups);
        netPartition(this.state.net, this.hostIds, fault.shape, groups, fault.oneWay === true);
        this.emit({ t: this.state.t, seq: 0, kind: 'net.partition', shape: fault.shape, groups, oneWay: fault.oneWay === true });
        return;
      }
      case 'heal':
        netHeal(this.state.net);
        this.emit({ t: this.state.t, seq: 0, kind: 'net.heal' });
        return;
      case 'link':
        netSetLink(this.state.net, this.hostIds, fault.from, fault.to, fault.set, fault.symmetric === true);
        this.emit({ t: this.state.t, seq: 0, kind: 'net.link', from: fault.from, to: fault.to, set: fault.set });
        return;
      default:
        assertNever(fault, 'fault');
    }
  }

  /** A crash loses memory, timers and held input, and keeps the disk (less its unsynced writes on a power cut). */
  private crash(n: NodeRecord, loseUnsynced: boolean): void {
    const lost = diskCrash(n.disk, loseUnsynced);
    n.status = 'crashed';
    n.memory = null;
    n.incarnation++;
    n.timers = {};
    n.inbox = [];
    // Messages it sent that had not left yet (waiting on its work, a synced write or its NIC) go down with it; those a
    // pause froze are dropped at once.
    const now = this.state.t;
    for (const it of this.state.heap.items) if (it.type === 'deliver' && it.leaveAt > now && it.msg.from === n.id) it.unsent = true;
    for (const it of n.heldSends) this.requeue(it, now, true);
    n.heldSends = [];
    n.pausedAt = -1;
    this.emit({ t: this.state.t, seq: 0, kind: 'node.crash', node: n.id, lostWrites: lost });
  }

  /** Pauses a running node: its input is held, and so is the work before any message it has not sent yet. */
  private pause(n: NodeRecord): void {
    n.status = 'paused';
    const now = this.state.t;
    n.pausedAt = now;
    for (const it of this.state.heap.items) {
      if (it.type !== 'deliver' || it.workUntil <= now || it.held || it.unsent || it.msg.from !== n.id) continue;
      it.held = true;
      n.heldSends.push(it);
    }
    this.emit({ t: now, seq: 0, kind: 'node.pause', node: n.id });
  }

  /**
   * Queues again a delivery a pause held: later by the pause's length (`at` is the original time plus it), or at once
   * and `unsent` when the sender crashed while paused. Each link stays FIFO: nothing sent after it arrives before it.
   */
  private requeue(it: DeliverItem, at: Micros, unsent: boolean): void {
    const shift = at - it.t;
    const t = unsent ? this.state.t : at;
    const moved = unsent ? 0 : shift;
    const msg: Message = { ...it.msg, deliverAt: t };
    heapPush(this.state.heap, { ...it, seq: 0, t, msg, leaveAt: it.leaveAt + moved, workUntil: it.workUntil + moved, unsent: unsent || it.unsent, held: false }, LIMITS.heapItemsMax);
    if (unsent) return;
    const net = this.state.net;
    const fromHost = this.hostByNode.get(it.msg.from)!;
    const toHost = this.hostByNode.get(it.msg.to)!;
    if (fromHost === toHost) {
      const k = linkKey(it.msg.from, it.msg.to);
      net.localLastDeliverAt[k] = Math.max(net.localLastDeliverAt[k] ?? 0, t);
    } else {
      const k = linkKey(fromHost, toHost);
      net.lastDeliverAt[k] = Math.max(net.lastDeliverAt[k] ?? 0, t);
    }
  }

  /** Resumes a paused node and works through the input it held, in order. */
  private resume(n: NodeRecord): void {
    n.status = 'up';
    const shift = this.state.t - n.pausedAt;
    for (const it of n.heldSends) this.requeue(it, it.t + shift, false);
    n.heldSends = [];
    n.pausedAt = -1;
    const held = n.inbox;
    n.inbox = [];
    this.emit({ t: this.state.t, seq: 0, kind: 'node.resume', node: n.id, queued: held.length });
    for (const held1 of held) {
      if (n.status !== 'up') break;
      const { timerSeq, ...input } = held1;
      if (input.type === 'timer') {
        const rec = n.timers[input.name];
        if (rec?.seq !== timerSeq) continue; // cancelled or re-set by an earlier input of the backlog
        if (rec.at > this.state.t) {
          this.armTimer(n, input.name, rec.at); // postponed by an earlier input of the backlog
          continue;
        }
        delete n.timers[input.name];
        this.emit({ t: this.state.t, seq: 0, kind: 'timer.fire', node: n.id, name: input.name });
      }
      this.runNode(n, input as NodeInput);
    }
  }

  private boot(id: NodeId): void {
    const n = this.node(id);
    const spec = this.spec.nodes.find((s) => s.id === id)!;
    const recovered = Object.keys(n.disk.data).length > 0;
    this.emit({ t: this.state.t, seq: 0, kind: 'node.boot', node: id, incarnation: n.incarnation, recovered });
    const fx = this.buffer(n);
    n.memory = this.behavior(n).boot(spec.config, diskView(n.disk), fx.ctx);
    fx.apply();
  }

  private runNode(n: NodeRecord, input: NodeInput): void {
    if (!(n.status === 'up')) fail(`node ${n.id} must be up to step`);
    const fx = this.buffer(n);
    this.behavior(n).step(n.memory, input, fx.ctx);
    fx.apply();
  }

  private buffer(n: NodeRecord): EffectBuffer {
    return (this.effects ??= new EffectBuffer(this)).reset(n);
  }

  private behavior(n: NodeRecord): NodeBehavior {
    return this.opts.behaviors[n.kind];
  }

  /** @internal Used by EffectBuffer to carry out one node's effects. */
  _perform(n: NodeRecord, fx: EffectBuffer): void {
    let readyAt = this.state.t;
    if (fx.writes.length > 0) {
      for (let i = 0; i < fx.writes.length; i++) diskWrite(n.disk, fx.writes[i].op, fx.writes[i].sync);
      const host = this.hostByNode.get(n.id)!;
      if (this.diskRate.has(host)) readyAt = this.occupyDisk(host, fx.writes);
    }
    for (let i = 0; i < fx.nEvents; i++) {
      const e = fx.events[i];
      fx.events[i] = null; // the trace has it now; the buffer keeps no garbage alive
      this.emit(e!);
    }
    for (let i = 0; i < fx.nTimers; i++) {
      const name = fx.timerNames[i];
      const after = fx.timerAfters[i];
      if (after === null) {
        delete n.timers[name];
        continue;
      }
      if (!(Number.isInteger(after) && after >= 0)) fail(`timer ${name} on ${n.id}: delay must be a non-negative integer, got ${after}`);
      const at = this.state.t + after;
      const cur = n.timers[name];
      if (cur !== undefined && cur.itemAt <= at) cur.at = at; // later than queued: postpone lazily
      else this.armTimer(n, name, at);
    }
    for (let i = 0; i < fx.nSends; i++) {
      const body = fx.sendBodies[i];
      fx.sendBodies[i] = null;
      const after = fx.sendAfters[i];
      if (!(Number.isInteger(after) && after >= 0)) fail(`${n.id} sent ${fx.sendKinds[i]} after ${after} µs of work: it must be a non-negative integer`);
      const workUntil = this.state.t + after;
      this.send(n.id, fx.sendTos[i], fx.sendKinds[i], body, fx.sendSizes[i], Math.max(readyAt, workUntil), workUntil);
    }
    for (let i = 0; i < fx.nCounts; i++) metricCount(this.state.metrics, fx.countNames[i], fx.countValues[i]);
    for (let i = 0; i < fx.nSamples; i++) metricObserve(this.state.metrics, fx.sampleNames[i], fx.sampleValues[i]);
  }

  private armTimer(n: NodeRecord, name: string, at: Micros): void {
    const seq = heapPush(this.state.heap, { t: at, seq: 0, type: 'timer', node: n.id, name, incarnation: n.incarnation }, LIMITS.heapItemsMax);
    n.timers[name] = { seq, itemAt: at, at };
  }

  /**
   * Queues one step's disk writes on the host's disk, which works through bytes serially at its rate: the step's
   * work starts when the disk is free (or now) and takes its bytes / rate. Returns when the step's synced writes are
   * done — the earliest its messages may leave (etcd's Ready contract: persist, then send) — or now when nothing was
   * synced: unsynced writes cost disk time but hold no message. A sync also waits for whatever was queued before it.
   */
  private occupyDisk(host: HostId, writes: readonly { op: DiskOp; sync: boolean }[]): Micros {
    const rate = this.diskRate.get(host)!;
    const load = this.state.hostLoad[host];
    const now = this.state.t;
    let bytes = 0;
    let syncedBytes = -1; // bytes up to and including the last synced write; -1 when none was synced
    for (const w of writes) {
      bytes += diskOpBytes(w.op);
      if (w.sync) syncedBytes = bytes;
    }
    const start = Math.max(now, load.diskBusyUntil);
    if (start > now) metricObserve(this.state.metrics, 'diskWaitMs', (start - now) / 1000);
    load.diskBusyUntil = start + Math.ceil((bytes * 1_000_000) / rate);
    assert(load.diskBusyUntil >= now, 'the disk is never busy until the past');
    return syncedBytes < 0 ? now : start + Math.ceil((syncedBytes * 1_000_000) / rate);
  }

  /**
   * When a message ready at `readyAt` has left its host: the host's NIC sends one message at a time at its rate, so
   * it leaves at max(ready, NIC free) + size / rate. Without a NIC rate it leaves when ready.
   */
  private leaveNic(host: HostId, size: number, readyAt: Micros): Micros {
    const rate = this.nicRate.get(host);
    if (rate === undefined) return readyAt;
    const load = this.state.hostLoad[host];
    const start = Math.max(readyAt, load.nicBusyUntil);
    if (start > readyAt) metricObserve(this.state.metrics, 'nicWaitMs', (start - readyAt) / 1000);
    load.nicBusyUntil = start + Math.ceil((size * 1_000_000) / rate);
    return load.nicBusyUntil;
  }

  /**
   * Sends one message, ready to leave at `readyAt` (now, when the step's synced disk work is done, or when the work
   * the node does first is, `workUntil`). Between two nodes of one host it is a local hand-over (`transmitLocal`);
   * otherwise it queues on the sending host's NIC and crosses the link between the two hosts. `sentAt` is always now:
   * the step that sent it.
   */
  private send(from: NodeId, to: NodeId, kind: string, body: unknown, size: number, readyAt: Micros, workUntil: Micros): void {
    const toHost = this.hostByNode.get(to);
    if (!(toHost !== undefined)) fail(`${from} sent ${kind} to unknown node ${to}`);
    if (!(to !== from)) fail(`${from} sent ${kind} to itself`);
    if (!(Number.isInteger(size) && size > 0 && size <= LIMITS.messageBytesMax)) fail(`message size must be 1..${LIMITS.messageBytesMax} bytes, got ${size}`);
    const net = this.state.net;
    const now = this.state.t;
    assert(readyAt >= now, 'a message is never ready before it is sent');
    const id = net.nextMsgId++;
    const fromHost = this.hostByNode.get(from)!;
    if (fromHost === toHost) {
      const deliverAt = transmitLocal(net, from, to, readyAt);
      const local: Message = { id, from, to, kind, body, size, sentAt: now, deliverAt };
      this.emit({ t: this.state.t, seq: 0, kind: 'msg.send', id, from, to, msg: kind, body, size, deliverAt });
      heapPush(this.state.heap, { t: deliverAt, seq: 0, type: 'deliver', msg: local, copy: 0, lost: false, cutAtSend: false, leaveAt: readyAt, workUntil, unsent: false, held: false }, LIMITS.heapItemsMax);
      return;
    }
    const leaveAt = this.leaveNic(fromHost, size, readyAt);
    const tx = transmit(net, fromHost, toHost, size, leaveAt, this.rng.stream('net'));
    const msg: Message = { id, from, to, kind, body, size, sentAt: now, deliverAt: tx.deliverAt };
    const cutAtSend = isCut(net, fromHost, toHost);
    this.emit({ t: this.state.t, seq: 0, kind: 'msg.send', id, from, to, msg: kind, body, size, deliverAt: tx.deliverAt });
    heapPush(this.state.heap, { t: tx.deliverAt, seq: 0, type: 'deliver', msg, copy: 0, lost: tx.lost, cutAtSend, leaveAt, workUntil, unsent: false, held: false }, LIMITS.heapItemsMax);
    if (tx.dupDeliverAt !== null) {
      this.emit({ t: this.state.t, seq: 0, kind: 'msg.dup', id, copy: 1, from, to, msg: kind, deliverAt: tx.dupDeliverAt });
      heapPush(this.state.heap, { t: tx.dupDeliverAt, seq: 0, type: 'deliver', msg: { ...msg, deliverAt: tx.dupDeliverAt }, copy: 1, lost: false, cutAtSend, leaveAt, workUntil, unsent: false, held: false }, LIMITS.heapItemsMax);
    }
  }
}

function describeRefs(f: Fault): string {
  const refs = [...('node' in f && f.node ? [f.node] : []), ...(f.kind === 'partition' && f.groups ? f.groups.flat() : [])];
  return refs.filter((r) => r.startsWith('@')).join(', ');
}

function sortActions(actions: readonly Action[]): Action[] {
  return [...actions].sort((a, b) => a.at - b.at || (a.step ?? Infinity) - (b.step ?? Infinity));
}
