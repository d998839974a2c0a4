import { format, line, scaleLinear, type ScaleLinear } from 'd3';
import type { Settings } from '../scenarios/settings.ts';
import type { CheckerStatus, LoadOptions, Snapshot } from '../sim/lab.ts';
import type { MetricValue } from '../sim/kernel/metrics.ts';
import type { Micros } from '../sim/kernel/time.ts';
import type { TraceEvent, TraceKind } from '../sim/kernel/trace.ts';
import type { Action, Fault, NodeId } from '../sim/kernel/types.ts';
import { formatMicros } from './format.ts';
import type { LabPort } from './port.ts';
import { termColor, timeTicks } from './raft-format.ts';
import { errorText, type LabSession } from './session.svelte.ts';
import { round1 } from './topology.svelte.ts';

/**
 * The what-if fork (issue 7): from the main run at virtual time t, branch B — the same scenario, seed, bugs, settings
 * and the actions applied up to t — with one change, and run it next to A, the main run as recorded, to a common
 * horizon. Both run in Labs of their own (two extra workers in the app, `localPort(new Lab())` in tests), so the
 * user's main run is never touched until "Make B the main run" loads B into it.
 *
 * The change is one of:
 * - a fault injected at t (B reaches exactly the main run's step count at t first, so the fault lands between the
 *   same two events the main run would have put it between, as `Lab.inject` does);
 * - a setting or a teaching bug: both are part of the system from its first event, so B re-runs from 0 with it;
 * - nothing: a control run, which must give A's trace hash (determinism).
 *
 * Ordering duties:
 * - Each side seeks forward in chunks (`FORK_CHUNKS` over the horizon, plus the sample grid) and awaits each call
 *   before the next, so a progress bar moves and the page stays responsive; every await races the job's abort
 *   promise, so Cancel returns at once even while a worker is busy (its worker is terminated).
 * - Samples and leader records are appended in time order per side; the arrays are plain and `revision` is bumped
 *   after a chunk at most every `REDRAW_MS` and once at the end, so the `$derived` geometry recomputes a few times a
 *   second while the runs advance (the pattern of ChartsTrace / RaftTrace).
 * - A run in progress belongs to one job; a result (or failure) of an older job never lands on a newer one.
 */

/** A Lab behind a port, and how to stop it (a worker in the app; nothing to stop for a Lab on this thread). */
export interface Spawned {
  port: LabPort;
  terminate: () => void;
}

export type Spawn = () => Spawned;

export type ForkMode = 'fault' | 'setting' | 'bug' | 'none';

export type ForkChange =
  | { kind: 'none'; label: string }
  | { kind: 'fault'; fault: Fault; label: string }
  | { kind: 'setting'; settings: Settings; label: string }
  | { kind: 'bug'; bug: string; label: string };

export type ForkStatus = 'idle' | 'running' | 'done' | 'failed' | 'cancelled';

export type Side = 'A' | 'B';

/** Seek chunks over the whole horizon, for the progress bar. */
export const FORK_CHUNKS = 48;
/** Metric samples over the charts' time axis (each a snapshot the chunk's seek returns anyway). */
export const FORK_SAMPLES = 60;
/** Leader records asked for in one call (the Lab's page limit). */
export const ROLE_PAGE = 10_000;
/** The charts and timelines redraw at most this often while the runs advance (the progress bar moves every chunk). */
export const REDRAW_MS = 250;
/** Charts shown at most; the picker offers every metric. */
export const CHARTS_MAX = 6;
/** Spans after the fork a comparison may stop at, besides the end of the run. */
export const SPANS_US: readonly Micros[] = [500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000];

/** The events the leader timeline folds: role and term changes, crashes and boots. */
export const ROLE_KINDS: readonly TraceKind[] = ['node.state', 'node.crash', 'node.boot'];

// ---- what A and B run with ---------------------------------------------------------------------------------------

/**
 * The actions the main run had applied at its snapshot: a pinned action (`step`) applies when the world has taken that
 * many steps, an unpinned one at its time. Later ones (the run was seeked back) are the old future a branch replaces.
 */
export function appliedActions(s: Snapshot): Action[] {
  return s.actions.filter((a) => (a.step !== undefined ? a.step < s.steps : a.at <= s.t));
}

/** A: the main run as recorded, every action included. */
export function optionsA(origin: Snapshot): LoadOptions {
  return { seed: origin.seed, bugs: [...origin.bugs], settings: structuredClone(origin.settings), actions: structuredClone(origin.actions) };
}

/** B: the main run's inputs up to the fork, with the change (a fault is injected later, at the fork). */
export function optionsB(origin: Snapshot, change: ForkChange): LoadOptions {
  const base: LoadOptions = { seed: origin.seed, bugs: [...origin.bugs], settings: structuredClone(origin.settings), actions: structuredClone(appliedActions(origin)) };
  if (change.kind === 'setting') return { ...base, settings: structuredClone(change.settings) };
  if (change.kind === 'bug') return { ...base, bugs: [...origin.bugs, change.bug] };
  return base;
}

/** Whether B re-runs from 0 (a setting or a bug is part of the system from its first event). */
export function fromStart(change: ForkChange): boolean {
  return change.kind === 'setting' || change.kind === 'bug';
}

/** `base` with one config field of one node kind set (other kinds, fields and the stored queries kept). */
export function withSetting(base: Settings, kind: string, field: string, value: unknown): Settings {
  const config = { ...(base.config ?? {}) } as NonNullable<Settings['config']>;
  config[kind] = { ...(config[kind] ?? {}), [field]: value as never };
  return { ...base, config };
}

