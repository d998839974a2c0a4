import { curveLinear, curveStepAfter, format, line, scaleLinear, type CurveFactory, type ScaleLinear } from 'd3';
import type { Snapshot } from '../sim/lab.ts';
import type { Micros } from '../sim/kernel/time.ts';
import {
  bucketFor,
  cumulative,
  dashboardOf,
  depthByPartition,
  lagMax,
  ledgerTotals,
  LEDGER_KEYS,
  ratePerS,
  STATUS_GAP_US,
  valueAt,
  type ChartsTrace,
  type DashboardView,
  type DashPointView,
  type DashQueryView,
  type LedgerKey,
  type Samples,
  type ScalerRec,
  type StatusRec,
  LESSON_DASHBOARD_KIND,
  LESSON_QUEUE_KINDS,
} from './charts-trace.svelte.ts';
import { FAULT_HELP, faultMarks, fmtSpan, labelRows as sharedLabelRows, type FaultMark } from './fault-windows.ts';
import { formatMicros } from './format.ts';
import { timeTicks } from './raft-format.ts';
import { lowerBound } from './raft-trace.svelte.ts';
import { round1 } from './topology.svelte.ts';

export { faultLabel, fmtSpan } from './fault-windows.ts';

/**
 * Geometry of the Charts panel (issue 6): small multiples over one shared virtual-time axis — the run's duration, a
 * cursor at the current time, and every fault window shaded on every chart. Charts: queue depth per partition, lag
 * (with the autoscaler's decisions), the delivery ledger, throughput, and one chart per stored dashboard query (a step
 * per window, the finality boundary, late samples, and for percentiles the average-of-partials mistake beside the
 * merged truth).
 *
 * Data comes from the charts' trace (ChartsTrace) and, for the dashboard, from the dashboard node's view in the
 * snapshot. Scales are d3 linear scales built once per chart and handed to the marks; positions are pixels rounded
 * to 0.1 so SVG snapshots are stable. Colours are Okabe–Ito (colour-blind safe); every line also has a legend entry
 * with its name and, where two lines share a colour, a dash pattern.
 */

/** Okabe & Ito (2008), in the order lines take them; black is the page's text colour so it works in the dark theme. */
export const OKABE_ITO = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', 'var(--text)', '#F0E442'] as const;

/** Dashboard labels keep one colour wherever they appear. */
const LABEL_COLOR: Record<string, string> = {
  min: '#56B4E9',
  max: '#D55E00',
  avg: '#009E73',
  p50: '#0072B2',
  p90: '#E69F00',
  p95: '#E69F00',
  p99: '#CC79A7',
  'p99.9': 'var(--text)',
  count: '#56B4E9',
  sum: '#009E73',
};

const LEDGER: Record<LedgerKey, { label: string; color: string; dash: string | null; help: string }> = {
  produced: { label: 'produced', color: '#0072B2', dash: null, help: 'Produced: messages a producer handed to the queue (each gets a producer id and a sequence number).' },
  acked: {
    label: 'acked',
    color: '#56B4E9',
    dash: '6 3',
    help: 'Acked: messages the broker confirmed to their producer — after the leader wrote them (acks=leader) or after a quorum of replicas did (acks=quorum, Kafka’s acks=all).',
  },
  delivered: { label: 'delivered', color: '#009E73', dash: null, help: 'Delivered: messages the consumers processed for the first time (the sink saw them once).' },
  duplicated: { label: 'duplicated', color: '#CC79A7', dash: null, help: 'Duplicated: messages processed again after a first time — the price of at-least-once delivery.' },
  redelivered: {
    label: 'redelivered',
    color: '#E69F00',
    dash: '2 2',
    help: 'Redelivered: messages put back in the queue because their consumer did not acknowledge them within the visibility timeout (SQS’s visibility timeout; Kafka share groups’ acquisition lock).',
  },
  deadLettered: { label: 'dead-lettered', color: '#D55E00', dash: null, help: 'Dead-lettered: messages moved to the dead-letter queue after too many failed deliveries (a poison message).' },
  expired: { label: 'expired', color: 'var(--text)', dash: '1 3', help: 'Expired: messages dropped because they waited longer than their time-to-live (TTL).' },
};

export const CHART_HELP = {
  depth:
    'Queue depth: messages waiting in a partition (ready), not yet handed to any consumer. Each partition leader reports it when the control plane polls it (every 100 ms); a gap means no leader answered. Kafka calls the waiting count the consumer lag in messages.',
  backlog:
    'Backlog: messages waiting for each consumer — in a smart broker, the consumer’s own bounded queue in memory (full means new messages are dropped or the publisher is blocked); in a partitioned log, how far the consumer group’s offset is behind the end of the log (retained on disk, so it can grow and be replayed). Dropped: messages a full broker queue threw away, as a running total.',
  staleness:
    'Staleness: how old the newest data the dashboard shows is, at each refresh. Online processing answers from the live store (milliseconds, but every refresh re-reads everything); a batch job leaves it growing until the next job finishes (the sawtooth); a stream consumer keeps it near its poll interval.',
  inflight:
    'In flight: messages handed to a consumer and not yet acknowledged. Each waits for its ack until its visibility timeout, then is redelivered; a consumer that dies holding many of them causes a burst of redeliveries (duplicates under at-least-once). Push consumers fill this up to their buffer; pull consumers only as fast as they ask.',
  lag: 'Lag: how old the oldest waiting message is — Kafka’s consumer lag, measured in time. The line is the largest lag over partitions. Lag that keeps rising means the consumers fall behind; an autoscaler adds consumers when it passes a threshold.',
  ledger:
    'Delivery ledger: running totals of what happened to the producers’ messages, counted as the run’s ledger checker counts them (each message acked once, delivered once; a second delivery is a duplicate). The final values are the run summary’s ledger metrics.',
  throughput:
    'Throughput: messages per second in each time bucket, produced vs delivered. When delivered stays below produced the queue grows; after an outage, delivered runs above produced while the backlog drains.',
  query:
    'A stored dashboard query. Every window [start, end) is a step; the dashboard merges the partials of all partitions: min, max, count and sum exactly, percentiles from the merged sketch (DDSketch). A dashed line of the same colour is the average of the partitions’ own percentiles — the tempting mistake: averaging p99s is not the p99.',
  fault: FAULT_HELP,
  cursor: 'The cursor: the simulation’s current virtual time.',
  finalBefore:
    'Finality boundary: windows that start before this line are final — every aggregator that keeps up has closed them (newest window − lateness − window length), so the dashboard serves them from its cache and never reads them again.',
  late: 'Late samples: samples that arrived after their window was closed by the watermark (plus the allowed lateness); they are counted, not added.',
  window: 'Window length: each point summarises the samples whose event time falls in one window [start, end).',
  avgOfPartials:
    'Average of partials (wrong): the plain average of each partition’s own value. For a percentile this is not the percentile of the whole — a heavy tail on one partition is diluted by the others. The solid line of the same colour merges the sketches and is the true value.',
} as const;

