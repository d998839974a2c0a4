import { assert, assertNever, fail } from './assert.ts';
import type { Checker, CheckView, Finding } from './checker.ts';
import { cloneShared } from './clone.ts';
import { diskCrash, diskCreate, diskView, diskWrite, type DiskState } from './disk.ts';
import { heapCreate, heapPeek, heapPop, heapPush, type HeapState } from './heap.ts';
import { metricCount, metricObserve, metricsCreate, type MetricsState } from './metrics.ts';
import { isCut, netCreate, netHeal, netPartition, netSetLink, partitionGroups, transmit, type NetState } from './network.ts';
import { RngStreams, type Rng } from './rng.ts';
import type { Micros } from './time.ts';
import { TRACE_KINDS, TraceRecorder, type DropReason, type FaultSource, type TraceBody, type TraceEvent, type TraceKind, type TraceState } from './trace.ts';
import type { Action, DiskOp, Fault, LinkSpec, Message, NodeBehavior, NodeContext, NodeId, NodeInput, NodeStatus } from './types.ts';

/** Limits on everything (TigerBeetle style); their relations are asserted when a world is built. */
export const LIMITS = {
  nodesMax: 10_000,
  heapItemsMax: 2_000_000,
  traceEventsMax: 50_000_000,
  inboxMax: 10_000,
  messageBytesMax: 16 * 1024 * 1024,
  violationsMax: 1_000,
  stepsPerCallMax: 100_000_000,
} as const;

export interface NodeSpec {
  id: NodeId;
  kind: string;
  config: unknown;
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
}

