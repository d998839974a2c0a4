import { checkAskCheckers, compileScenario, ScenarioError, toAction, toKernelFault, type EventMatch as StepMatch, type Scenario, type ScenarioInput } from '../scenarios/schema.ts';
import { findScenario, SCENARIOS } from '../scenarios/index.ts';
import { applySettings, isEmptySettings, parseSettings, type Settings } from '../scenarios/settings.ts';
import { ExpectationTracker, firstMatchAfter, NarrationTracker, revealEvent, revealNow, type ExpectResult, type NarrationState } from './expect.ts';
import { assert } from './kernel/assert.ts';
import { cloneShared } from './kernel/clone.ts';
import { metricsSummary, type MetricValue } from './kernel/metrics.ts';
import type { Partition } from './kernel/network.ts';
import type { Micros } from './kernel/time.ts';
import { eventNode, type TraceEvent, type TraceKind } from './kernel/trace.ts';
import type { Action, Fault, HostId, Message, NodeBehavior, NodeId, NodeStatus } from './kernel/types.ts';
import { hostIdsOf, LIMITS, World, type Checkpoint, type Violation, type WorldSpec } from './kernel/world.ts';
import { BEHAVIORS, bugsFor, checkersFor } from './nodes.ts';
import { APP_VERSION, firstDivergence, headerOf, parseTrace, TRACE_FORMAT, TRACE_VERSION, TraceError, type TraceFile, type TraceHeader } from './tracefile.ts';
import { EXPORT_FORMAT_NAMES, exportChunks, isExportFormat, joinChunks, viewOfTrace, type ExportFormat, type TraceView } from './export/index.ts';

/**
 * The Lab API: one class that loads a scenario, steps and seeks it, takes user actions, and hands out plain-data
 * snapshots and events. The browser runs it in a Web Worker behind comlink; the CLI, tests and bench use it directly.
 * It owns no timers: playing is the caller's animation frame calling `advance(wallMs)`, which maps wall time × speed
 * to virtual time (RaftScope's model), so the same calls give the same run anywhere.
 *
 * Seeking back restores the nearest checkpoint and re-runs; the recorded actions make the re-run identical. An action
 * injected after seeking back forks the timeline: the old future (its later actions and checkpoints) is dropped.
 */

export class LabError extends Error {
  override name = 'LabError';
}

export interface ScenarioInfo {
  id: string;
  title: string;
  summary: string;
  tags: string[];
  difficulty: string;
  minutes: number;
}

export interface NodeSnapshot {
  id: NodeId;
  kind: string;
  status: NodeStatus;
  incarnation: number;
  /**
   * The node kind's view of its memory (bounded: long logs show their tail); null while crashed. With a focus set
   * (`Lab.setFocus`), only focused nodes and kinds carry it: `detail` says whether this one does.
   */
  memory: unknown;
  /** False when the focus left this node's memory and disk data out of the snapshot (headline and keys stay). */
  detail: boolean;
  /** Headline fields for labels: role, term, WAL positions for Raft; epoch for pingers. Empty while crashed. */
  headline: Record<string, string | number | boolean | null>;
  disk: { keys: string[]; data: Record<string, unknown>; pendingWrites: number; writes: number; syncs: number };
  timers: string[];
  inbox: number;
}

/**
 * A host (broker machine) and its nodes. `status` is the nodes' common status, or `mixed` when they differ. The
 * backlogs are how long the work already queued on the host's disk and NIC takes to drain from now (0 when idle or
 * unlimited): a growing backlog is overload.
 */
export interface HostSnapshot {
  id: HostId;
  nodes: NodeId[];
  status: NodeStatus | 'mixed';
  diskBacklogMs: number;
  nicBacklogMs: number;
}

export interface CheckerStatus {
  name: string;
  description: string;
  violations: number;
  firstSeq: number | null;
}

export interface Snapshot {
  scenario: ScenarioInfo & { goals: string[] };
  seed: string;
  bugs: string[];
  t: Micros;
  durationUs: Micros;
  steps: number;
  done: boolean;
  playing: boolean;
  speed: number;
  nodes: NodeSnapshot[];
  /** Hosts in topology order; one per node, with the node's id, when no node names a host. */
  hosts: HostSnapshot[];
  /** The current partition and the directed links it cuts, both by host id. */
  network: { partition: Partition | null; cut: [HostId, HostId][] };
  /** Messages on the wire, without their bodies: a snapshot crosses to the UI every frame (a body is in the trace). */
  inFlight: (Omit<Message, 'body'> & { copy: number; doomed: boolean })[];
  inFlightTotal: number;
  eventCount: number;
  traceHash: string;
  checkers: CheckerStatus[];
  violations: Violation[];
  expectations: ExpectResult[];
  narration: NarrationState[];
  actions: Action[];
  /** The settings this run was loaded with ({} for none): a shared link and a what-if fork carry them. */
  settings: Settings;
  /** The teaching bugs this run's node kinds understand, by name, with what each breaks (a fork can switch one on). */
  knownBugs: Record<string, string>;
  /**
   * The APM dashboard's stored queries as this run loaded them (settings applied), for the query editor; absent when
   * the scenario has none (and in hand-made fixtures). Read from the scenario data, so a crashed dashboard hides none.
   */
  storedQueries?: { id: string; name: string; text: string }[];
  metrics: Record<string, MetricValue>;
  checkpoints: number;
  /** Message kinds sent so far on this run's longest known timeline, sorted: the choices for "step to a delivery of…". */
  messageKinds: string[];
}