export const AXIS_H = 20;
export const TOP_PAD = 16;
export const PLOT_H = 118;
const MARGIN_L = 54;
const MARGIN_R = 18;
const FALLBACK_WIDTH_PX = 900;
/** Lines per chart before the rest are summarised (the small multiple stays readable). */
export const LINES_MAX = 8;
const TABLE_ROWS_MAX = 40;

export type ChartId = 'depth' | 'inflight' | 'backlog' | 'staleness' | 'lag' | 'ledger' | 'throughput' | `query:${string}`;

export interface LineMark {
  key: string;
  label: string;
  /** Legend text: the label with its value at the cursor ("delivered 1196"). */
  legend: string;
  color: string;
  dash: string | null;
  d: string;
  help: string;
  width: number;
}

/** A vertical mark: an autoscaler decision, the dashboard's finality boundary. */
export interface RuleMark {
  key: string;
  kind: 'scale' | 'capped' | 'final';
  x: number;
  label: string;
  title: string;
}

/** A window with late samples: a small flag at the top of the plot with the count. */
export interface LateMark {
  key: string;
  x: number;
  label: string;
  title: string;
}

/**
 * A label at the end of a line (the percentile lines and their average-of-partials twins are named on the plot, not
 * only in the legend), moved apart vertically so labels never overlap.
 */
export interface LineLabel {
  key: string;
  x: number;
  y: number;
  text: string;
  color: string;
  anchor: 'start' | 'end';
}

/** Spreads labels so neighbours are at least `gap` apart, keeping them within [lo, hi] (one pass down, one up). */
export function dodge(ys: readonly number[], gap: number, lo: number, hi: number): number[] {
  const order = ys.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y || a.i - b.i);
  const out = order.map((o) => Math.max(lo, o.y));
  for (let k = 1; k < out.length; k++) out[k] = Math.max(out[k], out[k - 1] + gap);
  if (out.length) out[out.length - 1] = Math.min(out[out.length - 1], hi);
  for (let k = out.length - 2; k >= 0; k--) out[k] = Math.min(out[k], out[k + 1] - gap);
  const res = new Array<number>(ys.length);
  order.forEach((o, k) => (res[o.i] = round1(out[k])));
  return res;
}

/** One hover probe: how to read a line's value at a time. */
interface Probe {
  label: string;
  color: string;
  samples: Samples;
  fmt: (v: number) => string;
}

export interface Table {
  caption: string;
  columns: string[];
  rows: string[][];
}

export interface Chart {
  id: ChartId;
  title: string;
  help: string;
  unit: string;
  /** The stored query's text (dashboard charts). */
  query: string | null;
  height: number;
  plotTop: number;
  plotBottom: number;
  yTicks: { y: number; label: string }[];
  /** In legend order. */
  lines: LineMark[];
  /** The same lines in drawing order: context first, percentiles last so a merged p99 is never hidden under max. */
  drawn: LineMark[];
  rules: RuleMark[];
  lates: LateMark[];
  labels: LineLabel[];
  /** The window-length bracket (dashboard charts), in a row of its own above the fault labels: x from / to, the text's baseline. */
  bracket: { x0: number; x1: number; y: number; text: string } | null;
  /** A remark under the title ("8 of 12 partitions shown…", "matches the run's ledger"). */
  note: string | null;
  /** Why there is nothing to draw yet, or null. */
  empty: string | null;
  aria: string;
  table: Table;
  probes: Probe[];
  /** Extra hover text (the autoscaler's reading, the window under the pointer). */
  extra?: (t: Micros) => string | null;
}

/** A fault band on every chart (shared with the elections timeline: see fault-windows.ts). */
export type BandMark = FaultMark;

/** Label rows above the plot at most; a label that fits in none overlaps in the last. */
export const BAND_ROWS_MAX = 3;
const BAND_ROW_H = 13;

/** Greedy label rows (shared with the elections timeline), at most `BAND_ROWS_MAX` by default. */
export function labelRows(items: readonly { x: number; w: number }[], rowsMax = BAND_ROWS_MAX): number[] {
  return sharedLabelRows(items, rowsMax);
}

// ---- formatting --------------------------------------------------------------------------------------------------

const SI = format('.3~s');
const SIG3 = format('.3~r');
const SIG2 = format('.2~r');

/** A number for ticks and legends: 3 significant digits, SI suffixes from 10,000. */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 10_000) return SI(v);
  if (a >= 100) return String(Math.round(v));
  if (a >= 1) return SIG3(v);
  return SIG2(v);
}

function fmtSeconds(v: number): string {
  return `${fmtNum(v)} s`;
}

// ---- the model ---------------------------------------------------------------------------------------------------