const FIELD_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** The config of the first node of `kind` whose memory shows one (crashed nodes show none). */
export function configOf(s: Snapshot, kind: string): Record<string, unknown> | null {
  for (const n of s.nodes) {
    if (n.kind !== kind || n.memory === null || typeof n.memory !== 'object') continue;
    const cfg = (n.memory as { cfg?: unknown }).cfg;
    if (cfg && typeof cfg === 'object' && !Array.isArray(cfg)) return cfg as Record<string, unknown>;
  }
  return null;
}

/** The node kinds of a run, in topology order. */
export function kindsOf(s: Snapshot): string[] {
  return [...new Set(s.nodes.map((n) => n.kind))];
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Text as typed: JSON when it parses (`3`, `true`, `"x"`, `[1]`), else the text itself (`leader`). */
export function parseValue(text: string): unknown {
  const s = text.trim();
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

export type SettingResult = { ok: true; change: ForkChange & { kind: 'setting' } } | { ok: false; error: string };

/**
 * The setting form: one config field of one node kind. Checked here where the run shows the field (a typo would
 * otherwise be merged in unused and B would silently equal A); the node kind still checks the value when B boots,
 * and a refusal there is B's error.
 */
export function settingChange(origin: Snapshot, kind: string, field: string, valueText: string): SettingResult {
  const kinds = kindsOf(origin);
  if (!kinds.includes(kind)) return { ok: false, error: `pick a node kind (${kinds.join(', ')})` };
  const name = field.trim();
  if (!FIELD_RE.test(name)) return { ok: false, error: 'a config field is a letter, then letters, digits or "_"' };
  if (valueText.trim() === '') return { ok: false, error: `type a value for ${kind}.${name}` };
  const value = parseValue(valueText);
  const cfg = configOf(origin, kind);
  if (cfg) {
    if (!(name in cfg)) {
      const known = Object.keys(cfg).sort().join(', ');
      return { ok: false, error: `${kind} has no config field "${name}" (fields: ${known})` };
    }
    const now = cfg[name];
    if (now !== null && now !== undefined && typeName(now) !== typeName(value)) {
      return { ok: false, error: `${kind}.${name} is ${typeName(now)} (now ${JSON.stringify(now)}); ${JSON.stringify(value)} is ${typeName(value)}` };
    }
  }
  const settings = withSetting(origin.settings, kind, name, value);
  return { ok: true, change: { kind: 'setting', settings, label: `${kind}.${name} = ${JSON.stringify(value)}` } };
}

/**
 * Settings typed as JSON (the stored queries of an APM run, several fields at once), replacing the run's. Only the
 * JSON syntax is checked here; the Lab validates the rest when B loads, and its refusal is B's error.
 */
export function settingsJsonChange(text: string): SettingResult {
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `settings JSON: ${errorText(e)}` };
  }
  if (settings === null || typeof settings !== 'object' || Array.isArray(settings)) return { ok: false, error: 'settings JSON: expected an object like {"config": {…}}' };
  return { ok: true, change: { kind: 'setting', settings: settings as Settings, label: `settings ${JSON.stringify(settings)}` } };
}

/** A fault in words, as the fault panel says it once done ("crashed r1", "isolated r2", "set r1 ↔ r2: loss 20%"). */
export function faultLabel(f: Fault): string {
  switch (f.kind) {
    case 'crash':
      return `crashed ${f.node}${f.loseUnsynced === false ? ' (unsynced writes kept)' : ''}`;
    case 'restart':
      return `restarted ${f.node}`;
    case 'pause':
      return `paused ${f.node}`;
    case 'resume':
      return `resumed ${f.node}`;
    case 'heal':
      return 'healed the partition';
    case 'partition':
      if (f.shape === 'isolate') return `isolated ${f.node ?? 'a random node'}`;
      if (f.shape === 'bridge') return `bridged through ${f.node ?? 'a random node'}`;
      if (f.shape === 'groups') return `cut ${(f.groups ?? []).map((g) => `{${g.join(' ')}}`).join(f.oneWay ? ' → ' : ' | ')}`;
      return f.shape === 'ring' ? 'cut a majorities ring' : 'split into halves';
    case 'link': {
      const set = Object.entries(f.set)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return `set ${f.from} ${f.symmetric ? '↔' : '→'} ${f.to}: ${set}`;
    }
  }
}

// ---- what the runs gather ------------------------------------------------------------------------------------------

/** Every metric as numbers: a counter as is, a distribution as its count, p50 and p99. */
export function flatMetrics(m: Record<string, MetricValue>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'number') out[k] = v;
    else if (v && typeof v === 'object') {
      out[`${k} count`] = v.count;
      out[`${k} p50`] = v.p50;
      out[`${k} p99`] = v.p99;
    }
  }
  return out;
}

/** A Raft replica group: its name (the partition for a queue, else "replicas") and members in topology order. */
export interface RaftGroup {
  name: string;
  members: NodeId[];
}

/** The replica groups of a run, read from the replicas' memory (so from a snapshot where they are up: the load's). */
export function raftGroups(s: Snapshot): RaftGroup[] {
  const groups = new Map<string, NodeId[]>();
  for (const n of s.nodes) {
    const m = n.memory as { role?: unknown; commitIndex?: unknown; cfg?: { name?: unknown } } | null;
    if (!m || typeof m !== 'object' || typeof m.role !== 'string' || typeof m.commitIndex !== 'number') continue;
    const name = typeof m.cfg?.name === 'string' ? m.cfg.name : 'replicas';
    groups.set(name, [...(groups.get(name) ?? []), n.id]);
  }
  return [...groups].map(([name, members]) => ({ name, members }));
}