type Scheduled =
  | { t: Micros; seq: number; type: 'deliver'; msg: Message; copy: number; lost: boolean; cutAtSend: boolean }
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
  private actions: Action[];
  private readonly view: CheckView;
  private lastKind: TraceKind | null = null;
  private readonly buffers = new Map<NodeId, EffectBuffer>();
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
    };
    for (const c of opts.checkers) this.state.checks[c.name] = c.init();
    for (const l of spec.links) netSetLink(this.state.net, this.nodeIds, l.from, l.to, l.set, l.symmetric);
    for (const f of spec.faults) {
      if (!(f.at <= spec.durationUs)) fail(`fault at ${f.at}us is after the end of the run`);
      heapPush(this.state.heap, { t: f.at, type: 'fault', fault: f.fault, source: f.source }, LIMITS.heapItemsMax);
    }
    this.emit({ kind: 'run.start', scenario: spec.scenario, seed: spec.seed, nodes: [...this.nodeIds] });
    for (const n of spec.nodes) {
      this.state.nodes[n.id] = { id: n.id, kind: n.kind, status: 'up', incarnation: 0, memory: null, disk: diskCreate(), timers: {}, inbox: [] };
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
    this.state.steps++;
    if (work === 'end') {
      this.state.t = this.spec.durationUs;
      this.state.ended = true;
      this.emit({ kind: 'run.end' });
      return true;
    }
    if (work === 'action') {
      const a = this.actions[this.state.nextAction++];
      this.state.t = Math.max(this.state.t, a.at);
      this.applyFault(a, 'user');
      return true;
    }
    const item = heapPop(this.state.heap)!;
    if (!(item.t >= this.state.t)) fail(`event at ${item.t} is before now ${this.state.t}`);
    this.state.t = item.t;
    this.dispatch(item);
    return true;
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
      const next = this.nextTime();
      if (next === null || next > target) break;
      if (!(--budget > 0)) fail(`more than ${LIMITS.stepsPerCallMax} steps in one call`);
      this.step();
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

  /** Whether `fault` can apply now; returns the reason it cannot, or null. */
  cannotApply(given: Fault): string | null {
    const fault = this.resolve(given);
    if (fault === null) return `no node has that role right now (${describeRefs(given)})`;
    const known = (id: NodeId) => this.nodeIds.includes(id);
    switch (fault.kind) {
      case 'crash':
        if (!known(fault.node)) return `unknown node ${fault.node}`;
        return this.node(fault.node).status === 'crashed' ? `${fault.node} is already crashed` : null;
      case 'restart':
        if (!known(fault.node)) return `unknown node ${fault.node}`;
        return this.node(fault.node).status !== 'crashed' ? `${fault.node} is not crashed` : null;
      case 'pause':
        if (!known(fault.node)) return `unknown node ${fault.node}`;
        return this.node(fault.node).status !== 'up' ? `${fault.node} is not running` : null;
      case 'resume':
        if (!known(fault.node)) return `unknown node ${fault.node}`;
        return this.node(fault.node).status !== 'paused' ? `${fault.node} is not paused` : null;
      case 'partition': {
        if (this.nodeIds.length < 2) return 'a partition needs at least two nodes';
        if (fault.node !== undefined && !known(fault.node)) return `unknown node ${fault.node}`;
        if (fault.shape === 'bridge' && this.nodeIds.length < 3) return 'a bridge needs at least three nodes';
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
      if (it.type !== 'deliver') continue;
      out.push({ ...it.msg, deliverAt: it.t, copy: it.copy, doomed: it.lost || it.cutAtSend || isCut(this.state.net, it.msg.from, it.msg.to) });
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

  private emit(body: TraceBody): TraceEvent {
    const e = this.trace.record(this.state.t, body);
    this.lastKind = e.kind;
    if (body.kind === 'node.state' && body.key === 'role') this.state.roles[body.node] = { role: String(body.value), seq: e.seq };
    else if (body.kind === 'node.crash') delete this.state.roles[body.node];
    const checkers = this.checkersByKind.get(e.kind);
    if (checkers !== undefined && body.kind !== 'check.violation') {
      for (const c of checkers) {
        const finding = c.onEvent(this.state.checks[c.name], e, this.view);
        if (finding) this.violate(c.name, finding);
      }
    }
    this.opts.onEvent?.(e);
    return e;
  }

  private violate(checker: string, f: Finding): void {
    const e = this.emit({ kind: 'check.violation', checker, message: f.message, evidence: f.evidence });
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
        this.emit({ kind: 'timer.fire', node: n.id, name: item.name });
        return this.runNode(n, { type: 'timer', name: item.name });
      }
      case 'fault':
        return this.applyFault(item.fault, item.source);
      default:
        assertNever(item, 'scheduled item');
    }
  }

  private deliver(item: Extract<Scheduled, { type: 'deliver' }>): void {
    const { msg } = item;
    const n = this.node(msg.to);
    let drop: DropReason | null = null;
    if (item.lost) drop = 'loss';
    else if (item.cutAtSend || isCut(this.state.net, msg.from, msg.to)) drop = 'partition';
    else if (n.status === 'crashed') drop = 'node-down';
    else if (n.status === 'paused' && this.spec.pauseMode === 'drop') drop = 'paused';
    else if (n.status === 'paused' && n.inbox.length >= LIMITS.inboxMax) drop = 'inbox-full';
    if (drop !== null) return void this.emit({ kind: 'msg.drop', id: msg.id, from: msg.from, to: msg.to, msg: msg.kind, reason: drop });
    this.emit({ kind: 'msg.deliver', id: msg.id, from: msg.from, to: msg.to, msg: msg.kind, sentAt: msg.sentAt });
    if (n.status === 'paused') n.inbox.push({ type: 'message', msg });
    else this.runNode(n, { type: 'message', msg });
  }

  /** A paused process's own timers are never lost: they fire late, on resume, whatever the pause mode says of messages. */
  private hold(n: NodeRecord, input: NodeInput & { timerSeq?: number }): void {
    n.inbox.push(input);
  }

  /**
   * Resolves role references (`@leader`, `@follower`, any `@<role>`, and `@crashed`) in a fault to node ids, or null
   * when no node has the role. `@crashed` is the first crashed node in topology order. In partition groups, `@rest`
   * stands for every node no group names, so "the leader and one follower against the rest" is data. `@leader` is the live node that most recently announced itself leader; any other role is the first live
   * node in topology order that holds it. Resolution happens when the fault applies, so a scenario can say "crash the
   * leader" without knowing which node the seed made leader.
   */
  resolve(fault: Fault): Fault | null {
    const one = (ref: NodeId): NodeId | null => {
      if (!ref.startsWith('@')) return ref;
      const role = ref.slice(1);
      if (role === 'crashed') return this.nodeIds.find((id) => this.node(id).status === 'crashed') ?? null;
      let best: NodeId | null = null;
      let bestSeq = -1;
      for (const id of this.nodeIds) {
        const r = this.state.roles[id];
        if (!r || r.role !== role || this.node(id).status === 'crashed') continue;
        if (role !== 'leader') return id;
        if (r.seq > bestSeq) [best, bestSeq] = [id, r.seq];
      }
      return best;
    };
    if ('node' in fault && fault.node !== undefined) {
      const node = one(fault.node);
      if (node === null) return null;
      if (node !== fault.node) fault = { ...fault, node };
    }
    if (fault.kind === 'partition' && fault.groups) {
      const named = fault.groups.map((g) => g.filter((r) => r !== '@rest').map(one));
      if (named.some((g) => g.includes(null))) return null;
      const listed = new Set(named.flat());
      const rest = this.nodeIds.filter((id) => !listed.has(id));
      const groups = fault.groups.map((g, i) => (g.includes('@rest') ? [...(named[i] as NodeId[]), ...rest] : (named[i] as NodeId[])));
      fault = { ...fault, groups };
    }
    return fault;
  }

  private applyFault(given: Fault | Action, source: FaultSource): void {
    this.emit({ kind: 'fault', source, fault: given });
    if (this.cannotApply(given) !== null) return; // recorded, but it changes nothing (e.g. restarting a running node)
    const fault = this.resolve(given)!;
    switch (fault.kind) {
      case 'crash': {
        const n = this.node(fault.node);
        const lost = diskCrash(n.disk, fault.loseUnsynced === true);
        n.status = 'crashed';
        n.memory = null;
        n.incarnation++;
        n.timers = {};
        n.inbox = [];
        this.emit({ kind: 'node.crash', node: n.id, lostWrites: lost });
        return;
      }
      case 'restart':
        this.node(fault.node).status = 'up';
        return this.boot(fault.node);
      case 'pause':
        this.node(fault.node).status = 'paused';
        this.emit({ kind: 'node.pause', node: fault.node });
        return;
      case 'resume': {
        const n = this.node(fault.node);
        n.status = 'up';
        const held = n.inbox;
        n.inbox = [];
        this.emit({ kind: 'node.resume', node: n.id, queued: held.length });
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
            this.emit({ kind: 'timer.fire', node: n.id, name: input.name });
          }
          this.runNode(n, input as NodeInput);
        }
        return;
      }
      case 'partition': {
        const groups = partitionGroups(fault.shape, this.nodeIds, this.rng.stream('faults'), fault.node, fault.groups);
        netPartition(this.state.net, this.nodeIds, fault.shape, groups, fault.oneWay === true);
        this.emit({ kind: 'net.partition', shape: fault.shape, groups, oneWay: fault.oneWay === true });
        return;
      }
      case 'heal':
        netHeal(this.state.net);
        this.emit({ kind: 'net.heal' });
        return;
      case 'link':
        netSetLink(this.state.net, this.nodeIds, fault.from, fault.to, fault.set, fault.symmetric === true);
        this.emit({ kind: 'net.link', from: fault.from, to: fault.to, set: fault.set });
        return;
      default:
        assertNever(fault, 'fault');
    }
  }

  private boot(id: NodeId): void {
    const n = this.node(id);
    const spec = this.spec.nodes.find((s) => s.id === id)!;
    const recovered = Object.keys(n.disk.data).length > 0;
    this.emit({ kind: 'node.boot', node: id, incarnation: n.incarnation, recovered });
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
    let b = this.buffers.get(n.id);
    if (!b) this.buffers.set(n.id, (b = new EffectBuffer(this, n)));
    return b.reset();
  }

  private behavior(n: NodeRecord): NodeBehavior {
    return this.opts.behaviors[n.kind];
  }

  /** @internal Used by EffectBuffer to carry out one node's effects. */
  _perform(n: NodeRecord, fx: EffectBuffer): void {
    for (let i = 0; i < fx.writes.length; i++) diskWrite(n.disk, fx.writes[i].op, fx.writes[i].sync);
    for (let i = 0; i < fx.events.length; i++) this.emit(fx.events[i]);
    for (let i = 0; i < fx.timers.length; i++) {
      const [name, after] = fx.timers[i];
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
    for (let i = 0; i < fx.sends.length; i++) {
      const m = fx.sends[i];
      this.send(n.id, m.to, m.kind, m.body, m.size);
    }
    for (const [name, v] of fx.counts) metricCount(this.state.metrics, name, v);
    for (const [name, v] of fx.samples) metricObserve(this.state.metrics, name, v);
  }

  private armTimer(n: NodeRecord, name: string, at: Micros): void {
    const seq = heapPush(this.state.heap, { t: at, type: 'timer', node: n.id, name, incarnation: n.incarnation }, LIMITS.heapItemsMax);
    n.timers[name] = { seq, itemAt: at, at };
  }

  private send(from: NodeId, to: NodeId, kind: string, body: unknown, size: number): void {
    if (!(this.nodeIds.includes(to))) fail(`${from} sent ${kind} to unknown node ${to}`);
    if (!(to !== from)) fail(`${from} sent ${kind} to itself`);
    if (!(Number.isInteger(size) && size > 0 && size <= LIMITS.messageBytesMax)) fail(`message size must be 1..${LIMITS.messageBytesMax} bytes, got ${size}`);
    const net = this.state.net;
    const now = this.state.t;
    const id = net.nextMsgId++;
    const tx = transmit(net, from, to, size, now, this.rng.stream('net'));
    const msg: Message = { id, from, to, kind, body, size, sentAt: now, deliverAt: tx.deliverAt };
    const cutAtSend = isCut(net, from, to);
    this.emit({ kind: 'msg.send', id, from, to, msg: kind, body, size, deliverAt: tx.deliverAt });
    heapPush(this.state.heap, { t: tx.deliverAt, type: 'deliver', msg, copy: 0, lost: tx.lost, cutAtSend }, LIMITS.heapItemsMax);
    if (tx.dupDeliverAt !== null) {
      this.emit({ kind: 'msg.dup', id, copy: 1, from, to, msg: kind, deliverAt: tx.dupDeliverAt });
      heapPush(this.state.heap, { t: tx.dupDeliverAt, type: 'deliver', msg: { ...msg, deliverAt: tx.dupDeliverAt }, copy: 1, lost: false, cutAtSend }, LIMITS.heapItemsMax);
    }
  }
}