export class ChartsModel {
  widthPx = $state(0);
  scale = $state(1);
  /** The virtual time under the pointer, or null. */
  hoverT = $state<Micros | null>(null);

  readonly snapshot: Snapshot | null = $derived.by(() => this.source());
  readonly now: Micros = $derived.by(() => (this.snapshot ? this.trace.horizon(this.snapshot) : 0));
  readonly durationUs: Micros = $derived(Math.max(1, this.snapshot?.durationUs ?? 1));
  readonly width: number = $derived(this.widthPx > 0 ? this.widthPx : FALLBACK_WIDTH_PX);
  readonly marginL: number = $derived(round1(MARGIN_L * this.scale));
  readonly marginR: number = $derived(round1(MARGIN_R * this.scale));
  readonly plotH: number = $derived(round1(PLOT_H * this.scale));

  /** The shared time axis: the whole run, left to right. */
  readonly x: ScaleLinear<number, number> = $derived(scaleLinear().domain([0, this.durationUs]).range([this.marginL, this.width - this.marginR]));

  readonly xTicks: { x: number; label: string }[] = $derived(
    timeTicks(0, this.durationUs, Math.max(3, Math.floor((this.width - this.marginL) / (90 * this.scale)))).map((k) => ({ x: this.px(k.t), label: k.label })),
  );

  readonly cursorX: number = $derived(this.px(Math.min(this.now, this.durationUs)));
  readonly hoverX: number | null = $derived(this.hoverT === null ? null : this.px(this.hoverT));

  readonly hasQueue: boolean = $derived(this.snapshot?.nodes.some((n) => n.kind === 'mq-partition') ?? false);
  readonly hasProducers: boolean = $derived(this.snapshot?.nodes.some((n) => n.kind === 'mq-producer') ?? false);
  readonly hasScaler: boolean = $derived(this.snapshot?.nodes.some((n) => n.kind === 'apm-autoscaler') ?? false);
  readonly hasLessonQueue: boolean = $derived(this.snapshot?.nodes.some((n) => LESSON_QUEUE_KINDS.includes(n.kind)) ?? false);
  readonly hasLessonDashboard: boolean = $derived(this.snapshot?.nodes.some((n) => n.kind === LESSON_DASHBOARD_KIND) ?? false);
  readonly dashboard: DashboardView | null = $derived(dashboardOf(this.snapshot));

  readonly bands: BandMark[] = $derived.by(() => {
    void this.trace.revision;
    return faultMarks(this.trace.faults, {
      now: this.now,
      t0: 0,
      t1: this.durationUs,
      x: (t) => this.px(t),
      hosts: this.snapshot?.hosts ?? [],
      labelPx: (label) => (label.length * 6.6 + 10) * this.scale,
      rowsMax: BAND_ROWS_MAX,
    });
  });

  readonly bandRows: number = $derived(Math.max(1, ...this.bands.map((b) => b.row + 1)));
  readonly bandRowH: number = $derived(round1(BAND_ROW_H * this.scale));

  /** Room above the plot for the fault labels: one row each, as many rows as the labels need. */
  readonly topPad: number = $derived(round1((TOP_PAD + (this.bandRows - 1) * BAND_ROW_H) * this.scale));
  readonly axisH: number = $derived(round1(AXIS_H * this.scale));
  /** Every chart is this tall: plot, a strip above for band and mark labels, the time axis below. */
  readonly height: number = $derived(round1(this.topPad + this.plotH + this.axisH));
  readonly plotTop: number = $derived(this.topPad);
  readonly plotBottom: number = $derived(round1(this.topPad + this.plotH));

  /** Time-bucket for rates and for the data tables. */
  readonly bucketUs: Micros = $derived(bucketFor(this.durationUs));

  readonly depth: Chart | null = $derived.by(() => (this.hasQueue ? this.partitionChart('depth', 'Queue depth per partition', (r) => r.ready, 'Queue depth (waiting) per partition') : null));
  readonly inflight: Chart | null = $derived.by(() => (this.hasQueue ? this.partitionChart('inflight', 'In flight per partition', (r) => r.inflight, 'Messages in flight (delivered, not acked) per partition') : null));
  readonly backlog: Chart | null = $derived.by(() => (this.hasLessonQueue ? this.backlogChart() : null));
  readonly staleness: Chart | null = $derived.by(() => (this.hasLessonDashboard ? this.stalenessChart() : null));
  readonly lag: Chart | null = $derived.by(() => (this.hasQueue || this.hasScaler ? this.lagChart() : null));
  readonly ledger: Chart | null = $derived.by(() => (this.hasProducers ? this.ledgerChart() : null));
  readonly throughput: Chart | null = $derived.by(() => (this.hasProducers ? this.throughputChart() : null));
  readonly queries: Chart[] = $derived.by(() => (this.dashboard?.queries ?? []).map((q) => this.queryChart(q)));

  /** The charts in the order shown: the dashboard's queries first (what an APM run is about), then the queue's. */
  readonly charts: Chart[] = $derived(
    [...this.queries, this.staleness, this.backlog, this.depth, this.inflight, this.lag, this.ledger, this.throughput]
      .filter((c): c is Chart => c !== null)
      // An empty chart keeps its time axis but not a made-up y axis.
      .map((c) => ({ ...c, drawn: c.drawn.length ? c.drawn : c.lines, yTicks: c.empty ? [] : c.yTicks })),
  );

  /** Per chart, the values under the pointer ("at 2.300s · orders-0 12 · orders-1 3"). */
  readonly readouts: Map<ChartId, string> = $derived.by(() => {
    const out = new Map<ChartId, string>();
    const t = this.hoverT;
    if (t === null) return out;
    for (const c of this.charts) {
      const parts = c.probes.map((p) => {
        const v = valueAt(p.samples, t);
        return `${p.label} ${v === null ? '—' : p.fmt(v)}`;
      });
      const extra = c.extra?.(t);
      if (extra) parts.push(extra);
      out.set(c.id, `at ${formatMicros(t)}: ${parts.join(' · ')}`);
    }
    return out;
  });