/** One change the leader timeline folds. */
export interface RoleRec {
  t: Micros;
  seq: number;
  node: NodeId;
  what: 'role' | 'term' | 'crash' | 'boot';
  role: string;
  term: number;
}

export function roleRec(e: TraceEvent): RoleRec | null {
  if (e.kind === 'node.crash') return { t: e.t, seq: e.seq, node: e.node, what: 'crash', role: 'down', term: 0 };
  if (e.kind === 'node.boot') return { t: e.t, seq: e.seq, node: e.node, what: 'boot', role: 'follower', term: 0 };
  if (e.kind !== 'node.state') return null;
  if (e.key === 'role' && typeof e.value === 'string') return { t: e.t, seq: e.seq, node: e.node, what: 'role', role: e.value, term: 0 };
  if (e.key === 'term' && typeof e.value === 'number') return { t: e.t, seq: e.seq, node: e.node, what: 'term', role: '', term: e.value };
  return null;
}

/** A replica leading in one term from `t0` until `t1` (null: still leading at the horizon). */
export interface LeaderSpan {
  node: NodeId;
  term: number;
  t0: Micros;
  t1: Micros | null;
}

/**
 * Who led when: a span opens when a replica becomes leader (in the term it campaigned in) and closes when it steps
 * down, crashes or adopts a higher term (a leader that stays leader across terms, the `no-step-down` bug, gets a span
 * per term). Spans may overlap: a deposed leader cut off from the rest still believes it leads (§5.1).
 */
export function leaderSpans(recs: readonly RoleRec[]): LeaderSpan[] {
  const state = new Map<NodeId, { role: string; term: number; open: LeaderSpan | null }>();
  const out: LeaderSpan[] = [];
  for (const r of recs) {
    let s = state.get(r.node);
    if (!s) state.set(r.node, (s = { role: 'follower', term: 0, open: null }));
    const close = () => {
      if (s!.open) s!.open.t1 = r.t;
      s!.open = null;
    };
    if (r.what === 'term') {
      if (s.open && r.term !== s.term) {
        close();
        s.open = { node: r.node, term: r.term, t0: r.t, t1: null };
        out.push(s.open);
      }
      s.term = r.term;
      continue;
    }
    if (r.role === 'leader' && !s.open) {
      s.open = { node: r.node, term: s.term, t0: r.t, t1: null };
      out.push(s.open);
    } else if (r.role !== 'leader') close();
    s.role = r.role;
  }
  return out;
}

/** Everything one side gathered. Plain arrays, appended in time order; read them through `revision`. */
export interface SideData {
  side: Side;
  /** The latest snapshot (the final one once the side is done). */
  last: Snapshot | null;
  groups: RaftGroup[];
  /** Metric samples in time order. */
  samples: { t: Micros; m: Record<string, number> }[];
  recs: RoleRec[];
  nextSeq: number;
}

function sideData(side: Side): SideData {
  return { side, last: null, groups: [], samples: [], recs: [], nextSeq: 0 };
}

// ---- comparison tables -----------------------------------------------------------------------------------------------

const INT = format(',');
const DEC = format(',.4~r');

export function fmtValue(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  return Number.isInteger(v) ? INT(v) : DEC(v);
}

/** What the ledger's and the runs' headline metrics mean, for the table's tooltips. */
export const METRIC_HELP: Record<string, string> = {
  produced: 'Produced: messages the producers handed to the queue.',
  acked: 'Acked: messages the broker confirmed to their producer (after the leader’s WAL with acks=leader, after the commit with acks=quorum).',
  delivered: 'Delivered: messages the consumers processed for the first time.',
  duplicated: 'Duplicated: messages processed again after a first time (at-least-once).',
  lost: 'Lost: acknowledged messages that were never delivered — a broken promise to the producer.',
  expired: 'Expired: messages dropped after waiting longer than their TTL.',
  deadLettered: 'Dead-lettered: messages moved to the dead-letter queue after too many failed deliveries.',
  redelivered: 'Redelivered: messages put back because their consumer did not acknowledge them in time.',
  pending: 'Pending: messages still queued or in flight at the horizon.',
  reordered: 'Reordered: messages a consumer processed out of their partition’s order.',
  leaderChanges: 'Leader changes: how many times a replica group got a new leader.',
  elections: 'Elections: campaigns that produced a leader.',
  terms: 'Terms: the highest Raft term reached.',
  writesAcked: 'Writes acked: client writes the leader confirmed after their commit.',
  clientRetries: 'Client retries: writes a client sent again after a timeout or a redirect.',
};

export function metricHelp(key: string): string {
  const base = key.split(' ')[0];
  const stat = key.slice(base.length + 1);
  const what = METRIC_HELP[base] ?? `${base}: a metric of the run summary.`;
  return stat ? `${what} (${stat} of its samples)` : what;
}

export interface LedgerRow {
  key: string;
  a: number | null;
  b: number | null;
  /** "0 → 12 (+12)", or "=" when equal. */
  change: string;
  differs: boolean;
  help: string;
}