/**
 * Collects what one node asks for while it handles one input; `apply` hands it to the world in the order
 * disk → events → timers → messages. The context given to the node only records. One buffer per node is made once
 * and reset before each step, so the hot path allocates no closures.
 */
class EffectBuffer {
  readonly writes: { op: DiskOp; sync: boolean }[] = [];
  readonly events: TraceBody[] = [];
  /** Timer requests in order; a later request for the same name wins, as the world applies them in order. */
  readonly timers: [string, Micros | null][] = [];
  readonly sends: { to: NodeId; kind: string; body: unknown; size: number }[] = [];
  readonly counts: [string, number][] = [];
  readonly samples: [string, number][] = [];
  readonly ctx: NodeContext;

  constructor(
    private readonly world: World,
    private readonly n: NodeRecord,
  ) {
    const id = n.id;
    const peers = world.nodeIds.filter((p) => p !== id);
    const bugs = world.spec.bugs;
    const rngs = new Map<string, Rng>();
    this.ctx = {
      id,
      get now() {
        return world.t;
      },
      peers,
      rng: (name) => {
        let r = rngs.get(name);
        if (!r) rngs.set(name, (r = world.rng.stream(`node:${id}:${name}`)));
        return r;
      },
      send: (to, kind, body, size = 64) => void this.sends.push({ to, kind, body, size }),
      persist: (op, sync) => void this.writes.push({ op, sync }),
      setTimer: (name, after) => void this.timers.push([name, after]),
      cancelTimer: (name) => void this.timers.push([name, null]),
      state: (key, value) => void this.events.push({ kind: 'node.state', node: id, key, value }),
      note: (name, data) => void this.events.push(data === undefined ? { kind: 'node.note', node: id, name } : { kind: 'node.note', node: id, name, data }),
      count: (metric, k = 1) => void this.counts.push([metric, k]),
      observe: (metric, value) => void this.samples.push([metric, value]),
      bug: (name) => bugs.includes(name),
    };
  }

  reset(): this {
    // Truncating an array is a slow path in V8; most steps leave most of these empty.
    if (this.writes.length > 0) this.writes.length = 0;
    if (this.events.length > 0) this.events.length = 0;
    if (this.timers.length > 0) this.timers.length = 0;
    if (this.sends.length > 0) this.sends.length = 0;
    if (this.counts.length > 0) this.counts.length = 0;
    if (this.samples.length > 0) this.samples.length = 0;
    return this;
  }

  apply(): void {
    this.world._perform(this.n, this);
  }
}

function describeRefs(f: Fault): string {
  const refs = [...('node' in f && f.node ? [f.node] : []), ...(f.kind === 'partition' && f.groups ? f.groups.flat() : [])];
  return refs.filter((r) => r.startsWith('@')).join(', ');
}

function sortActions(actions: readonly Action[]): Action[] {
  return [...actions].sort((a, b) => a.at - b.at || (a.step ?? Infinity) - (b.step ?? Infinity));
}