  readonly summary: string = $derived.by(() => {
    const parts: string[] = [];
    const q = this.dashboard?.queries.length ?? 0;
    if (q > 0) parts.push(`${q} dashboard quer${q === 1 ? 'y' : 'ies'}`);
    if (this.hasQueue) {
      const n = new Set(this.trace.statuses.map((s) => s.partition)).size;
      parts.push(`${n} partition${n === 1 ? '' : 's'}`);
    }
    const faults = this.bands.length;
    parts.push(`${faults} fault window${faults === 1 ? '' : 's'}`);
    return parts.join(' · ');
  });

  constructor(
    private readonly source: () => Snapshot | null,
    private readonly trace: ChartsTrace,
  ) {}

  /** x of a virtual time, rounded to 0.1 px. */
  px(t: Micros): number {
    return round1(this.x(t));
  }

  /** The virtual time at x pixels from the left of a chart, clamped to the run. */
  timeAt(px: number): Micros {
    return Math.round(Math.max(0, Math.min(this.durationUs, this.x.invert(px))));
  }

  // ---- shared pieces ---------------------------------------------------------------------------------------------

  /** A y scale from 0 to a little above `max` (room for the marks along the top), rounded to nice ticks. */
  private yScale(max: number, c: Chart): ScaleLinear<number, number> {
    return scaleLinear()
      .domain([0, max > 0 ? max * 1.08 : 1])
      .nice(4)
      .range([c.plotBottom, c.plotTop + 4 * this.scale]);
  }

  private yTicks(y: ScaleLinear<number, number>, fmt: (v: number) => string = fmtNum): { y: number; label: string }[] {
    return y.ticks(4).map((v) => ({ y: round1(y(v)), label: fmt(v) }));
  }

  /** A path through samples (gaps at nulls), cut at the cursor; step series are extended flat to the cursor. */
  private path(s: Samples, y: ScaleLinear<number, number>, curve: CurveFactory, extendTo: Micros | null): string {
    const pts: [number, number | null][] = [];
    for (let i = 0; i < s.t.length && s.t[i] <= this.now; i++) pts.push([s.t[i], s.v[i]]);
    const last = pts[pts.length - 1];
    if (extendTo !== null && last && last[1] !== null && extendTo > last[0]) pts.push([extendTo, last[1]]);
    const gen = line<[number, number | null]>()
      .defined((p) => p[1] !== null)
      .x((p) => this.x(p[0]))
      .y((p) => y(p[1] ?? 0))
      .curve(curve)
      .digits(1);
    return gen(pts) ?? '';
  }

  private base(id: ChartId, title: string, help: string, unit: string): Chart {
    return {
      id,
      title,
      help,
      unit,
      query: null,
      height: this.height,
      plotTop: this.plotTop,
      plotBottom: this.plotBottom,
      yTicks: [],
      lines: [],
      drawn: [],
      rules: [],
      lates: [],
      labels: [],
      bracket: null,
      note: null,
      empty: null,
      aria: '',
      table: { caption: title, columns: [], rows: [] },
      probes: [],
    };
  }

  /** The bucket ends up to the cursor, for data tables (at most TABLE_ROWS_MAX rows). */
  private tableTimes(): Micros[] {
    const step = bucketFor(this.durationUs, TABLE_ROWS_MAX);
    const out: Micros[] = [];
    for (let t = step; t <= this.now; t += step) out.push(t);
    if (out[out.length - 1] !== this.now && this.now > 0) out.push(this.now);
    return out;
  }

  private sampledTable(caption: string, series: { label: string; samples: Samples; fmt: (v: number) => string }[]): Table {
    return {
      caption,
      columns: ['time', ...series.map((s) => s.label)],
      rows: this.tableTimes().map((t) => [formatMicros(t), ...series.map((s) => {
        const v = valueAt(s.samples, t);
        return v === null ? '—' : s.fmt(v);
      })]),
    };
  }

  // ---- 1. queue depth and in flight, per partition ---------------------------------------------------------------

  private partitionChart(id: 'depth' | 'inflight', title: string, pick: (r: StatusRec) => number, tableTitle: string): Chart {
    void this.trace.revision;
    const help = CHART_HELP[id];
    const c = this.base(id, title, help, 'messages');
    const all = depthByPartition(this.trace.statuses, pick);
    const names = [...all.keys()].sort();
    const shown = names.length <= LINES_MAX ? names : [...names].sort((a, b) => all.get(b)!.max - all.get(a)!.max || a.localeCompare(b)).slice(0, LINES_MAX).sort();
    if (shown.length < names.length) c.note = `${shown.length} of ${names.length} partitions shown: the ones that reached the highest.`;
    const max = Math.max(0, ...shown.map((p) => all.get(p)!.max));
    const y = this.yScale(max, c);
    c.yTicks = this.yTicks(y);
    c.lines = shown.map((p, i) => {
      const s = all.get(p)!;
      // A leader silent for longer than a few polls: its last number no longer describes the queue.
      const fresh = s.t.length > 0 && this.now - s.t[s.t.length - 1] <= STATUS_GAP_US;
      const cur = fresh ? valueAt(s, this.now) : null;
      return { key: p, label: p, legend: `${p} ${cur === null ? '—' : fmtNum(cur)}`, color: OKABE_ITO[i % OKABE_ITO.length], dash: null, d: this.path(s, y, curveLinear, null), help: `${p}: ${help}`, width: 2 };
    });
    c.probes = shown.map((p, i) => ({ label: p, color: OKABE_ITO[i % OKABE_ITO.length], samples: all.get(p)!, fmt: fmtNum }));
    if (names.length === 0) c.empty = 'No partition leader has answered a status poll yet.';
    c.aria = `${title} over time, ${names.length} partition${names.length === 1 ? '' : 's'}; the highest reached ${fmtNum(max)} messages.`;
    c.table = this.sampledTable(tableTitle, shown.map((p) => ({ label: p, samples: all.get(p)!, fmt: fmtNum })));
    return c;
  }