/** The runs' metrics side by side, A's order first; a row differs when B's value is not A's. */
export function ledgerRows(a: Snapshot, b: Snapshot): LedgerRow[] {
  const fa = flatMetrics(a.metrics);
  const fb = flatMetrics(b.metrics);
  const keys = [...new Set([...Object.keys(fa), ...Object.keys(fb)])];
  return keys.map((key) => {
    const va = fa[key] ?? null;
    const vb = fb[key] ?? null;
    const differs = va !== vb;
    let change = '=';
    if (differs) {
      const delta = va !== null && vb !== null ? vb - va : null;
      const sign = delta !== null && delta > 0 ? '+' : '';
      change = `${fmtValue(va)} → ${fmtValue(vb)}${delta === null ? '' : ` (${sign}${fmtValue(delta)})`}`;
    }
    return { key, a: va, b: vb, change, differs, help: metricHelp(key) };
  });
}

export interface CheckerCell {
  violations: number;
  /** The first violation, described: "at 1.204s: two leaders in term 3 (r1, r2)". */
  first: string | null;
}

export interface CheckerRow {
  name: string;
  description: string;
  a: CheckerCell;
  b: CheckerCell;
  differs: boolean;
}

function checkerCell(s: Snapshot, c: CheckerStatus | undefined): CheckerCell {
  if (!c) return { violations: 0, first: null };
  const v = s.violations.find((x) => x.checker === c.name);
  return { violations: c.violations, first: v ? `at ${formatMicros(v.t)}: ${v.message}` : null };
}

export function checkerRows(a: Snapshot, b: Snapshot): CheckerRow[] {
  const names = [...new Set([...a.checkers.map((c) => c.name), ...b.checkers.map((c) => c.name)])];
  return names.map((name) => {
    const ca = a.checkers.find((c) => c.name === name);
    const cb = b.checkers.find((c) => c.name === name);
    const cellA = checkerCell(a, ca);
    const cellB = checkerCell(b, cb);
    return { name, description: (ca ?? cb)!.description, a: cellA, b: cellB, differs: cellA.violations !== cellB.violations };
  });
}

// ---- geometry ----------------------------------------------------------------------------------------------------------

const FALLBACK_WIDTH_PX = 960;
const MARGIN_L = 46;
const MARGIN_R = 14;
const PANEL_GAP = 18;
const PLOT_H = 96;
const PLOT_TOP = 14;
const AXIS_H = 20;
const LANE_H = 20;
const ROW_GAP = 8;
const TL_LABEL_W = 34;
/** A leader band is labelled when at least this wide. */
const LABEL_MIN_PX = 36;

/** Okabe–Ito blue for A, vermilion for B: the two runs keep their colours in every chart. */
export const SIDE_COLOR: Record<Side, string> = { A: '#0072B2', B: '#D55E00' };

export interface Tick {
  x: number;
  label: string;
}

export interface SeriesPanel {
  side: Side;
  d: string;
  /** The other run's line, drawn faint behind B's for reference (A's panel has none). */
  ghost: string | null;
  final: number | null;
  legend: string;
}

export interface MetricChart {
  key: string;
  help: string;
  differs: boolean;
  yTicks: { y: number; label: string }[];
  panels: [SeriesPanel, SeriesPanel];
  aria: string;
}

export interface SpanMark {
  key: string;
  node: NodeId;
  term: number;
  x: number;
  y: number;
  w: number;
  h: number;
  fill: string;
  label: string | null;
  title: string;
}

export interface CrashMark {
  key: string;
  x: number;
  y: number;
  title: string;
}

export interface TimelineRow {
  side: Side;
  y: number;
  h: number;
  spans: SpanMark[];
  crashes: CrashMark[];
}

export interface GroupTimeline {
  name: string;
  members: NodeId[];
  height: number;
  rows: TimelineRow[];
  /** A and B had the same leaders, term by term, up to the horizon. */
  same: boolean;
  /** The same leaders, but some took over at another moment (a failover a little faster or slower). */
  shifted: boolean;
  aria: string;
}

/** Greedy lanes: each span goes to the first lane free at its start (overlaps are stale leaders). */
function lanesOf(spans: readonly { t0: Micros; t1: Micros }[]): { lane: number[]; count: number } {
  const ends: Micros[] = [];
  const lane = spans.map((s) => {
    let i = ends.findIndex((e) => e <= s.t0);
    if (i < 0) i = ends.push(0) - 1;
    ends[i] = s.t1;
    return i;
  });
  return { lane, count: Math.max(1, ends.length) };
}

function spanKey(s: LeaderSpan): string {
  return `${s.node}@${s.term}@${s.t0}`;
}

// ---- the model -----------------------------------------------------------------------------------------------------

interface Job {
  cancelled: boolean;
  abort: Promise<never>;
  fail: (e: Error) => void;
  workers: Spawned[];
}

export class ForkModel {

  mode = $state<ForkMode>('fault');
  /** The fault picked in the fault panel for B (null until one is picked). */
  fault = $state.raw<{ fault: Fault; label: string } | null>(null);
  settingKind = $state('');
  settingField = $state('');
  settingValue = $state('');
  /** Settings typed as JSON; when not blank it is the setting change instead of the field form. */
  settingsJson = $state('');
  bug = $state('');
  bugs = $state.raw<Record<string, string> | null>(null);
  /** 0 for the end of the run, else a span after the fork. */
  spanUs = $state<Micros>(0);

  status = $state<ForkStatus>('idle');
  error = $state<string | null>(null);
  /** What the latest comparison ran: its change and time axis (fixed while the form changes). */
  ran = $state.raw<{ change: ForkChange; horizonUs: Micros; axisStartUs: Micros } | null>(null);
  reachedA = $state(0);
  reachedB = $state(0);
  /** Bumped after every chunk: the side data below changed. */
  revision = $state(0);
  /** Metric keys picked for the charts; null until the reader picks (then the defaults apply). */
  picked = $state.raw<string[] | null>(null);
  widthPx = $state(0);
  scale = $state(1);