export interface RunSummary {
  scenario: string;
  seed: string;
  virtualMs: number;
  events: number;
  traceHash: string;
  violations: Violation[];
  metrics: Record<string, MetricValue>;
}

export interface EventFilter {
  kinds?: TraceKind[];
  node?: NodeId;
  text?: string;
  /** Only the events of one message (its send, duplicates, delivery or drop), by message id. */
  msgId?: number;
  /**
   * Narrow three kinds by their subject, leaving other kinds alone: message events (`msg.*`) to these message kinds,
   * `node.note` to these note names, `node.state` to these keys. A view that reads one message kind out of thousands
   * (the charts read `status` sends) then never has the rest cloned across to the page.
   */
  msgs?: string[];
  notes?: string[];
  states?: string[];
}

/**
 * Narrows "step until kind" to the events a learner steps between; every field given must hold.
 * - `msg`: a message event of that message kind (a `msg.deliver` of `append`).
 * - `key` / `values`: a `node.state` of that key, with one of those values (`role` → candidate or leader: an election).
 * - `rises`: a `node.state` whose value's numeric field is above the same node's previous value for that key
 *   (`wal` → `commit`: a commit advancing). The first value after a node boots only sets its baseline; the previous
 *   value is looked for at most `RISE_LOOKBACK_MAX` events back, and an event with none found does not match.
 */
export interface EventMatch {
  msg?: string;
  key?: string;
  values?: readonly unknown[];
  rises?: string;
}

/**
 * What `step` runs to: a number of steps, a time, the next event of a kind, or a narration anchor —
 * `{ narration: 'next' }` runs to the next unreached step's anchor (Next), `{ narration: i }` puts the run at step i's
 * anchor, forward or back (Back) — or `{ reveal: i }`, the reveal point of step i's question, recording its answer.
 */
export type StepArg = number | { until: Micros } | { untilKind: TraceKind; match?: EventMatch } | { narration: number | 'next' } | { reveal: number };

export interface LoadOptions {
  seed?: string;
  bugs?: string[];
  actions?: unknown[];
  /**
   * What the user changed about the scenario (src/scenarios/settings.ts): config per node kind, the APM's stored
   * queries. Validated here; a bad field is a LabError naming it, and the current run stays.
   */
  settings?: unknown;
  /** Keep every event in memory (the UI and export need them; sweeps do not). Default true. */
  keepEvents?: boolean;
}

export interface ImportResult {
  hash: string;
  events: number;
  virtualUs: Micros;
  scenario: string;
  seed: string;
}

export const SPEED_MIN = 0.01;
export const SPEED_MAX = 1000;
/** An animation frame never advances more than this much wall time, so a tab waking from sleep does not leap. */
export const FRAME_WALL_MS_MAX = 250;
export const IN_FLIGHT_SNAPSHOT_MAX = 2000;
export const EVENTS_PAGE_MAX = 10_000;
export const CHECKPOINTS_MAX = 256;
/** How far back (in events) a `rises` match looks for the node's previous value. */
export const RISE_LOOKBACK_MAX = 200_000;

interface Loaded {
  input: ScenarioInput;
  /** The settings applied to the scenario data (`input` already has them applied). */
  settings: Settings;
  /** The teaching bugs the run's node kinds understand (fixed by the topology, so found once at load). */
  knownBugs: Record<string, string>;
  scenario: Scenario;
  spec: WorldSpec;
  world: World;
  /** Checkpoints of the current timeline, in order of time; the first is the start of the run. */
  checkpoints: Checkpoint[];
  checkpointEveryUs: Micros;
  /**
   * The longest event list known for the current timeline. After a seek back the world holds a prefix of it; a seek
   * forward can jump to a later checkpoint and take the events in between from here (determinism makes them equal).
   */
  timeline: TraceEvent[];
  expect: ExpectationTracker;
  narration: NarrationTracker;
  /** Message kinds seen sent (kept across seeks back: a later kind is still a valid target to step to). */
  messageKinds: Set<string>;
}

export class Lab {
  private run: Loaded | null = null;
  private playing = false;
  /** Whose memory and disk data snapshots carry; null = every node's (the default: Node callers, tests). */
  private focus: { kinds: Set<string>; nodes: Set<NodeId> } | null = null;
  private speed = 1;
  /** Guided mode: playing stops at each narration anchor (see `advance`). Kept across loads, like the speed. */
  private guided = false;

  list(): ScenarioInfo[] {
    return SCENARIOS.map((s) => info(s as Scenario));
  }

  /** Loads a built-in scenario by id, or scenario data. On error the current run stays as it was. */
  load(ref: string | unknown, opts: LoadOptions = {}): Snapshot {
    this.run = this.build(ref, opts);
    this.playing = false;
    return this.snapshot();
  }

  step(arg: StepArg = 1): Snapshot {
    const r = this.need();
    if (typeof arg === 'number') {
      if (!Number.isInteger(arg) || arg < 1) throw new LabError(`step: expected a positive whole number of steps, got ${arg}`);
      for (let i = 0; i < arg && r.world.step(); i++) this.afterStep(r);
    } else if ('until' in arg) {
      if (!Number.isFinite(arg.until) || arg.until < 0) throw new LabError(`step: bad target time ${arg.until}`);
      r.world.runUntil(Math.round(arg.until), this.stepHook(r));
    } else if ('narration' in arg) {
      this.toNarration(r, arg.narration);
    } else if ('reveal' in arg) {
      this.reveal(r, arg.reveal);
    } else {
      const { untilKind: kind, match } = arg;
      if (match && !r.world.trace.keep) throw new LabError('step: matching an event needs a run that keeps its events');
      const evs = r.world.trace.events;
      let scanned = r.world.trace.count;
      let found = false;
      while (!found && r.world.step()) {
        this.afterStep(r);
        if (!r.world.trace.keep) found = r.world.lastEventKind === kind;
        for (; scanned < evs.length; scanned++) if (evs[scanned].kind === kind && (!match || matchesEvent(evs, scanned, match))) found = true;
      }
    }
    this.feed(r);
    return this.snapshot();
  }