  // ---- the framing lessons: backlog per consumer, dashboard staleness ---------------------------------------------

  private backlogChart(): Chart {
    void this.trace.revision;
    const c = this.base('backlog', 'Backlog per consumer', CHART_HELP.backlog, 'messages');
    const byQueue = new Map<string, Samples>();
    for (const r of this.trace.backlogs) {
      let s = byQueue.get(r.queue);
      if (!s) byQueue.set(r.queue, (s = { t: [], v: [] }));
      s.t.push(r.t);
      s.v.push(r.n);
    }
    const dropped: Samples = { t: [], v: [] };
    let total = 0;
    for (const d of this.trace.drops) {
      total += d.n;
      dropped.t.push(d.t);
      dropped.v.push(total);
    }
    const names = [...byQueue.keys()].sort().slice(0, LINES_MAX);
    const max = Math.max(0, total, ...names.flatMap((q) => byQueue.get(q)!.v.map((v) => v ?? 0)));
    const y = this.yScale(max, c);
    c.yTicks = this.yTicks(y);
    c.lines = names.map((q, i) => {
      const s = byQueue.get(q)!;
      const cur = valueAt(s, this.now);
      return { key: q, label: q, legend: `${q} ${cur === null ? '—' : fmtNum(cur)}`, color: OKABE_ITO[i % OKABE_ITO.length], dash: null, d: this.path(s, y, curveStepAfter, this.now), help: `${q}: ${CHART_HELP.backlog}`, width: 2 };
    });
    c.probes = names.map((q, i) => ({ label: q, color: OKABE_ITO[i % OKABE_ITO.length], samples: byQueue.get(q)!, fmt: fmtNum }));
    if (dropped.t.length > 0) {
      const cur = valueAt(dropped, this.now) ?? 0;
      c.lines.push({ key: 'dropped', label: 'dropped (total)', legend: `dropped (total) ${fmtNum(cur)}`, color: '#D55E00', dash: '5 3', d: this.path(dropped, y, curveStepAfter, this.now), help: 'Messages the smart broker dropped because a consumer’s queue was full: lost for good, since a broker deletes what it does not keep.', width: 1.8 });
      c.probes.push({ label: 'dropped', color: '#D55E00', samples: dropped, fmt: fmtNum });
    }
    if (names.length === 0) c.empty = 'No queue has announced a backlog yet.';
    c.aria = `Backlog per consumer over time, ${names.length} consumer${names.length === 1 ? '' : 's'}; the largest reached ${fmtNum(max)} messages${total > 0 ? `; ${fmtNum(total)} dropped` : ''}.`;
    c.table = this.sampledTable('Backlog per consumer', [...names.map((q) => ({ label: q, samples: byQueue.get(q)!, fmt: fmtNum })), ...(dropped.t.length ? [{ label: 'dropped (total)', samples: dropped, fmt: fmtNum }] : [])]);
    return c;
  }

  private stalenessChart(): Chart {
    void this.trace.revision;
    const c = this.base('staleness', 'Dashboard staleness (seconds)', CHART_HELP.staleness, 's');
    const s: Samples = { t: this.trace.staleness.map((r) => r.t), v: this.trace.staleness.map((r) => r.ms / 1000) };
    const max = Math.max(0, ...s.v.map((v) => v ?? 0));
    const y = this.yScale(max, c);
    c.yTicks = this.yTicks(y);
    const cur = valueAt(s, this.now);
    c.lines = [{ key: 'staleness', label: 'staleness', legend: `staleness ${cur === null ? '—' : fmtSeconds(cur)}`, color: '#0072B2', dash: null, d: this.path(s, y, curveStepAfter, this.now), help: CHART_HELP.staleness, width: 2 }];
    c.probes = [{ label: 'staleness', color: '#0072B2', samples: s, fmt: fmtSeconds }];
    if (s.t.length === 0) c.empty = 'The dashboard has not refreshed yet.';
    c.aria = `Dashboard staleness at each refresh; the worst was ${fmtSeconds(max)}.`;
    c.table = this.sampledTable('Dashboard staleness in seconds', [{ label: 'staleness (s)', samples: s, fmt: fmtNum }]);
    return c;
  }

  // ---- 2. lag and the autoscaler ---------------------------------------------------------------------------------

