import type { Snapshot } from '../sim/lab.ts';
import type { Micros } from '../sim/kernel/time.ts';
import type { NodeId } from '../sim/kernel/types.ts';
import { faultMarks, type FaultMark } from './fault-windows.ts';
import { at, isRaftNode, kindColor, timeTicks } from './raft-format.ts';
import type { MessageRec, RaftTrace } from './raft-trace.svelte.ts';
import { round1 } from './topology.svelte.ts';

/**
 * Geometry of the space-time (Lamport) diagram: one horizontal line per chosen node, time left to right over a
 * window around the cursor, and each message an arrow from (sender, sentAt) to (receiver, delivery time) — or to
 * its planned delivery, dashed, while in flight; a drop ends in ×. Messages come from the Raft trace, found with a
 * binary search on send time (widened by the longest latency seen), so a window costs what it shows, not the run.
 *
 * Above `DENSE_ARROWS` arrows the component draws on a canvas instead of SVG; hit-testing (`hit`) is the same math
 * for both.
 */

export const AXIS_H = 24;
export const LANE_H = 46;
const PAD_Y = 14;
export const DENSE_ARROWS = 500;
/** A window never builds more arrows than this (a canvas draws them all in well under a frame). */
export const ARROWS_MAX = 20_000;
const FALLBACK_WIDTH_PX = 900;
const HEAD_PX = 7;
const PAD_X = 14;

export const WINDOWS = [
  { id: '5ms', label: '5 ms', us: 5_000 },
  { id: '20ms', label: '20 ms', us: 20_000 },
  { id: '50ms', label: '50 ms', us: 50_000 },
  { id: '200ms', label: '200 ms', us: 200_000 },
  { id: '1s', label: '1 s', us: 1_000_000 },
] as const;

export type WindowId = (typeof WINDOWS)[number]['id'];


export interface Arrow {
  /** The send event's seq: identifies the message copy and finds it in the event log. */
  seq: number;
  id: number;
  kind: string;
  from: NodeId;
  to: NodeId;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Arrowhead triangle (or the × of a drop) at (x2, y2). */
  head: string;
  color: string;
  state: 'delivered' | 'dropped' | 'in-flight';
  /** The end time the arrow was drawn for (the message record itself changes when it ends). */
  end: Micros | null;
  msg: MessageRec;
}

/** First index i with key(a[i]) >= v (keys ascending). */
function lowerBoundBy<T>(a: readonly T[], v: number, key: (x: T) => number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(a[mid]) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One message in words; with `now`, an in-flight message also says how long until it is due. */
export function arrowText(m: MessageRec, now?: Micros): string {
  const base = `${m.kind} #${m.id}${m.copy ? ` (copy ${m.copy})` : ''} ${m.from}→${m.to}${m.term !== null ? `, term ${m.term}` : ''}, sent at ${at(m.sentAt)}`;
  if (m.end === null) return `${base}; in flight, due at ${at(m.due)}${now === undefined ? '' : ` (${at(Math.max(0, m.due - now))} from now)`}.`;
  if (m.dropped) return `${base}; dropped at ${at(m.end)} (${m.dropped}).`;
  return `${base}; delivered at ${at(m.end)} after ${at(m.end - m.sentAt)}.`;
}

/** Distance from point p to the segment a–b. */
export function segmentDistance(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  const u = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2));
  return Math.hypot(px - (ax + u * dx), py - (ay + u * dy));
}

export class SpaceTimeModel {
  windowId = $state<WindowId>('20ms');
  widthPx = $state(0);
  scale = $state(1);
  /** Kinds switched off in the filter. */
  hidden = $state.raw<string[]>([]);
  /** Nodes drawn, in order; null means every replica (the default). */
  chosen = $state.raw<NodeId[] | null>(null);
  /** The selected message copy, by its send event's seq. */
  selected = $state<number | null>(null);

  readonly snapshot: Snapshot | null = $derived.by(() => this.source());
  /** The cursor: the snapshot's time, or the trace's last event while it catches up. */
  readonly now: Micros = $derived.by(() => (this.snapshot ? this.trace.horizon(this.snapshot) : 0));
  readonly width: number = $derived(this.widthPx > 0 ? this.widthPx : FALLBACK_WIDTH_PX);
  readonly allNodes: NodeId[] = $derived(this.snapshot?.nodes.map((n) => n.id) ?? []);
  readonly replicas: NodeId[] = $derived(this.snapshot?.nodes.filter(isRaftNode).map((n) => n.id) ?? []);
  readonly nodes: NodeId[] = $derived.by(() => {
    const all = this.allNodes;
    const pick = this.chosen ?? (this.replicas.length ? this.replicas : all);
    return all.filter((id) => pick.includes(id));
  });
  readonly laneH: number = $derived(LANE_H * this.scale);
  readonly axisH: number = $derived(AXIS_H * this.scale);
  readonly height: number = $derived(this.axisH + PAD_Y * this.scale + Math.max(0, this.nodes.length - 1) * this.laneH + PAD_Y * this.scale);
  readonly laneY: Map<NodeId, number> = $derived(new Map(this.nodes.map((id, i) => [id, round1(this.axisH + PAD_Y * this.scale + i * this.laneH)])));