  private sides: Record<Side, SideData> = { A: sideData('A'), B: sideData('B') };
  private job: Job | null = null;
  /** Wall time of the last redraw (`revision` bump) while running. */
  private drawnAtMs = -Infinity;

  /**
   * @param origin The main run's snapshot at the fork (a snapshot is replaced whole, never changed): B branches from it.
   * @param spawn Starts a Lab for one side; called twice per comparison, and each is terminated when its run ends.
   */
  constructor(
    readonly origin: Snapshot,
    private readonly spawn: Spawn,
  ) {
    this.settingKind = kindsOf(origin)[0] ?? '';
    // At the end of the run there is no later moment for a fault; a setting or a bug still re-runs from 0.
    if (this.over) this.mode = 'setting';
  }

  /** The fork moment: the main run's time at the snapshot. */
  get forkUs(): Micros {
    return this.origin.t;
  }

  get durationUs(): Micros {
    return this.origin.durationUs;
  }

  /** True when the main run stood at its end: no fault can be injected there. */
  get over(): boolean {
    return this.forkUs >= this.durationUs;
  }

  /** The leaders at the fork, for the fault panel's default target ("crash the leader"). */
  readonly leadersAtFork: NodeId[] = $derived.by(() => this.origin.nodes.filter((n) => n.headline.role === 'leader').map((n) => n.id));

  readonly spans: { us: Micros; label: string }[] = $derived(SPANS_US.filter((us) => this.forkUs + us < this.durationUs).map((us) => ({ us, label: `fork + ${formatMicros(us)}` })));

  readonly horizonUs: Micros = $derived(this.spanUs > 0 ? Math.min(this.durationUs, this.forkUs + this.spanUs) : this.durationUs);

  readonly settingFields: { name: string; now: string }[] = $derived.by(() => {
    const cfg = configOf(this.origin, this.settingKind);
    return cfg ? Object.keys(cfg).sort().map((name) => ({ name, now: JSON.stringify(cfg[name]) ?? '' })) : [];
  });

  readonly settingNow: string | null = $derived(this.settingFields.find((f) => f.name === this.settingField.trim())?.now ?? null);

  /** The change the form describes, or why there is none yet. */
  readonly pending: { ok: true; change: ForkChange } | { ok: false; error: string } = $derived.by(() => {
    const at = formatMicros(this.forkUs);
    switch (this.mode) {
      case 'none':
        return { ok: true, change: { kind: 'none', label: 'no change (a control run)' } };
      case 'fault':
        if (this.over) return { ok: false, error: 'the run is over at the fork: seek back to branch with a fault' };
        if (!this.fault) return { ok: false, error: 'pick a fault for B in the panel' };
        return { ok: true, change: { kind: 'fault', fault: this.fault.fault, label: `${this.fault.label} at ${at}` } };
      case 'setting': {
        const r = this.settingsJson.trim() !== '' ? settingsJsonChange(this.settingsJson) : settingChange(this.origin, this.settingKind, this.settingField, this.settingValue);
        return r.ok ? { ok: true, change: { ...r.change, label: `${r.change.label}, from 0` } } : r;
      }
      case 'bug':
        if (!this.bug) return { ok: false, error: 'pick a teaching bug' };
        return { ok: true, change: { kind: 'bug', bug: this.bug, label: `bug ${this.bug}, from 0` } };
    }
  });

  /** The main run has actions after the fork (it was seeked back): A keeps them, B drops them. */
  readonly laterActions: number = $derived.by(() => this.origin.actions.length - appliedActions(this.origin).length);

  readonly progress: number = $derived(this.ran ? Math.min(1, (this.reachedA + this.reachedB) / (2 * Math.max(1, this.ran.horizonUs))) : 0);

  readonly running: boolean = $derived(this.status === 'running');

  /** The side data, read through `revision`. */
  side(s: Side): SideData {
    void this.revision;
    return this.sides[s];
  }

  /** Picks the fault B gets at the fork (the fault panel's `oninject`): always accepted here, checked when B runs. */
  chooseFault(fault: Fault): null {
    this.fault = { fault, label: faultLabel(fault) };
    this.mode = 'fault';
    return null;
  }

  async loadBugs(): Promise<void> {
    if (this.bugs) return;
    const all = this.origin.knownBugs;
    this.bugs = Object.fromEntries(Object.entries(all).filter(([name]) => !this.origin.bugs.includes(name)));
  }

  // ---- running -------------------------------------------------------------------------------------------------------

  /** Runs A and B to the horizon. Resolves when both are done, one failed, or the run was cancelled. */
  async run(): Promise<void> {
    if (this.status === 'running') return;
    const pending = this.pending;
    if (!pending.ok) {
      this.error = pending.error;
      this.status = 'failed';
      return;
    }
    const horizonUs = this.horizonUs;
    const change = pending.change;
    const axisStartUs = this.spanUs > 0 && !fromStart(change) ? Math.max(0, this.forkUs - this.spanUs) : 0;
    let fail: (e: Error) => void = () => {};
    const abort = new Promise<never>((_, reject) => (fail = reject));
    abort.catch(() => {});
    const job: Job = { cancelled: false, abort, fail, workers: [] };
    this.stop();
    this.job = job;
    this.sides = { A: sideData('A'), B: sideData('B') };
    this.ran = { change, horizonUs, axisStartUs };
    this.reachedA = 0;
    this.reachedB = 0;
    this.error = null;
    this.status = 'running';
    this.revision++;
    try {
      job.workers = [this.spawn(), this.spawn()];
      await Promise.all([this.drive(job, 'A', job.workers[0].port), this.drive(job, 'B', job.workers[1].port)]);
      if (this.job === job) this.status = 'done';
    } catch (e) {
      if (this.job === job && !job.cancelled) {
        this.error = errorText(e);
        this.status = 'failed';
      }
      job.fail(new Error('stopped'));
    } finally {
      // The runs' data is all here now: the workers are not needed any more.
      for (const w of job.workers) w.terminate();
      job.workers = [];
      if (this.job === job) this.job = null;
      this.revision++;
    }
  }