  private lagChart(): Chart {
    void this.trace.revision;
    const c = this.base('lag', 'Lag (seconds)', CHART_HELP.lag, 's');
    const lag = lagMax(this.trace.statuses);
    const scaler: Samples = { t: this.trace.scaler.map((r) => r.t), v: this.trace.scaler.map((r) => r.lagMs / 1000) };
    const max = Math.max(0, ...lag.v.map((v) => v ?? 0), ...scaler.v.map((v) => v ?? 0));
    const y = this.yScale(max, c);
    c.yTicks = this.yTicks(y);
    const cur = valueAt(lag, this.now);
    c.lines.push({ key: 'lag', label: 'max lag over partitions', legend: `max lag over partitions ${cur === null ? '—' : fmtSeconds(cur)}`, color: '#D55E00', dash: null, d: this.path(lag, y, curveLinear, null), help: CHART_HELP.lag, width: 2 });
    c.probes.push({ label: 'lag', color: '#D55E00', samples: lag, fmt: fmtSeconds });
    if (scaler.t.length > 0) {
      const help = 'The autoscaler’s own reading of the backlog, polled from the control plane: the oldest waiting message’s age, the messages waiting, and how fast the backlog grows or drains.';
      c.lines.push({ key: 'scaler', label: 'autoscaler’s reading', legend: 'autoscaler’s reading', color: '#0072B2', dash: '5 3', d: this.path(scaler, y, curveStepAfter, this.now), help, width: 1.6 });
      c.extra = (t) => scalerText(this.trace.scaler, t);
    }
    c.rules = this.trace.decisions
      .filter((d) => d.t <= this.now)
      .map((d) => ({
        key: `scale:${d.seq}`,
        kind: d.capped ? ('capped' as const) : ('scale' as const),
        x: this.px(d.t),
        label: d.capped ? 'capped' : `${d.from}→${d.to}`,
        title: d.capped
          ? `The autoscaler wanted more aggregators at ${formatMicros(d.t)} but stayed at ${d.to}: ${d.why}.`
          : `Autoscaler at ${formatMicros(d.t)}: ${d.from} → ${d.to} aggregators (${d.to > d.from ? 'activated' : 'deactivated'} ${d.aggregator}) because ${d.why}.`,
      }));
    if (lag.t.length === 0 && scaler.t.length === 0) c.empty = 'No lag measured yet.';
    c.aria = `Lag over time, the largest over partitions; the worst was ${fmtSeconds(max)}. ${c.rules.length} autoscaler decision${c.rules.length === 1 ? '' : 's'}.`;
    c.table = this.sampledTable('Lag in seconds', [
      { label: 'max lag (s)', samples: lag, fmt: fmtNum },
      ...(scaler.t.length ? [{ label: 'autoscaler lag (s)', samples: scaler, fmt: fmtNum }, { label: 'waiting', samples: { t: scaler.t, v: this.trace.scaler.map((r) => r.waiting) }, fmt: fmtNum }] : []),
    ]);
    return c;
  }

  // ---- 3. the delivery ledger ------------------------------------------------------------------------------------

  private ledgerChart(): Chart {
    void this.trace.revision;
    const c = this.base('ledger', 'Delivery ledger (running totals)', CHART_HELP.ledger, 'messages');
    const totals = ledgerTotals(this.trace.ledger);
    const keys = LEDGER_KEYS.filter((k) => totals[k] > 0 || k === 'produced' || k === 'acked' || k === 'delivered');
    const series = new Map(keys.map((k) => [k, cumulative(this.trace.ledger, k)]));
    const y = this.yScale(Math.max(0, ...keys.map((k) => totals[k])), c);
    c.yTicks = this.yTicks(y);
    c.lines = keys.map((k) => ({
      key: k,
      label: LEDGER[k].label,
      legend: `${LEDGER[k].label} ${fmtCount(totals[k])}`,
      color: LEDGER[k].color,
      dash: LEDGER[k].dash,
      d: this.path(series.get(k)!, y, curveStepAfter, this.now),
      help: LEDGER[k].help,
      width: k === 'produced' || k === 'delivered' ? 2.4 : 1.8,
    }));
    c.probes = keys.map((k) => ({ label: LEDGER[k].label, color: LEDGER[k].color, samples: series.get(k)!, fmt: fmtCount }));
    c.note = this.ledgerCheck(totals);
    c.aria = `Delivery ledger over time: ${keys.map((k) => `${LEDGER[k].label} ${totals[k]}`).join(', ')}.`;
    c.table = this.sampledTable('Delivery ledger, running totals', keys.map((k) => ({ label: LEDGER[k].label, samples: series.get(k)!, fmt: fmtCount })));
    return c;
  }

  /** Compares the totals with the run's ledger metrics once the trace has caught up with the snapshot. */
  private ledgerCheck(totals: Record<LedgerKey, number>): string | null {
    const s = this.snapshot;
    if (!s || this.now < s.t) return null;
    const diffs: string[] = [];
    let compared = 0;
    for (const k of LEDGER_KEYS) {
      const m = s.metrics[k];
      if (typeof m !== 'number') continue;
      compared++;
      if (m !== totals[k]) diffs.push(`${LEDGER[k].label} ${totals[k]} here vs ${m}`);
    }
    if (compared === 0) return null;
    return diffs.length ? `Differs from the run’s ledger: ${diffs.join(', ')}.` : 'The totals at the cursor equal the run’s ledger metrics.';
  }

  // ---- 4. throughput ---------------------------------------------------------------------------------------------

  private throughputChart(): Chart {
    void this.trace.revision;
    const c = this.base('throughput', `Throughput (messages per second, ${fmtSpan(this.bucketUs)} buckets)`, CHART_HELP.throughput, 'msg/s');
    const keys: LedgerKey[] = ['produced', 'delivered'];
    const series = keys.map((k) => ratePerS(this.trace.ledger, k, this.bucketUs, this.now));
    const max = Math.max(0, ...series.flatMap((s) => s.v.map((v) => v ?? 0)));
    const y = this.yScale(max, c);
    c.yTicks = this.yTicks(y);
    c.lines = keys.map((k, i) => {
      const s = series[i];
      const last = s.t[s.t.length - 1];
      const end = last === undefined ? null : Math.min(this.now, last + this.bucketUs);
      const cur = s.v[s.v.length - 1];
      return {
        key: k,
        label: LEDGER[k].label,
        legend: `${LEDGER[k].label} ${cur === null || cur === undefined ? '—' : `${fmtNum(cur)}/s`}`,
        color: LEDGER[k].color,
        dash: k === 'delivered' ? '6 2' : null,
        d: this.path(s, y, curveStepAfter, end),
        help: `${LEDGER[k].help} Here: per second, in ${fmtSpan(this.bucketUs)} buckets.`,
        width: 2,
      };
    });
    c.probes = keys.map((k, i) => ({ label: LEDGER[k].label, color: LEDGER[k].color, samples: series[i], fmt: (v: number) => `${fmtNum(v)}/s` }));
    if (series.every((s) => s.t.length === 0)) c.empty = `No complete ${fmtSpan(this.bucketUs)} bucket yet.`;
    c.aria = `Throughput over time in ${fmtSpan(this.bucketUs)} buckets, produced vs delivered; the highest rate was ${fmtNum(max)} messages per second.`;
    c.table = {
      caption: `Messages per second, ${fmtSpan(this.bucketUs)} buckets`,
      columns: ['bucket start', 'produced/s', 'delivered/s'],
      rows: series[0].t.slice(-TABLE_ROWS_MAX).map((t) => [formatMicros(t), ...series.map((s) => {
        const v = valueAt(s, t);
        return v === null ? '—' : fmtNum(v);
      })]),
    };
    return c;
  }