  readonly windowUs: Micros = $derived(WINDOWS.find((w) => w.id === this.windowId)!.us);
  /** The cursor sits at 80% of the window: most of what is drawn has happened, the rest is in flight. */
  readonly domain: [Micros, Micros] = $derived.by(() => {
    const t0 = Math.max(0, this.now - 0.8 * this.windowUs);
    return [Math.round(t0), Math.round(t0 + this.windowUs)];
  });
  /**
   * Fault windows overlapping the window, shaded behind the lifelines as on the charts and the elections timeline: a
   * cut explains the arrows that end in a cross. Labels stay in the tooltip: the strip is only a few lanes high.
   */
  readonly faultMarks: FaultMark[] = $derived.by(() => {
    void this.trace.revision;
    const [t0, t1] = this.domain;
    return faultMarks(this.trace.faults.list, { now: this.now, t0, t1, x: (t) => this.x(t), hosts: this.snapshot?.hosts ?? [], labelPx: () => 0, rowsMax: 1 });
  });

  /** Room at both ends so the first and last tick labels are not cut. */
  readonly padX: number = $derived(PAD_X * this.scale);
  readonly pxPerUs: number = $derived((this.width - 2 * this.padX) / this.windowUs);

  x(t: Micros): number {
    return round1(this.padX + (t - this.domain[0]) * this.pxPerUs);
  }

  /**
   * Arrows and ticks are laid out from an origin that moves in steps of ten windows, inside a group shifted by
   * `shift` pixels. As the window slides while playing only the group's transform changes; each arrow keeps its
   * numbers (and its DOM) until the origin steps.
   */
  readonly origin: Micros = $derived.by(() => {
    const step = 10 * this.windowUs;
    return Math.floor(this.domain[0] / step) * step;
  });
  readonly shift: number = $derived(round1(this.padX - (this.domain[0] - this.origin) * this.pxPerUs));

  /** x within the shifted group. */
  ox(t: Micros): number {
    return round1((t - this.origin) * this.pxPerUs);
  }

  /** Messages between chosen nodes that overlap the window, before the kind filter (for the chips' counts). */
  readonly inWindow: MessageRec[] = $derived.by(() => {
    void this.trace.revision;
    const [t0, t1] = this.domain;
    const list = this.trace.messages;
    const chosen = new Set(this.nodes);
    const out: MessageRec[] = [];
    for (let i = lowerBoundBy(list, t0 - this.trace.maxLatencyUs, (m) => m.sentAt); i < list.length; i++) {
      const m = list[i];
      if (m.sentAt > t1) break;
      if ((m.end ?? m.due) < t0 || !chosen.has(m.from) || !chosen.has(m.to)) continue;
      out.push(m);
    }
    return out;
  });

  readonly kinds: { kind: string; color: string; count: number; hidden: boolean }[] = $derived.by(() => {
    const counts = new Map<string, number>();
    for (const m of this.inWindow) counts.set(m.kind, (counts.get(m.kind) ?? 0) + 1);
    for (const k of this.hidden) if (!counts.has(k)) counts.set(k, 0);
    return [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([kind, count]) => ({ kind, color: kindColor(kind), count, hidden: this.hidden.includes(kind) }));
  });

  /** Last frame's arrows by seq, with the layout they were made for: unchanged arrows keep their object (and DOM). */
  private arrowMemo = new Map<number, Arrow>();
  private arrowLayout = '';