  /** Stops the comparison in progress: the workers are terminated at once; what was gathered is dropped. */
  cancel(): void {
    const job = this.job;
    if (!job || this.status !== 'running') return;
    job.cancelled = true;
    job.fail(new Error('cancelled'));
    this.stop();
    this.sides = { A: sideData('A'), B: sideData('B') };
    this.ran = null;
    this.status = 'cancelled';
    this.revision++;
  }

  /** The comparison is closing: stop any run and its workers. */
  close(): void {
    if (this.status === 'running') this.cancel();
    this.stop();
  }

  private stop(): void {
    const job = this.job;
    if (!job) return;
    for (const w of job.workers) w.terminate();
    job.workers = [];
    this.job = null;
  }

  /** Awaits a port call unless the job is stopped first; errors name the side. */
  private async call<T>(job: Job, side: Side, p: Promise<T>): Promise<T> {
    try {
      return await Promise.race([p, job.abort]);
    } catch (e) {
      if (job.cancelled || this.job !== job) throw e;
      throw new Error(`${side === 'A' ? 'A (the main run, continued)' : 'B (the branch)'} failed: ${errorText(e)}`);
    }
  }

  /** The seek targets: chunks for progress, the sample grid of the time axis, and the fork itself. */
  private targets(horizonUs: Micros, axisStartUs: Micros): Micros[] {
    const out = new Set<Micros>();
    for (let k = 1; k <= FORK_CHUNKS; k++) out.add(Math.round((k * horizonUs) / FORK_CHUNKS));
    for (let k = 1; k <= FORK_SAMPLES; k++) out.add(Math.round(axisStartUs + (k * (horizonUs - axisStartUs)) / FORK_SAMPLES));
    if (this.forkUs > 0 && this.forkUs < horizonUs) out.add(this.forkUs);
    if (axisStartUs > 0) out.add(axisStartUs);
    return [...out].filter((t) => t > 0 && t <= horizonUs).sort((x, y) => x - y);
  }

  private async drive(job: Job, side: Side, port: LabPort): Promise<void> {
    const ran = this.ran!;
    const change = ran.change;
    const opts = side === 'A' ? optionsA(this.origin) : optionsB(this.origin, change);
    let snap = await this.call(job, side, port.load(this.origin.scenario.id, opts));
    this.sides[side].groups = raftGroups(snap);
    await this.record(job, side, port, snap);
    let injected = !(side === 'B' && change.kind === 'fault');
    for (const target of this.targets(ran.horizonUs, ran.axisStartUs)) {
      if (!injected && change.kind === 'fault' && target >= this.forkUs) {
        snap = await this.branch(job, port, snap, change.fault);
        injected = true;
        await this.record(job, side, port, snap);
      }
      if (target <= snap.t) continue;
      snap = await this.call(job, side, port.seek(target));
      await this.record(job, side, port, snap);
    }
    if (!injected && change.kind === 'fault') {
      snap = await this.branch(job, port, snap, change.fault);
      await this.record(job, side, port, snap);
    }
  }

  /**
   * Brings B to the main run's exact place at the fork — its time and its step count (a `step` may have stopped it
   * between two events of one instant) — and injects the fault there, so B is what `inject` in the main run would give.
   */
  private async branch(job: Job, port: LabPort, at: Snapshot, fault: Fault): Promise<Snapshot> {
    const o = this.origin;
    let snap = at;
    if (o.t > 0 && snap.t < o.t - 1) snap = await this.call(job, 'B', port.seek(o.t - 1));
    if (snap.steps < o.steps) snap = await this.call(job, 'B', port.step(o.steps - snap.steps));
    if (snap.t < o.t) snap = await this.call(job, 'B', port.seek(o.t));
    if (snap.steps !== o.steps || snap.t !== o.t) {
      throw new Error(`B (the branch) failed: it reached step ${snap.steps} at ${formatMicros(snap.t)}, the main run was at step ${o.steps} at ${formatMicros(o.t)}`);
    }
    return this.call(job, 'B', port.inject(fault));
  }