  /**
   * Which nodes' memory and disk data snapshots carry (a snapshot crosses to the page every frame; a loaded queue's
   * partitions hold ~60 kB of views each): the kinds whose views the page draws, and the nodes it inspects. Null
   * restores every node. Kept across loads.
   */
  setFocus(focus: { kinds?: string[]; nodes?: NodeId[] } | null): void {
    if (focus === null) {
      this.focus = null;
      return;
    }
    const list = (v: unknown, what: string): string[] => {
      if (v === undefined) return [];
      if (!Array.isArray(v) || v.length > 10_000 || !v.every((x) => typeof x === 'string')) throw new LabError(`setFocus: ${what} must be a list of at most 10,000 strings`);
      return v;
    };
    this.focus = { kinds: new Set(list(focus.kinds, 'kinds')), nodes: new Set(list(focus.nodes, 'nodes')) };
  }

  play(speed: number = this.speed): void {
    this.setSpeed(speed);
    this.playing = true;
  }

  pause(): void {
    this.playing = false;
  }

  setSpeed(speed: number): void {
    if (!(speed >= SPEED_MIN && speed <= SPEED_MAX)) throw new LabError(`speed must be within ${SPEED_MIN}..${SPEED_MAX}, got ${speed}`);
    this.speed = speed;
  }

  /** Advances virtual time by `wallMs` × speed while playing; stops playing at the end of the run. */
  advance(wallMs: number): Snapshot {
    const r = this.need();
    if (this.playing && Number.isFinite(wallMs) && wallMs > 0) {
      const dt = Math.max(1, Math.round(Math.min(wallMs, FRAME_WALL_MS_MAX) * 1000 * this.speed));
      if (!this.guided) r.world.runUntil(r.world.t + dt, this.stepHook(r));
      else if (this.runToAnchor(r, r.world.t + dt)) this.playing = false;
      this.feed(r);
      if (r.world.t >= r.spec.durationUs || r.world.done) this.playing = false;
    }
    return this.snapshot();
  }

  /**
   * Guided mode on or off. While on, `advance` (playing) stops exactly at each narration anchor it reaches: a time
   * anchor's time, or just after the step that recorded an event anchor's matching event.
   */
  setGuided(on: boolean): void {
    if (typeof on !== 'boolean') throw new LabError(`setGuided: expected true or false, got ${JSON.stringify(on)}`);
    this.guided = on;
  }

  /** Moves to virtual time `t`: forward by running, back by restoring the nearest checkpoint and re-running. */
  seek(t: Micros): Snapshot {
    const r = this.need();
    if (!Number.isFinite(t)) throw new LabError(`seek: bad time ${t}`);
    const target = Math.max(0, Math.min(Math.round(t), r.spec.durationUs));
    if (target < r.world.t && r.checkpoints.length === 0) throw new LabError('seek: this run was loaded without keeping events, so it cannot go back');
    // The latest checkpoint at or before the target; used when going back, or going forward past it.
    let cp: Checkpoint | null = null;
    for (const c of r.checkpoints) if (c.state.t <= target) cp = c;
    if (cp && (target < r.world.t || cp.state.steps > r.world.steps)) {
      this.keepTimeline(r);
      r.world = new World(r.spec, this.worldOptions(r.spec, true), r.world.actionList, { checkpoint: cp, events: r.timeline });
      this.resetTrackers(r);
    }
    r.world.runUntil(target, this.stepHook(r));
    this.feed(r);
    return this.snapshot();
  }

  /** Applies a fault now and records it as an action (forking the timeline if the run had been seeked back). */
  inject(raw: Fault | unknown): Snapshot {
    const r = this.need();
    let fault: Fault;
    try {
      fault = toKernelFault(raw, 'action', r.world.nodeIds, r.world.hostIds);
    } catch (e) {
      throw new LabError(e instanceof Error ? e.message : String(e));
    }
    const why = r.world.cannotApply(fault);
    if (why !== null) throw new LabError(`cannot ${fault.kind}: ${why}`);
    if (r.world.t > r.spec.durationUs || r.world.done && r.world.t >= r.spec.durationUs) throw new LabError('the run is over; seek back to inject a fault');
    const action: Action = { ...fault, at: r.world.t, step: r.world.steps };
    r.world.fork(action);
    r.checkpoints = r.checkpoints.filter((c) => c.state.steps <= r.world.steps);
    r.timeline = r.world.trace.events;
    r.narration.forgetReveals(r.world.t);
    assert(r.world.step(), 'a forked action must apply at once');
    this.afterStep(r);
    this.feed(r);
    return this.snapshot();
  }