  // ---- 5. dashboard queries --------------------------------------------------------------------------------------

  private queryChart(q: DashQueryView): Chart {
    const c = this.base(`query:${q.id}`, q.name, CHART_HELP.query, metricOf(q.text));
    c.query = q.text;
    // One more row above the plot, for the window-length bracket.
    c.plotTop = round1(c.plotTop + this.bandRowH);
    c.plotBottom = round1(c.plotBottom + this.bandRowH);
    c.height = round1(c.height + this.bandRowH);
    const series = q.series.filter((p) => p.start <= this.durationUs);
    const percentiles = q.labels.filter(isPercentile);
    const values = series.flatMap((p) => [...q.labels.map((l) => p.values[l]), ...percentiles.map((l) => p.avgOfPartials[l])]).filter((v): v is number => typeof v === 'number');
    const y = this.yScale(Math.max(0, ...values), c);
    c.yTicks = this.yTicks(y);
    const slide = q.slideUs > 0 ? Math.min(q.slideUs, q.windowUs) : q.windowUs;
    const ends: { key: string; text: string; color: string; value: number }[] = [];
    const lastOf = (value: (p: DashPointView) => number | null | undefined): number | null => {
      for (let k = series.length - 1; k >= 0; k--) {
        const v = value(series[k]);
        if (typeof v === 'number') return v;
      }
      return null;
    };
    q.labels.forEach((label, i) => {
      const color = labelColor(label, i);
      const truth = windowSamples(series, slide, (p) => p.values[label]);
      const last = series[series.length - 1]?.values[label];
      c.lines.push({ key: label, label, legend: `${label}${typeof last === 'number' ? ` ${fmtNum(last)}` : ''}`, color, dash: null, d: this.windowPath(series, slide, y, (p) => p.values[label]), help: labelHelp(label), width: 2.2 });
      c.probes.push({ label, color, samples: truth, fmt: fmtNum });
      if (!isPercentile(label)) return;
      const lastTruth = lastOf((p) => p.values[label]);
      if (lastTruth !== null) ends.push({ key: label, text: `${label} (merged)`, color, value: lastTruth });
      const wrong = (p: DashPointView) => p.avgOfPartials[label];
      const key = `${label}:avg-of-partials`;
      c.lines.push({ key, label: `${label} avg of partials (wrong)`, legend: `avg of ${label}s (wrong)`, color, dash: '6 4', d: this.windowPath(series, slide, y, wrong), help: CHART_HELP.avgOfPartials, width: 1.6 });
      c.probes.push({ label: `avg of ${label}s (wrong)`, color, samples: windowSamples(series, slide, wrong), fmt: fmtNum });
      const lastWrong = lastOf(wrong);
      if (lastWrong !== null) ends.push({ key, text: `avg of ${label}s (wrong)`, color, value: lastWrong });
    });
    c.labels = this.endLabels(series, slide, y, ends, c);
    const rank = (l: LineMark) => (l.key.endsWith(':avg-of-partials') ? 1 : isPercentile(l.key) ? 2 : 0);
    c.drawn = [...c.lines].sort((a, b) => rank(a) - rank(b));
    const first = series[0];
    const bracketY = round1(c.plotTop - 4 * this.scale - this.bandRows * this.bandRowH);
    if (first) c.bracket = { x0: this.px(first.start), x1: this.px(Math.min(this.durationUs, first.start + q.windowUs)), y: bracketY, text: `window ${fmtSpan(q.windowUs)}${slide < q.windowUs ? `, every ${fmtSpan(slide)}` : ''}` };
    if (q.finalBefore !== null && q.finalBefore > 0 && q.finalBefore <= this.durationUs) {
      c.rules.push({ key: 'final', kind: 'final', x: this.px(q.finalBefore), label: '← final', title: `${CHART_HELP.finalBefore} Here: windows before ${formatMicros(q.finalBefore)}.` });
    }
    c.lates = series
      .filter((p) => p.late > 0)
      .map((p) => ({
        key: `late:${p.start}`,
        x: this.px((p.start + Math.min(p.end, p.start + slide)) / 2),
        label: `${p.late} late`,
        title: `${p.late} sample${p.late === 1 ? '' : 's'} for the window ${formatMicros(p.start)}–${formatMicros(p.end)} arrived after it closed. ${CHART_HELP.late}`,
      }));
    c.extra = (t) => windowText(series, t, q.labels);
    if (!this.dashboard?.up) c.empty = 'The dashboard node is down: its cached windows are gone until it restarts.';
    else if (series.length === 0) c.empty = `No window has reached the dashboard yet (it refreshes from the store; the first ${fmtSpan(q.windowUs)} window closes after it ends).`;
    c.note = q.latenessUs > 0 ? `Allowed lateness ${fmtSpan(q.latenessUs)}.` : null;
    c.aria = `${q.name}: ${series.length} window${series.length === 1 ? '' : 's'} of ${fmtSpan(q.windowUs)}, lines ${q.labels.join(', ')}${percentiles.length ? `, and the average of partials for ${percentiles.join(', ')}` : ''}.`;
    c.table = {
      caption: `${q.name} — one row per window`,
      columns: ['window', ...q.labels, ...percentiles.map((l) => `avg of ${l}s (wrong)`), 'samples', 'late', 'partials'],
      rows: series.slice(-TABLE_ROWS_MAX).map((p) => [
        `${formatMicros(p.start)}–${formatMicros(p.end)}`,
        ...q.labels.map((l) => numText(p.values[l])),
        ...percentiles.map((l) => numText(p.avgOfPartials[l])),
        String(p.count),
        String(p.late),
        String(p.partials),
      ]),
    };
    return c;
  }