  /** Takes a side's snapshot as its newest state: a metric sample, the leader records up to it, the progress. */
  private async record(job: Job, side: Side, port: LabPort, snap: Snapshot): Promise<void> {
    if (job.cancelled || this.job !== job) return;
    const d = this.sides[side];
    d.last = snap;
    const ran = this.ran!;
    if (snap.t >= ran.axisStartUs) {
      const sample = { t: snap.t, m: flatMetrics(snap.metrics) };
      const prev = d.samples[d.samples.length - 1];
      if (prev && prev.t === snap.t) d.samples[d.samples.length - 1] = sample;
      else d.samples.push(sample);
    }
    if (d.groups.length > 0) {
      const members = new Set(d.groups.flatMap((g) => g.members));
      for (;;) {
        const page = await this.call(job, side, port.events(d.nextSeq, ROLE_PAGE, { kinds: [...ROLE_KINDS] }));
        if (job.cancelled || this.job !== job) return;
        for (const e of page) {
          const r = 'node' in e && members.has(e.node) ? roleRec(e) : null;
          if (r) d.recs.push(r);
        }
        if (page.length > 0) d.nextSeq = page[page.length - 1].seq + 1;
        if (page.length < ROLE_PAGE) break;
      }
    }
    if (side === 'A') this.reachedA = snap.t;
    else this.reachedB = snap.t;
    const now = performance.now();
    if (now - this.drawnAtMs >= REDRAW_MS) {
      this.drawnAtMs = now;
      this.revision++;
    }
  }

  /**
   * Loads B into the main session (its settings, bugs and actions, the injected fault among them) at the fork moment,
   * so playing on shows B unfold. On failure the main run stays as it was and the error is shown here.
   */
  async promote(session: LabSession): Promise<boolean> {
    const b = this.sides.B.last;
    if (this.status !== 'done' || !b) return false;
    const ok = await session.load(b.scenario.id, b.seed, { bugs: b.bugs, settings: b.settings, actions: b.actions });
    if (!ok) {
      this.error = `Could not make B the main run: ${session.error ?? 'the load failed'}`;
      return false;
    }
    await session.seek(this.forkUs);
    return true;
  }

  // ---- the comparison ----------------------------------------------------------------------------------------------

  readonly done: boolean = $derived(this.status === 'done');
  readonly finalA: Snapshot | null = $derived(this.done ? this.side('A').last : null);
  readonly finalB: Snapshot | null = $derived(this.done ? this.side('B').last : null);

  readonly ledger: LedgerRow[] = $derived(this.finalA && this.finalB ? ledgerRows(this.finalA, this.finalB) : []);
  readonly checkers: CheckerRow[] = $derived(this.finalA && this.finalB ? checkerRows(this.finalA, this.finalB) : []);
  readonly sameHash: boolean = $derived(!!this.finalA && !!this.finalB && this.finalA.traceHash === this.finalB.traceHash);

  /** Every metric either side sampled, in A's order. */
  readonly metricKeys: string[] = $derived.by(() => {
    const keys = new Set<string>();
    for (const s of ['A', 'B'] as const) for (const x of this.side(s).samples) for (const k of Object.keys(x.m)) keys.add(k);
    return [...keys];
  });

  /** The charts shown: the picked metrics, or those whose last values differ, topped up with the ledger's headliners. */
  readonly chosen: string[] = $derived.by(() => {
    if (this.picked) return this.picked.filter((k) => this.metricKeys.includes(k));
    const last = (s: Side) => this.side(s).samples[this.side(s).samples.length - 1]?.m ?? {};
    const a = last('A');
    const b = last('B');
    const differ = this.metricKeys.filter((k) => a[k] !== b[k] && !k.includes(' '));
    const headline = ['lost', 'delivered', 'acked', 'duplicated', 'writesAcked', 'leaderChanges', 'elections', 'terms', 'produced', 'pending'];
    const out = [...differ, ...headline.filter((k) => this.metricKeys.includes(k)), ...this.metricKeys.filter((k) => !k.includes(' '))];
    return [...new Set(out)].slice(0, Math.min(4, CHARTS_MAX));
  });

  toggleMetric(key: string): void {
    const now = this.chosen;
    this.picked = now.includes(key) ? now.filter((k) => k !== key) : [...now, key].slice(-CHARTS_MAX);
  }

  readonly width: number = $derived(this.widthPx > 0 ? this.widthPx : FALLBACK_WIDTH_PX);
  readonly panelW: number = $derived(round1(Math.max(220, (this.width - PANEL_GAP * this.scale) / 2)));
  readonly marginL: number = $derived(round1(MARGIN_L * this.scale));
  readonly marginR: number = $derived(round1(MARGIN_R * this.scale));
  readonly axisStartUs: Micros = $derived(this.ran?.axisStartUs ?? 0);
  readonly axisEndUs: Micros = $derived(Math.max(this.axisStartUs + 1, this.ran?.horizonUs ?? this.durationUs));

  /** The charts' time axis (one panel wide), shared by A and B. */
  readonly chartX: ScaleLinear<number, number> = $derived(scaleLinear().domain([this.axisStartUs, this.axisEndUs]).range([this.marginL, this.panelW - this.marginR]));
  readonly chartH: number = $derived(round1((PLOT_TOP + PLOT_H + AXIS_H) * this.scale));
  readonly plotTop: number = $derived(round1(PLOT_TOP * this.scale));
  readonly plotBottom: number = $derived(round1((PLOT_TOP + PLOT_H) * this.scale));
  readonly chartTicks: Tick[] = $derived(this.ticks(this.chartX, this.panelW));
  readonly chartForkX: number = $derived(round1(this.chartX(this.forkUs)));

  readonly charts: MetricChart[] = $derived.by(() => this.chosen.map((key) => this.chart(key)));

  private ticks(x: ScaleLinear<number, number>, widthPx: number): Tick[] {
    const count = Math.max(2, Math.floor((widthPx - this.marginL) / (80 * this.scale)));
    return timeTicks(this.axisStartUs, this.axisEndUs, count).map((k) => ({ x: round1(x(k.t)), label: k.label }));
  }

  private series(side: Side, key: string): { t: Micros; v: number }[] {
    return this.side(side)
      .samples.filter((s) => key in s.m)
      .map((s) => ({ t: s.t, v: s.m[key] }));
  }