  snapshot(): Snapshot {
    const r = this.need();
    const w = r.world;
    const metrics = this.metrics(r);
    const done = w.done || w.t >= r.spec.durationUs;
    const counts = new Map<string, { n: number; first: number | null }>();
    for (const v of w.state.violations) {
      const c = counts.get(v.checker) ?? { n: 0, first: v.seq };
      c.n++;
      counts.set(v.checker, c);
    }
    const inFlightAll = w.inFlight(Number.MAX_SAFE_INTEGER);
    return {
      scenario: { ...info(r.scenario), goals: [...r.scenario.goals] },
      seed: r.spec.seed,
      bugs: [...r.spec.bugs],
      t: w.t,
      durationUs: r.spec.durationUs,
      steps: w.steps,
      done,
      playing: this.playing,
      speed: this.speed,
      nodes: w.nodeIds.map((id) => {
        const n = w.node(id);
        const detail = this.focus === null || this.focus.nodes.has(id) || this.focus.kinds.has(n.kind);
        return {
          id,
          kind: n.kind,
          status: n.status,
          incarnation: n.incarnation,
          memory: n.memory === null ? null : detail ? viewOf(BEHAVIORS[n.kind], n.memory, w.t) : undefined,
          detail,
          headline: n.memory === null ? {} : (BEHAVIORS[n.kind].headline?.(n.memory, w.t) ?? {}),
          disk: { keys: Object.keys(n.disk.data).sort(), data: detail ? diskViewOf(n.disk.data) : {}, pendingWrites: n.disk.pending.length, writes: n.disk.writes, syncs: n.disk.syncs },
          timers: Object.keys(n.timers).sort(),
          inbox: n.inbox.length,
        };
      }),
      hosts: w.hostIds.map((id) => {
        const backlog = w.hostBacklog(id);
        return { id, nodes: [...w.nodesOn(id)], status: w.hostStatus(id), diskBacklogMs: backlog.diskUs / 1000, nicBacklogMs: backlog.nicUs / 1000 };
      }),
      network: {
        partition: w.state.net.partition ? cloneShared(w.state.net.partition) : null,
        cut: Object.keys(w.state.net.cut).map((k) => k.split('>') as [HostId, HostId]),
      },
      inFlight: inFlightAll.slice(0, IN_FLIGHT_SNAPSHOT_MAX).map((m) => ({ id: m.id, from: m.from, to: m.to, kind: m.kind, size: m.size, sentAt: m.sentAt, deliverAt: m.deliverAt, copy: m.copy, doomed: m.doomed })),
      inFlightTotal: inFlightAll.length,
      eventCount: w.trace.count,
      traceHash: w.trace.hashHex(),
      checkers: checkersFor(r.spec.nodes.map((n) => n.kind)).map((c) => ({
        name: c.name,
        description: c.description,
        violations: counts.get(c.name)?.n ?? 0,
        firstSeq: counts.get(c.name)?.first ?? null,
      })),
      violations: cloneShared(w.state.violations.slice(0, 100)),
      expectations: r.expect.results(done, metrics),
      narration: r.narration.at(w.t),
      actions: cloneShared([...w.actionList]),
      settings: r.settings,
      knownBugs: { ...r.knownBugs },
      ...storedQueriesOf(r.input),
      metrics,
      checkpoints: r.checkpoints.length,
      messageKinds: [...r.messageKinds].sort(),
    };
  }

  /** A node's whole memory and disk, for the inspector (not bounded like the snapshot's view). */
  inspect(node: NodeId): { memory: unknown; disk: Record<string, unknown>; pending: number } {
    const n = this.need().world.node(this.knownNode(node));
    return { memory: cloneShared(n.memory), disk: cloneShared(n.disk.data), pending: n.disk.pending.length };
  }

  /** Up to `count` log entries of a replica from index `from` (1-based), for scrolling a long log. */
  logEntries(node: NodeId, from: number, count: number): unknown[] {
    const m = this.need().world.node(this.knownNode(node)).memory as { log?: { index: number }[] } | null;
    if (!m || !Array.isArray(m.log) || m.log.length === 0) return [];
    // log[0] is the log's base: entries up to its index were compacted into a snapshot and are not in memory.
    const base = m.log[0].index;
    const start = Math.max(base + 1, Math.floor(from));
    return m.log.slice(start - base, start - base + Math.max(0, Math.min(count, EVENTS_PAGE_MAX)));
  }

  private knownNode(node: NodeId): NodeId {
    const r = this.need();
    if (!r.world.nodeIds.includes(node)) throw new LabError(`unknown node ${JSON.stringify(node)}`);
    return node;
  }

  /** Up to `limit` events from `fromSeq` on that pass `filter`. */
  events(fromSeq = 0, limit = 500, filter: EventFilter = {}): TraceEvent[] {
    return filterEvents(this.need().world.trace.events, fromSeq, limit, filter);
  }

  summary(): RunSummary {
    const r = this.need();
    const w = r.world;
    return {
      scenario: r.scenario.id,
      seed: r.spec.seed,
      virtualMs: w.t / 1000,
      events: w.trace.count,
      traceHash: w.trace.hashHex(),
      violations: structuredClone(w.state.violations),
      metrics: this.metrics(r),
    };
  }

  /** Runs to the end of the scenario (or `untilUs`) in one call. */
  runToEnd(untilUs?: Micros): Snapshot {
    const r = this.need();
    return this.step({ until: untilUs ?? r.spec.durationUs });
  }

  /**
   * The current run as a file in any export format (native JSON / JSON Lines, Perfetto, ShiViz, CSV tables), as one
   * string for the worker to hand across. Node callers that write files use `exportChunks` and never hold the text.
   */
  exportTrace(format: ExportFormat = 'json'): string {
    return joinChunks(this.exportChunks(format));
  }