  /** Arrows in group coordinates (add `shift` for the element's). */
  readonly arrows: Arrow[] = $derived.by(() => {
    const hidden = new Set(this.hidden);
    const out: Arrow[] = [];
    const s = this.scale;
    const layout = `${this.origin}/${this.pxPerUs}/${s}/${[...this.laneY.values()].join(',')}`;
    const old = layout === this.arrowLayout ? this.arrowMemo : new Map<number, Arrow>();
    const memo = new Map<number, Arrow>();
    for (const m of this.inWindow) {
      if (hidden.has(m.kind)) continue;
      if (out.length >= ARROWS_MAX) break;
      const state: Arrow['state'] = m.end === null ? 'in-flight' : m.dropped ? 'dropped' : 'delivered';
      const prev = old.get(m.seq);
      if (prev && prev.state === state && prev.end === m.end) {
        memo.set(m.seq, prev);
        out.push(prev);
        continue;
      }
      const x1 = this.ox(m.sentAt);
      const y1 = this.laneY.get(m.from)!;
      const x2 = this.ox(m.end ?? m.due);
      const y2 = this.laneY.get(m.to)!;
      const a: Arrow = { seq: m.seq, id: m.id, kind: m.kind, from: m.from, to: m.to, x1, y1, x2, y2, head: state === 'dropped' ? cross(x2, y2, 5 * s) : head(x1, y1, x2, y2, HEAD_PX * s), color: kindColor(m.kind), state, end: m.end, msg: m };
      memo.set(m.seq, a);
      out.push(a);
    }
    this.arrowMemo = memo;
    this.arrowLayout = layout;
    return out;
  });

  readonly dense: boolean = $derived(this.arrows.length > DENSE_ARROWS);
  readonly dropped: number = $derived(this.arrows.filter((a) => a.state === 'dropped').length);
  readonly inFlight: number = $derived(this.arrows.filter((a) => a.state === 'in-flight').length);
  readonly selectedArrow: Arrow | null = $derived(this.arrows.find((a) => a.seq === this.selected) ?? null);
  /** The selected message, even after it scrolled out of the window. */
  readonly selectedMessage: MessageRec | null = $derived.by(() => {
    void this.trace.revision;
    if (this.selected === null) return null;
    const list = this.trace.messages;
    const i = lowerBoundBy(list, this.selected, (m) => m.seq);
    return list[i]?.seq === this.selected ? list[i] : null;
  });

  readonly cursorX: number = $derived(this.x(this.now));
  readonly ticks: { x: number; label: string }[] = $derived(
    timeTicks(this.domain[0], this.domain[1], Math.max(3, Math.floor(this.width / (95 * this.scale))))
      .filter((k) => this.x(k.t) >= 18 * this.scale && this.x(k.t) <= this.width - 18 * this.scale)
      .map((k) => ({ x: this.ox(k.t), label: k.label })),
  );

  constructor(
    private readonly source: () => Snapshot | null,
    private readonly trace: RaftTrace,
  ) {}

  /** The arrow nearest to (x, y) within `radius` pixels, for clicks on the canvas (and the SVG's gaps). */
  hit(x: number, y: number, radius = 6): Arrow | null {
    let best: Arrow | null = null;
    let bestD = radius * this.scale;
    const gx = x - this.shift;
    for (const a of this.arrows) {
      const d = segmentDistance(gx, y, a.x1, a.y1, a.x2, a.y2);
      if (d <= bestD) {
        bestD = d;
        best = a;
      }
    }
    return best;
  }

  toggleKind(kind: string): void {
    this.hidden = this.hidden.includes(kind) ? this.hidden.filter((k) => k !== kind) : [...this.hidden, kind];
  }

  /** Only this kind (or all again when it already is the only one). */
  soloKind(kind: string): void {
    const others = this.kinds.map((k) => k.kind).filter((k) => k !== kind);
    const solo = others.every((k) => this.hidden.includes(k)) && !this.hidden.includes(kind);
    this.hidden = solo ? [] : others;
  }

  toggleNode(id: NodeId): void {
    const cur = this.nodes;
    const next = cur.includes(id) ? cur.filter((n) => n !== id) : [...cur, id];
    if (next.length >= 1) this.chosen = next;
  }

  resetNodes(): void {
    this.chosen = null;
  }

  select(seq: number | null): void {
    this.selected = this.selected === seq ? null : seq;
  }
}

function head(x1: number, y1: number, x2: number, y2: number, size: number): string {
  const a = Math.atan2(y2 - y1, x2 - x1);
  const p = (ang: number) => `${round1(x2 - size * Math.cos(ang))},${round1(y2 - size * Math.sin(ang))}`;
  return `M${round1(x2)},${round1(y2)} L${p(a - 0.42)} L${p(a + 0.42)} Z`;
}

function cross(x: number, y: number, r: number): string {
  return `M${round1(x - r)},${round1(y - r)} L${round1(x + r)},${round1(y + r)} M${round1(x + r)},${round1(y - r)} L${round1(x - r)},${round1(y + r)}`;
}