  private chart(key: string): MetricChart {
    const a = this.series('A', key);
    const b = this.series('B', key);
    const max = Math.max(1, ...a.map((p) => p.v), ...b.map((p) => p.v));
    const y = scaleLinear().domain([0, max]).nice(4).range([this.plotBottom, this.plotTop]);
    const path = line<{ t: Micros; v: number }>()
      .x((p) => round1(this.chartX(p.t)))
      .y((p) => round1(y(p.v)));
    const d = (pts: { t: Micros; v: number }[]) => (pts.length ? (path(pts) ?? '') : '');
    const last = (pts: { t: Micros; v: number }[]) => pts[pts.length - 1]?.v ?? null;
    const fa = last(a);
    const fb = last(b);
    const yTicks = y.ticks(4).map((v) => ({ y: round1(y(v)), label: fmtValue(v) }));
    return {
      key,
      help: metricHelp(key),
      differs: fa !== fb,
      yTicks,
      panels: [
        { side: 'A', d: d(a), ghost: null, final: fa, legend: `A ${fmtValue(fa)}` },
        { side: 'B', d: d(b), ghost: d(a), final: fb, legend: `B ${fmtValue(fb)}` },
      ],
      aria: `${key} over time: A ends at ${fmtValue(fa)}, B at ${fmtValue(fb)}.`,
    };
  }

  /** The leader timelines' time axis: the whole width, after a label column. */
  readonly timelineX: ScaleLinear<number, number> = $derived(scaleLinear().domain([this.axisStartUs, this.axisEndUs]).range([round1(TL_LABEL_W * this.scale), this.width - this.marginR]));
  readonly timelineTicks: Tick[] = $derived(this.ticks(this.timelineX, this.width));
  readonly timelineForkX: number = $derived(round1(this.timelineX(this.forkUs)));
  readonly axisH: number = $derived(round1(AXIS_H * this.scale));

  readonly timelines: GroupTimeline[] = $derived.by(() => {
    void this.revision;
    const groups = this.sides.A.groups.length ? this.sides.A.groups : this.sides.B.groups;
    const spans: Record<Side, LeaderSpan[]> = { A: leaderSpans(this.sides.A.recs), B: leaderSpans(this.sides.B.recs) };
    return groups.map((g) => this.timeline(g, spans));
  });

  private timeline(g: RaftGroup, all: Record<Side, LeaderSpan[]>): GroupTimeline {
    const members = new Set(g.members);
    const laneH = round1(LANE_H * this.scale);
    const gap = round1(ROW_GAP * this.scale);
    const rows: TimelineRow[] = [];
    const keys: Record<Side, string[]> = { A: [], B: [] };
    const starts: Record<Side, Micros[]> = { A: [], B: [] };
    // Room above the first row for the fork's label.
    let y = round1(13 * this.scale);
    for (const side of ['A', 'B'] as const) {
      const d = this.sides[side];
      // The side's time as of the last redraw (not its live progress, which moves every chunk).
      const now = d.last?.t ?? 0;
      const spans = all[side].filter((s) => members.has(s.node) && (s.t1 ?? now) >= this.axisStartUs);
      keys[side] = spans.map((s) => `${s.node}@${s.term}`);
      starts[side] = spans.map((s) => s.t0);
      const closed = spans.map((s) => ({ t0: s.t0, t1: s.t1 ?? now }));
      const { lane, count } = lanesOf(closed);
      const h = round1(count * laneH);
      const marks: SpanMark[] = spans.map((s, i) => {
        const x0 = this.timelineX(Math.max(this.axisStartUs, s.t0));
        const x1 = this.timelineX(Math.min(this.axisEndUs, closed[i].t1));
        const w = round1(Math.max(1.5, x1 - x0));
        const until = s.t1 === null ? `still leading at ${formatMicros(now)}` : `until ${formatMicros(s.t1)}`;
        return {
          key: spanKey(s),
          node: s.node,
          term: s.term,
          x: round1(x0),
          y: round1(y + lane[i] * laneH + 2),
          w,
          h: round1(laneH - 4),
          fill: termColor(s.term),
          label: w >= LABEL_MIN_PX * this.scale ? `${s.node} · t${s.term}` : null,
          title: `${side}: ${s.node} leads term ${s.term} from ${formatMicros(s.t0)} ${until}`,
        };
      });
      const crashes: CrashMark[] = d.recs
        .filter((r) => r.what === 'crash' && members.has(r.node) && r.t >= this.axisStartUs && r.t <= this.axisEndUs)
        .map((r) => ({ key: `${r.node}@${r.seq}`, x: round1(this.timelineX(r.t)), y: round1(y + h / 2), title: `${side}: ${r.node} crashed at ${formatMicros(r.t)}` }));
      rows.push({ side, y, h, spans: marks, crashes });
      y = round1(y + h + gap);
    }
    const same = keys.A.length === keys.B.length && keys.A.every((k, i) => k === keys.B[i]);
    const shifted = same && starts.A.some((t, i) => t !== starts.B[i]);
    const describe = (r: TimelineRow) => (r.spans.length ? r.spans.map((s) => `${s.node} in term ${s.term}`).join(', ') : 'no leader');
    return {
      name: g.name,
      members: g.members,
      height: round1(y - gap + this.axisH),
      rows,
      same,
      shifted,
      aria: `Leaders of ${g.name}. A: ${describe(rows[0])}. B: ${describe(rows[1])}.`,
    };
  }
}