  header(r: Loaded = this.need()): TraceHeader {
    return {
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      app: APP_VERSION,
      scenario: r.scenario.id,
      seed: r.spec.seed,
      config: { scenario: structuredClone(r.input), bugs: [...r.spec.bugs], ...(isEmptySettings(r.settings) ? {} : { settings: structuredClone(r.settings) }) },
      actions: structuredClone(r.world.actionList.slice(0, r.world.state.nextAction)),
      eventCount: r.world.trace.count,
      steps: r.world.steps,
      virtualUs: r.world.t,
      hash: r.world.trace.hashHex(),
    };
  }

  /**
   * Validates a trace file, re-runs its scenario + seed + actions and checks the hash. On success the lab shows the
   * re-run at the trace's end; on any failure it throws and the current run is untouched.
   */
  importTrace(text: string): ImportResult {
    let file;
    try {
      file = parseTrace(text);
    } catch (e) {
      throw new LabError(`import failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    let r: Loaded;
    try {
      r = this.replay(file.config.scenario, file.seed, file.config.bugs, file.actions, file.events.length, file.virtualUs);
      if (file.config.settings !== undefined) r.settings = parseSettings(file.config.settings);
    } catch (e) {
      // A file that validates can still describe a run this lab cannot re-run (a kernel limit, an assertion): that is
      // a refusal of the file, not a crash, and the current run stays as it was.
      if (e instanceof LabError) throw e;
      throw new LabError(`import failed: the re-run stopped: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (file.steps !== undefined) this.finishReplay(r, file.steps, file.virtualUs);
    const got = r.world.trace.hashHex();
    if (got !== file.hash || r.world.trace.count !== file.events.length) {
      const d = firstDivergence(file.events, r.world.trace.events);
      const where = d ? `first difference at event #${d.index}: trace has ${d.expected}, re-run has ${d.actual}` : `trace has ${file.events.length} events, re-run has ${r.world.trace.count}`;
      throw new LabError(`import failed: replay diverged (hash ${file.hash} vs ${got}); ${where}`);
    }
    this.run = r;
    this.playing = false;
    return { hash: got, events: r.world.trace.count, virtualUs: r.world.t, scenario: r.scenario.id, seed: r.spec.seed };
  }

  // ---- export and view-only traces (issue 8) ------------------------------------------------------------------------

  /**
   * The current run as a stream of text chunks in `format` (see src/sim/export): what the CLI writes to a file chunk
   * by chunk, so a long run never exists twice in memory. The generator reads the run's own event list; do not step
   * the lab while consuming it.
   */
  exportChunks(format: ExportFormat = 'json'): Generator<string, void, undefined> {
    const r = this.need();
    if (!isExportFormat(format)) throw new LabError(`exportTrace: unknown format ${JSON.stringify(format)} (expected ${EXPORT_FORMAT_NAMES.join(', ')})`);
    if (!r.world.trace.keep) throw new LabError('exportTrace: this run was loaded without keeping events');
    return exportChunks(format, this.header(r), r.world.trace.events);
  }

  /**
   * Opens a trace file for viewing without re-running it: the file is validated exactly as for import (schema, event
   * order, count, hash) and its recorded events and a summary become browsable through `openedEvents` /
   * `openedView` and exportable through `exportOpenedTrace`.
   *
   * A view-only trace is a separate read-only document, not a run: the current run (if any) stays loaded and every
   * run method (step, seek, inject, snapshot, events, exportTrace, …) keeps acting on it, so nothing that expects a
   * live world ever meets a trace without one. To step or seek the trace's run, import it instead (which re-runs and
   * checks the hash). Opening another trace replaces the open one; on failure the open one stays.
   */
  openTrace(text: string): TraceView {
    let file: TraceFile;
    try {
      file = parseTrace(text);
    } catch (e) {
      throw new LabError(`open failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const header = headerOf(file);
    this.opened = { header, events: file.events, view: viewOfTrace(header, file.events) };
    return structuredClone(this.opened.view);
  }

  /** The summary of the trace open for viewing. */
  openedView(): TraceView {
    return structuredClone(this.needOpened().view);
  }

  /** Up to `limit` recorded events of the open trace from `fromSeq` on that pass `filter` (as `events` does for a run). */
  openedEvents(fromSeq = 0, limit = 500, filter: EventFilter = {}): TraceEvent[] {
    return filterEvents(this.needOpened().events, fromSeq, limit, filter);
  }

  /** The open trace in any export format, from its recorded events (no re-run): the same bytes `sim export` writes. */
  exportOpenedTrace(format: ExportFormat = 'json'): string {
    const o = this.needOpened();
    if (!isExportFormat(format)) throw new LabError(`exportOpenedTrace: unknown format ${JSON.stringify(format)} (expected ${EXPORT_FORMAT_NAMES.join(', ')})`);
    return joinChunks(exportChunks(format, o.header, o.events));
  }

  closeTrace(): void {
    this.opened = null;
  }

  /**
   * After the replay has re-run the trace's events: takes the steps the original run took after its last event
   * (steps that record nothing, such as a paused node's timer) up to the recorded step count, then moves the clock to
   * where the original stood. A step that records an event here makes the hash check below fail, as it should.
   */
  private finishReplay(r: Loaded, steps: number, virtualUs: Micros): void {
    while (r.world.steps < steps) {
      const next = r.world.nextTime();
      if (next === null || next > virtualUs || !r.world.step()) break;
      this.afterStep(r);
    }
    const next = r.world.nextTime();
    if (virtualUs > r.world.t && (next === null || next > virtualUs)) r.world.runUntil(virtualUs);
    this.feed(r);
  }

  /** The trace open for viewing, kept apart from the run (see `openTrace`). */
  private opened: { header: TraceHeader; events: TraceEvent[]; view: TraceView } | null = null;

  private needOpened(): { header: TraceHeader; events: TraceEvent[]; view: TraceView } {
    if (!this.opened) throw new LabError('no trace is open for viewing (openTrace first)');
    return this.opened;
  }

  // ---- internals -------------------------------------------------------------------------------------------------

  private replay(scenario: unknown, seed: string, bugs: string[], actions: unknown[], events: number, virtualUs: Micros): Loaded {
    let r: Loaded;
    try {
      r = this.build(scenario, { seed, bugs, actions });
    } catch (e) {
      throw new LabError(`import failed: config.${e instanceof Error ? e.message : String(e)}`);
    }
    // Re-run exactly as many events as the trace holds, then move the clock to where the trace's run stood.
    while (r.world.trace.count < events && r.world.step()) this.afterStep(r);
    if (virtualUs > r.world.t && r.world.trace.count === events) {
      const next = r.world.nextTime();
      if (next === null || next > virtualUs) r.world.runUntil(virtualUs);
    }
    this.feed(r);
    return r;
  }

  private build(ref: string | unknown, opts: LoadOptions): Loaded {
    let input: unknown = ref;
    if (typeof ref === 'string') {
      input = findScenario(ref);
      if (!input) throw new LabError(`unknown scenario ${JSON.stringify(ref)} (known: ${SCENARIOS.map((s) => s.id).join(', ')})`);
    }
    if (opts.seed !== undefined && (typeof opts.seed !== 'string' || opts.seed.length === 0 || opts.seed.length > 200)) {
      throw new LabError('seed must be a non-empty string of at most 200 characters');
    }
    const compile = (data: unknown) => compileScenario(data, { seed: opts.seed, bugs: opts.bugs, knownKinds: Object.keys(BEHAVIORS), knownBugs: bugsFor });
    let compiled;
    let settings: Settings = {};
    try {
      if (opts.settings !== undefined) settings = parseSettings(opts.settings);
      if (!isEmptySettings(settings)) {
        // Scenario data from a file is checked as it is before settings apply, so its own errors name its own paths.
        if (typeof ref !== 'string') compile(input);
        input = applySettings(input as ScenarioInput, settings);
      }
      compiled = compile(input);
    } catch (e) {
      if (e instanceof ScenarioError) throw new LabError(e.message);
      throw e;
    }
    const { scenario, world: spec } = compiled;
    const ids = spec.nodes.map((n) => n.id);
    const hostIds = hostIdsOf(spec.nodes);
    const actions = (opts.actions ?? []).map((a, i) => {
      try {
        return toAction(a, `actions[${i}]`, ids, hostIds);
      } catch (e) {
        throw new LabError(e instanceof Error ? e.message : String(e));
      }
    });
    const keep = opts.keepEvents !== false;
    // Without kept events the trackers are fed as events happen (there is no seeking back to replay them for).
    const live: { r?: Loaded; early: TraceEvent[] } = { early: [] };
    const onEvent = keep
      ? undefined
      : (e: TraceEvent) => {
          if (!live.r) return void live.early.push(e); // run.start and boots, recorded while the world is built
          live.r.expect.feed(e);
          live.r.narration.feed(e);
        };
    let world: World;
    try {
      world = new World(spec, { ...this.worldOptions(spec, keep), onEvent }, actions);
    } catch (e) {
      // A node kind refusing its config at boot: with settings, they are what changed (built-ins boot as they are).
      if (isEmptySettings(settings) || e instanceof LabError) throw e;
      throw new LabError(`settings: a node refused its config: ${e instanceof Error ? e.message : String(e)}`);
    }
    const everyUs = Math.max(250_000, Math.ceil(spec.durationUs / 200));
    const r: Loaded = {
      input: structuredClone(input) as ScenarioInput,
      settings,
      knownBugs: bugsFor(new Set(spec.nodes.map((n) => n.kind))),
      scenario,
      spec,
      world,
      // Runs that keep no events (sweeps, benches) cannot be browsed, so they skip checkpoints too.
      checkpoints: opts.keepEvents === false ? [] : [world.checkpoint()],
      checkpointEveryUs: everyUs,
      timeline: world.trace.events,
      expect: new ExpectationTracker(scenario.expect),
      narration: this.narrationTracker(scenario, ids),
      messageKinds: new Set(),
    };
    live.r = r;
    for (const e of live.early) {
      r.expect.feed(e);
      r.narration.feed(e);
    }
    this.feed(r);
    return r;
  }

  private worldOptions(spec: WorldSpec, keepEvents: boolean) {
    return { behaviors: BEHAVIORS, checkers: checkersFor(spec.nodes.map((n) => n.kind)), keepEvents };
  }

  /** The per-step hook for runUntil: none for runs that keep no checkpoints (sweeps, benches). */
  private stepHook(r: Loaded): (() => void) | undefined {
    return r.checkpoints.length === 0 ? undefined : () => this.afterStep(r);
  }

  /** Takes a checkpoint when the run has gone a checkpoint interval past the furthest one. */
  private afterStep(r: Loaded): void {
    const last = r.checkpoints[r.checkpoints.length - 1];
    if (!last || r.world.t < last.state.t + r.checkpointEveryUs || r.world.steps <= last.state.steps) return;
    r.checkpoints.push(r.world.checkpoint());
    if (r.checkpoints.length > CHECKPOINTS_MAX) {
      // Thin out every other checkpoint but the first, and space future ones twice as far apart.
      r.checkpoints = r.checkpoints.filter((_, i) => i === 0 || i % 2 === 0);
      r.checkpointEveryUs *= 2;
    }
  }

  private keepTimeline(r: Loaded): void {
    if (r.world.trace.events.length > r.timeline.length) r.timeline = r.world.trace.events;
  }

  private resetTrackers(r: Loaded): void {
    r.expect = new ExpectationTracker(r.scenario.expect);
    r.narration = new NarrationTracker(r.scenario.narration, r.world.nodeIds, r.narration.reveals);
  }

  // ---- guided narration and predict-then-reveal (issue 7) ------------------------------------------------------------

  /** A narration tracker for a new run, after checking that its questions name checkers this run has. */
  private narrationTracker(scenario: Scenario, nodes: readonly string[]): NarrationTracker {
    const kinds = [...new Set(scenario.topology.nodes.map((n) => n.kind))];
    try {
      checkAskCheckers(scenario.narration, checkersFor(kinds).map((c) => c.name));
    } catch (e) {
      if (e instanceof ScenarioError) throw new LabError(e.message);
      throw e;
    }
    return new NarrationTracker(scenario.narration, nodes);
  }

  private narrationIndex(r: Loaded, i: number, what: string): number {
    const n = r.scenario.narration.length;
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new LabError(`step: ${what} ${i} does not exist (the scenario has ${n} narration step${n === 1 ? '' : 's'})`);
    return i;
  }

  /**
   * Runs forward until the next unreached narration anchor or `limitUs`, whichever comes first, and returns whether it
   * stopped at an anchor: at a time anchor the clock stands exactly at its time (after every event at that time); at
   * an event anchor the run stands just after the step that recorded the matching event.
   */
  private runToAnchor(r: Loaded, limitUs: Micros): boolean {
    const anchor = r.narration.nextTimeAnchor(r.world.t);
    const cap = Math.min(limitUs, anchor ?? Number.POSITIVE_INFINITY, r.spec.durationUs);
    const hook = this.stepHook(r);
    if (r.narration.eventStepsOpen() > 0) {
      for (let budget = LIMITS.stepsPerCallMax; ; ) {
        const next = r.world.nextTime();
        if (next === null || next > cap) break;
        assert(--budget > 0, `more than ${LIMITS.stepsPerCallMax} steps in one call`);
        const before = r.narration.eventStepsReached;
        r.world.step();
        hook?.();
        this.feed(r);
        if (r.narration.eventStepsReached > before) return true;
      }
    }
    r.world.runUntil(cap, hook);
    this.feed(r);
    return anchor !== null && cap === anchor && r.world.t === anchor;
  }

  /** Next (`'next'`): the next anchor, wherever it is. Step `i`: run forward to it, or re-run up to it from before. */
  private toNarration(r: Loaded, target: number | 'next'): void {
    if (target === 'next') {
      this.runToAnchor(r, r.spec.durationUs);
      return;
    }
    const i = this.narrationIndex(r, target, 'narration step');
    const step = r.scenario.narration[i];
    if (step.at !== undefined) {
      this.seek(step.at);
      return;
    }
    const reachedAt = r.narration.steps[i].reachedAt;
    // Reached already: go back to just before its event, so the re-run below stops right after that same event.
    if (reachedAt !== null) this.seek(Math.max(0, reachedAt - 1));
    this.stepWhile(r, () => !r.narration.reached(i, r.world.t));
  }

  /** Steps one unit of work at a time while `more()` holds and the run has work left. */
  private stepWhile(r: Loaded, more: () => boolean): void {
    for (let budget = LIMITS.stepsPerCallMax; more() && r.world.step(); ) {
      assert(--budget > 0, `more than ${LIMITS.stepsPerCallMax} steps in one call`);
      this.afterStep(r);
      this.feed(r);
    }
    this.feed(r);
  }

  /**
   * Runs to the reveal point of step `i`'s question (first to the step itself, if the run has not reached it) and
   * records the answer, read from the run there: the next matching event, or the metric or checker verdict at the
   * answer's time (seeking back to it when the run is past it) or at the end of the run.
   */
  private reveal(r: Loaded, target: number): void {
    const i = this.narrationIndex(r, target, 'question of narration step');
    const ask = r.scenario.narration[i].ask;
    if (!ask) throw new LabError(`step: narration step ${i} asks no question`);
    if (!r.world.trace.keep) throw new LabError('step: revealing an answer needs a run that keeps its events');
    if (!r.narration.reached(i, r.world.t)) this.toNarration(r, i);
    const a = ask.answer;
    if (a.from === 'next-event') {
      const m = a.match as StepMatch;
      const evs = r.world.trace.events;
      let scanned = 0;
      let found = -1;
      const missing = () => {
        found = firstMatchAfter(evs, scanned, r.narration.steps[i], m);
        scanned = evs.length;
        return found < 0;
      };
      if (missing()) this.stepWhile(r, missing);
      r.narration.setReveal(i, revealEvent(found < 0 ? null : evs[found], m, r.world.t));
      return;
    }
    const at = a.at ?? r.spec.durationUs;
    const done = r.world.done || r.world.t >= r.spec.durationUs;
    if (a.at === undefined ? !done : r.world.t !== at) this.seek(at);
    const state = r.narration.steps[i];
    r.narration.setReveal(i, revealNow(a, state, { t: r.world.t, metrics: this.metrics(r), events: r.world.trace.events, tracker: r.narration }));
  }


  private feed(r: Loaded): void {
    const evs = r.world.trace.events;
    if (!r.world.trace.keep) return;
    if (r.expect.fed > evs.length) this.resetTrackers(r);
    for (let i = r.expect.fed; i < evs.length; i++) {
      const e = evs[i];
      r.expect.feed(e);
      r.narration.feed(e);
      if (e.kind === 'msg.send') r.messageKinds.add(e.msg);
    }
  }

  private metrics(r: Loaded): Record<string, MetricValue> {
    const wanted = r.scenario.metrics;
    return metricsSummary(r.world.metrics(), wanted.length === 0 ? undefined : wanted);
  }

  private need(): Loaded {
    if (!this.run) throw new LabError('no scenario loaded');
    return this.run;
  }
}

/** Lists on disk longer than this show only their tail in snapshots. */
export const DISK_LIST_VIEW_MAX = 50;

/** The APM shape's stored queries (src/scenarios/apm-common.ts `workload.apm`), copied, or nothing. */
function storedQueriesOf(input: ScenarioInput): Pick<Snapshot, 'storedQueries'> {
  const queries = (input.workload as { apm?: { queries?: readonly { id: string; name: string; text: string }[] } } | undefined)?.apm?.queries;
  return Array.isArray(queries) ? { storedQueries: queries.map(({ id, name, text }) => ({ id, name, text })) } : {};
}

function viewOf(behavior: NodeBehavior<any, any> | undefined, memory: unknown, now: Micros): unknown {
  return behavior?.view ? behavior.view(memory, now) : cloneShared(memory);
}

function diskViewOf(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    // A Raft snapshot (src/sim/raft/types.ts RaftSnapshot) shows its metadata; its state machine data can be large.
    if (k === 'snapshot' && v !== null && typeof v === 'object' && 'index' in v && 'data' in v) {
      const s = v as unknown as { index: number; term: number; bytes: number; at: number };
      out[k] = { index: s.index, term: s.term, bytes: s.bytes, at: s.at };
      continue;
    }
    out[k] = Array.isArray(v) && v.length > DISK_LIST_VIEW_MAX ? { length: v.length, tail: v.slice(-DISK_LIST_VIEW_MAX) } : cloneShared(v);
  }
  return out;
}

function info(s: Scenario): ScenarioInfo {
  return { id: s.id, title: s.title, summary: s.summary, tags: [...s.tags], difficulty: s.difficulty, minutes: s.minutes };
}

/** Whether event `i` passes a step's match (see `EventMatch`); the caller has checked its kind. */
function matchesEvent(evs: readonly TraceEvent[], i: number, m: EventMatch): boolean {
  const e = evs[i];
  if (m.msg !== undefined && !('msg' in e && e.msg === m.msg)) return false;
  if (m.key === undefined && m.values === undefined && m.rises === undefined) return true;
  if (e.kind !== 'node.state') return false;
  if (m.key !== undefined && e.key !== m.key) return false;
  if (m.values !== undefined && !m.values.includes(e.value)) return false;
  return m.rises === undefined || rose(evs, i, m.rises);
}

function numberField(v: unknown, field: string): number | null {
  const x = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[field] : undefined;
  return typeof x === 'number' ? x : null;
}

/** True when state event `i`'s `field` is above the same node's previous value for its key (back to its last boot). */
function rose(evs: readonly TraceEvent[], i: number, field: string): boolean {
  const e = evs[i];
  assert(e.kind === 'node.state', 'rise is only defined for node.state events');
  const now = numberField(e.value, field);
  if (now === null) return false;
  for (let j = i - 1; j >= 0 && i - j <= RISE_LOOKBACK_MAX; j--) {
    const p = evs[j];
    if (p.kind === 'node.boot' && p.node === e.node) return false;
    if (p.kind === 'node.state' && p.node === e.node && p.key === e.key) {
      const before = numberField(p.value, field);
      return before !== null && now > before;
    }
  }
  return false;
}

/** The filter behind `events` and `openedEvents`: kinds, node (as subject or sender), free text. */
function filterEvents(evs: readonly TraceEvent[], fromSeq: number, limit: number, filter: EventFilter): TraceEvent[] {
  const lim = Math.max(0, Math.min(Number.isFinite(limit) ? limit : 0, EVENTS_PAGE_MAX));
  const kinds = filter.kinds && filter.kinds.length ? new Set(filter.kinds) : null;
  const text = filter.text?.toLowerCase() ?? '';
  const msgs = filter.msgs ? new Set(filter.msgs) : null;
  const notes = filter.notes ? new Set(filter.notes) : null;
  const states = filter.states ? new Set(filter.states) : null;
  const out: TraceEvent[] = [];
  for (let i = Math.max(0, Number.isFinite(fromSeq) ? Math.floor(fromSeq) : 0); i < evs.length && out.length < lim; i++) {
    const e = evs[i];
    if (kinds && !kinds.has(e.kind)) continue;
    if (filter.node && eventNode(e) !== filter.node && !('from' in e && e.from === filter.node)) continue;
    if (filter.msgId !== undefined && !(e.kind.startsWith('msg.') && 'id' in e && e.id === filter.msgId)) continue;
    if (msgs && 'msg' in e && !msgs.has(e.msg)) continue;
    if (notes && e.kind === 'node.note' && !notes.has(e.name)) continue;
    if (states && e.kind === 'node.state' && !states.has(e.key)) continue;
    if (text && !JSON.stringify(e).toLowerCase().includes(text)) continue;
    out.push(e);
  }
  return out;
}
