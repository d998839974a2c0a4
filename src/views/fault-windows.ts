import type { FaultSource, TraceEvent } from '../sim/kernel/trace.ts';
import type { Micros } from '../sim/kernel/time.ts';
import { formatMicros } from './format.ts';
import { round1 } from './topology.svelte.ts';

/**
 * Fault windows for every time axis (the charts, the elections timeline): each crash, pause, partition or link change
 * opens a window that its restart, resume, heal or next change of the same link closes. The records come from trace
 * events fed in seq order; the bands are the windows as drawn (a whole host crashing at once is one band), with the
 * same labels and tooltips wherever they appear.
 *
 * Ordering duties: `ingest` takes events in seq order, each once; `truncate(cut)` forgets every record from seq `cut`
 * on and reopens the windows whose closing event it forgot, so a trace cut back at a seq is the trace that never went
 * further.
 */

export type FaultWindowKind = 'crash' | 'pause' | 'partition' | 'link';

/** A fault window: opened by a crash, pause, partition or link change; closed by its restart, resume, heal or next change. */
export interface FaultRec {
  seq: number;
  t: Micros;
  kind: FaultWindowKind;
  /** The node (crash, pause), `from>to` (link) or '' (partition). */
  subject: string;
  /** What happened, in words ("groups {b3 prod1 ctl} | {b1 b2 c1 sink}", "latencyMs 1500"). */
  detail: string;
  source: FaultSource | null;
  end: Micros | null;
  endSeq: number;
}

export const FAULT_HELP =
  'A fault window: from the fault (crash, pause, partition, slow link) to its repair (restart, resume, heal, link reset), or to the end of the run.';

function popFrom<T extends { seq: number }>(list: T[], cut: number): T[] {
  let n = list.length;
  while (n > 0 && list[n - 1].seq >= cut) n--;
  return list.splice(n);
}

export class FaultWindows {
  readonly list: FaultRec[] = [];
  /**
   * The `fault` events (scenario / user / random), in seq order: the kernel records each fault's effect (a crash, a
   * partition…) right after it, at the same time, and the window takes its source from there.
   */
  private readonly faultEvents: { seq: number; t: Micros; source: FaultSource }[] = [];

  /** Takes one event (any kind; only faults and their repairs matter). */
  ingest(e: TraceEvent): void {
    switch (e.kind) {
      case 'fault':
        this.faultEvents.push({ seq: e.seq, t: e.t, source: e.source });
        return;
      case 'node.crash':
        return this.open(e, 'crash', e.node, e.lostWrites > 0 ? `lost ${e.lostWrites} unsynced writes` : '');
      case 'node.pause':
        return this.open(e, 'pause', e.node, '');
      case 'node.boot':
        return this.close(e, 'crash', e.node);
      case 'node.resume':
        return this.close(e, 'pause', e.node);
      case 'net.partition':
        this.close(e, 'partition', '');
        return this.open(e, 'partition', '', `${e.oneWay ? 'one-way, ' : ''}groups ${e.groups.map((g) => `{${g.join(' ')}}`).join(' | ')}`);
      case 'net.heal':
        return this.close(e, 'partition', '');
      case 'net.link': {
        const subject = `${e.from}>${e.to}`;
        this.close(e, 'link', subject);
        return this.open(e, 'link', subject, Object.entries(e.set).map(([k, v]) => `${k} ${String(v)}`).join(', '));
      }
      default:
        return;
    }
  }

  /** Forgets every record with seq ≥ cut and reopens windows closed at or after it. */
  truncate(cut: number): void {
    const c = Math.max(0, cut);
    popFrom(this.list, c);
    for (const f of this.list) {
      if (f.endSeq >= c) {
        f.end = null;
        f.endSeq = -1;
      }
    }
    popFrom(this.faultEvents, c);
  }

  private open(e: TraceEvent, kind: FaultWindowKind, subject: string, detail: string): void {
    const last = this.faultEvents[this.faultEvents.length - 1];
    const source = last && last.t === e.t ? last.source : null;
    this.list.push({ seq: e.seq, t: e.t, kind, subject, detail, source, end: null, endSeq: -1 });
  }

  /** Closes the open window of this kind and subject (the newest), if any; a boot with no crash before it closes nothing. */
  private close(e: TraceEvent, kind: FaultWindowKind, subject: string): void {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const f = this.list[i];
      if (f.kind !== kind || f.subject !== subject || f.end !== null) continue;
      f.end = e.t;
      f.endSeq = e.seq;
      return;
    }
  }
}

/** A fault window as drawn: windows of one kind starting together (a whole broker crashing) are one band. */
export interface FaultBand {
  key: string;
  kind: FaultWindowKind;
  from: Micros;
  /** The heal / restart / resume, or null while still open (drawn to the cursor). */
  to: Micros | null;
  /** The nodes (crash, pause) or links in the band. */
  subjects: string[];
  detail: string;
  source: FaultSource | null;
}