  /**
   * Labels at the right end of the newest window, dodged apart; when there is no room to the right of it (the newest
   * window reaches the edge), right-aligned inside it.
   */
  private endLabels(series: readonly DashPointView[], slide: Micros, y: ScaleLinear<number, number>, ends: { key: string; text: string; color: string; value: number }[], c: Chart): LineLabel[] {
    const last = series[series.length - 1];
    if (!last || ends.length === 0) return [];
    const endX = this.px(Math.min(last.end, last.start + slide, this.durationUs));
    const widest = Math.max(...ends.map((e) => e.text.length)) * 6.4 * this.scale;
    const right = this.width - this.marginR;
    const anchor = endX + 5 * this.scale + widest <= right ? ('start' as const) : ('end' as const);
    const x = round1(anchor === 'start' ? endX + 5 * this.scale : endX - 5 * this.scale);
    const ys = dodge(ends.map((e) => y(e.value)), 12 * this.scale, c.plotTop + 6 * this.scale, c.plotBottom - 3 * this.scale);
    return ends.map((e, k) => ({ key: e.key, x, y: ys[k], text: e.text, color: e.color, anchor }));
  }

  /** Steps over the windows: a flat segment over each [start, start + slide), joined where windows touch. */
  private windowPath(series: readonly DashPointView[], slide: Micros, y: ScaleLinear<number, number>, value: (p: DashPointView) => number | null | undefined): string {
    let d = '';
    let prevEnd: Micros | null = null;
    for (const p of series) {
      const v = value(p);
      if (typeof v !== 'number') {
        prevEnd = null;
        continue;
      }
      const x0 = this.px(p.start);
      const x1 = this.px(Math.min(p.end, p.start + slide, this.durationUs));
      const yy = round1(y(v));
      d += prevEnd === p.start ? `V${yy}H${x1}` : `M${x0},${yy}H${x1}`;
      prevEnd = Math.min(p.end, p.start + slide);
    }
    return d;
  }
}

function fmtCount(v: number): string {
  return Number.isInteger(v) ? String(v) : fmtNum(v);
}

function numText(v: number | null | undefined): string {
  return typeof v === 'number' ? fmtNum(v) : '—';
}

export function isPercentile(label: string): boolean {
  return /^p\d/.test(label);
}

export function labelColor(label: string, i: number): string {
  return LABEL_COLOR[label] ?? OKABE_ITO[i % OKABE_ITO.length];
}

function labelHelp(label: string): string {
  if (isPercentile(label)) return `${label}: the value ${label.slice(1)}% of the window’s samples are at or below, from the merged sketch of all partitions (DDSketch: within its relative accuracy).`;
  switch (label) {
    case 'min':
      return 'min: the smallest sample in the window (the min of the partitions’ mins — exact).';
    case 'max':
      return 'max: the largest sample in the window (the max of the partitions’ maxes — exact).';
    case 'avg':
      return 'avg: the mean of the window’s samples, sum / count over all partitions — never the average of the partitions’ averages.';
    case 'count':
      return 'count: samples in the window.';
    case 'sum':
      return 'sum: the total of the window’s samples.';
    default:
      return label;
  }
}

/** The metric a stored query selects ("FROM servers(web-*) SELECT rpc.latency WINDOW 10s …" → "rpc.latency"). */
export function metricOf(text: string): string {
  return /\bSELECT\s+(\S+)/i.exec(text)?.[1] ?? '';
}

/** A window series as step samples (for hover readouts): the value from each window's start, a gap after its slide. */
function windowSamples(series: readonly DashPointView[], slide: Micros, value: (p: DashPointView) => number | null | undefined): Samples {
  const out: Samples = { t: [], v: [] };
  series.forEach((p, i) => {
    const v = value(p);
    out.t.push(p.start);
    out.v.push(typeof v === 'number' ? v : null);
    const end = Math.min(p.end, p.start + slide);
    if (series[i + 1]?.start !== end) {
      out.t.push(end);
      out.v.push(null);
    }
  });
  return out;
}

function windowText(series: readonly DashPointView[], t: Micros, labels: readonly string[]): string | null {
  const i = lowerBound(series.map((p) => p.start), t + 1) - 1;
  const p = series[i];
  if (!p || t >= p.end) return null;
  const gaps = labels
    .filter(isPercentile)
    .map((l) => {
      const truth = p.values[l];
      const wrong = p.avgOfPartials[l];
      return typeof truth === 'number' && typeof wrong === 'number' ? `${l} off by ${fmtNum(Math.abs(truth - wrong))}` : null;
    })
    .filter((s): s is string => s !== null);
  return `window ${formatMicros(p.start)}–${formatMicros(p.end)}: ${p.count} samples, ${p.late} late, ${p.partials} partial${p.partials === 1 ? '' : 's'}${gaps.length ? `; averaging: ${gaps.join(', ')}` : ''}`;
}

/** The autoscaler's reading at or before t: waiting messages, the trend, and the time to drain. */
export function scalerText(list: readonly ScalerRec[], t: Micros): string | null {
  const i = lowerBound(list.map((r) => r.t), t + 1) - 1;
  const r = list[i];
  if (!r) return null;
  const trend = r.trendPerS === 0 ? 'steady' : `${r.trendPerS > 0 ? 'growing' : 'draining'} ${Math.abs(r.trendPerS)}/s`;
  const drain = r.drainS === null ? (r.trendPerS > 0 ? ', not draining' : '') : `, empty in ~${r.drainS} s`;
  return `autoscaler saw ${r.waiting} waiting (oldest ${fmtSeconds(r.lagMs / 1000)}), ${trend}${drain}`;
}