export function faultBands(list: readonly FaultRec[]): FaultBand[] {
  const out: FaultBand[] = [];
  for (const f of list) {
    const last = out[out.length - 1];
    if (last && last.kind === f.kind && last.from === f.t && f.kind !== 'partition') {
      last.subjects.push(f.subject);
      last.to = last.to === null || f.end === null ? null : Math.max(last.to, f.end);
      continue;
    }
    out.push({ key: `${f.kind}:${f.seq}`, kind: f.kind, from: f.t, to: f.end, subjects: f.subject ? [f.subject] : [], detail: f.detail, source: f.source });
  }
  return out;
}

const FAULT_WORD: Record<FaultWindowKind, string> = { crash: 'crash', pause: 'pause', partition: 'partition', link: 'link' };
const FAULT_END: Record<FaultWindowKind, string> = { crash: 'restarted', pause: 'resumed', partition: 'healed', link: 'changed again' };

/** The band's short label: a whole host crashing is named by the host ("crash b1"), else the node or "×3". */
export function faultLabel(b: FaultBand, hosts: readonly { id: string; nodes: readonly string[] }[]): string {
  if (b.kind === 'partition') return 'partition';
  if (b.kind === 'link') return `link ${b.subjects.map((s) => s.replace('>', '→')).join(', ')}`;
  const host = hosts.find((h) => h.nodes.length === b.subjects.length && h.nodes.length > 1 && h.nodes.every((n) => b.subjects.includes(n)));
  const who = host ? host.id : b.subjects.length === 1 ? b.subjects[0] : `${b.subjects[0]} +${b.subjects.length - 1}`;
  return `${FAULT_WORD[b.kind]} ${who}`;
}

/** The band's tooltip: what, who, from when, who caused it, and until when — then what a fault window is. */
export function faultTitle(b: FaultBand, label: string, now: Micros): string {
  const until = b.to === null ? `still going at ${formatMicros(now)}` : `${FAULT_END[b.kind]} at ${formatMicros(b.to)} (${fmtSpan(b.to - b.from)})`;
  const who = b.kind === 'partition' ? '' : ` (${b.subjects.join(', ')})`;
  const detail = b.detail ? `; ${b.detail}` : '';
  const source = b.source ? `, ${b.source === 'scenario' ? 'scheduled by the scenario' : b.source === 'user' ? 'injected by you' : 'drawn at random'}` : '';
  return `${label}${who} from ${formatMicros(b.from)}${source}${detail}; ${until}. ${FAULT_HELP}`;
}

/** "2 s", "500 ms" for durations in labels. */
export function fmtSpan(us: Micros): string {
  if (us >= 1_000_000) return `${+(us / 1_000_000).toFixed(2)} s`;
  if (us >= 1_000) return `${+(us / 1_000).toFixed(1)} ms`;
  return `${us} µs`;
}

/** Greedy rows for labels starting at `x` and `w` wide: each takes the lowest row where the previous label has ended. */
export function labelRows(items: readonly { x: number; w: number }[], rowsMax: number): number[] {
  const ends: number[] = [];
  return items.map(({ x, w }) => {
    let r = ends.findIndex((end) => end <= x);
    if (r < 0) r = ends.length < rowsMax ? ends.length : ends.indexOf(Math.min(...ends));
    ends[r] = x + w;
    return r;
  });
}

/** A band placed on a time axis: x and width in pixels, its label and tooltip, and the label's row. */
export interface FaultMark {
  key: string;
  kind: FaultWindowKind;
  x: number;
  w: number;
  label: string;
  title: string;
  /** The label's row (0 nearest the plot): overlapping labels go up a row. */
  row: number;
}

/**
 * The bands that show between t0 and t1 (a whole run or a zoomed window) up to `now`, placed with `x` (time → px);
 * an open band runs to the cursor.
 */
export function faultMarks(
  list: readonly FaultRec[],
  o: {
    now: Micros;
    t0: Micros;
    t1: Micros;
    x: (t: Micros) => number;
    hosts: readonly { id: string; nodes: readonly string[] }[];
    /** The width a label takes on its row, in px. */
    labelPx: (label: string) => number;
    rowsMax: number;
  },
): FaultMark[] {
  const out: FaultMark[] = [];
  for (const b of faultBands(list)) {
    const end = Math.min(b.to ?? o.now, o.now);
    if (b.from > o.now || b.from > o.t1 || end < o.t0) continue;
    const x = o.x(Math.max(b.from, o.t0));
    const w = round1(Math.max(2, o.x(Math.min(end, o.t1)) - x));
    const label = faultLabel(b, o.hosts);
    out.push({ key: b.key, kind: b.kind, x, w, label, title: faultTitle(b, label, o.now), row: 0 });
  }
  const rows = labelRows(out.map((b) => ({ x: b.x, w: o.labelPx(b.label) })), o.rowsMax);
  return out.map((b, i) => ({ ...b, row: rows[i] }));
}
