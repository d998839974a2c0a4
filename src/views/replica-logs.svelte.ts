import type { Snapshot } from '../sim/lab.ts';
import type { NodeId, NodeStatus } from '../sim/kernel/types.ts';
import type { LabPort } from './port.ts';
import { at, entryText, isRaftNode, plural, quorum, raftView, termColor, type Entry, type RaftView, type Role } from './raft-format.ts';

/**
 * Geometry and reasoning of the replica-logs view: one row per replica, one cell per log entry, aligned by index (the
 * Raft paper's Figures 6–8 draw logs this way), with markers for the append, commit and applied positions and, on the
 * leader, each follower's replicated (match) position.
 *
 * Only the columns in view are built, so a log of thousands of entries costs what a screenful does. The snapshot
 * carries each replica's last 200 entries; scrolling further back asks the Lab for pages (`logEntries`). Committed
 * entries never change within one timeline (State Machine Safety), so those pages are kept until the run moves back
 * or forks; uncommitted ones are only trusted for the snapshot they were read in. A crashed replica's memory is gone,
 * so its row shows the log on its disk (`inspect`), which cannot change until it restarts. A replica that compacted
 * its log (§7) holds entries 1..N only in its snapshot: its row shows one band, "entries 1..N compacted into a
 * snapshot", where those cells would be, and never asks for them.
 */

export const CELL_W = 30;
export const CELL_H = 26;
/** Above the cells: the leader's per-follower match pins. */
export const TOP_LANE = 17;
/** Below the cells: append / commit / applied pins and labels. */
export const MARK_LANE = 21;
export const ROW_GAP = 12;
export const AXIS_H = 20;
/** Columns built beyond each edge of the viewport, so a quick scroll does not show blanks. */
const OVERSCAN = 4;
/** Width assumed before the element is measured (and under jsdom, which has no layout). */
export const FALLBACK_VIEWPORT_PX = 960;
/** Most entries asked for in one `logEntries` call. */
const PAGE_ENTRIES = 400;
const PREFETCH_ENTRIES = 100;

export interface LogRow {
  id: NodeId;
  status: NodeStatus;
  incarnation: number;
  view: RaftView | null;
  role: Role | null;
  term: number | null;
  leader: NodeId | null;
  /** Append position (last index); for a crashed replica, the last index on its disk (if read). */
  last: number;
  /** Null while crashed: commit and applied positions live in memory. */
  commit: number | null;
  applied: number | null;
  /** Entries 1..compacted live only in the replica's snapshot (0: none); for a crashed replica, as on its disk. */
  compacted: number;
  /** The snapshot's last index and term, when the replica holds one (and is up). */
  snapshot: { index: number; term: number } | null;
  y: number;
}

/** A replica's compacted prefix as drawn: a band over the columns in view, labelled. */
export interface CompactedBand {
  key: string;
  node: NodeId;
  /** Entries 1..index are compacted. */
  index: number;
  x: number;
  y: number;
  width: number;
  label: string;
  /** Where the label starts: inside the part of the band in view. */
  labelX: number;
}

export interface CellMark {
  key: string;
  node: NodeId;
  index: number;
  x: number;
  y: number;
  /** Null when the entry is not loaded yet (a page is on its way). */
  entry: Entry | null;
  fill: string;
  committed: boolean;
  /** On a crashed replica's disk. */
  disk: boolean;
}

export type PinKind = 'append' | 'commit' | 'applied' | 'match';

export interface Pin {
  kind: PinKind;
  index: number;
  /** Followers this match pin stands for. */
  peers: NodeId[];
}

export interface PinCluster {
  key: string;
  node: NodeId;
  lane: 'top' | 'bottom';
  pins: (Pin & { x: number })[];
  label: string;
  labelX: number;
  anchor: 'start' | 'end';
  y: number;
  /** The cluster lies left or right of the columns in view; drawn at the edge with an arrow. */
  offscreen: 'left' | 'right' | null;
}

export interface Holder {
  id: NodeId;
  /** True: it stores this entry; false: it does not; null: unknown (down, or not loaded). */
  has: boolean | null;
  how: string;
}

export type Verdict = 'committed' | 'committed-on-leader' | 'term-rule' | 'majority' | 'no-leader' | 'will-be-replaced' | 'unknown';

export interface Explanation {
  node: NodeId;
  index: number;
  entry: Entry;
  verdict: Verdict;
  /** One line: the answer. */
  headline: string;
  /** The reasoning, a sentence per line. */
  lines: string[];
  holders: Holder[];
  holding: number;
  groupSize: number;
  quorum: number;
}

/** A replica's log as far as the view knows it: `termAt` is undefined past the end and null when not loaded. */
export interface LogSource {
  row: LogRow;
  termAt(index: number): number | null | undefined;
  entryAt(index: number): Entry | null | undefined;
}

interface Page {
  /** Entries at or below the replica's commit index when read: immutable for this timeline. */
  stable: Map<number, Entry>;
  /** Entries above it, valid only for the snapshot (event count) they were read in. */
  volatile: Map<number, Entry>;
  volatileAt: number;
}

function timelineKey(s: Snapshot): string {
  return `${s.scenario.id}\u0000${s.seed}\u0000${s.bugs.join(',')}\u0000${JSON.stringify(s.actions)}`;
}

export class ReplicaLogsModel {
  /** Pixels per rem / 15: the view grows with the presenter text size. */
  scale = $state(1);
  viewportPx = $state(0);
  scrollLeftPx = $state(0);
  /** Keep the newest entries in view as the logs grow (like `tail -f`); off once the user scrolls back. */
  following = $state(true);
  hover = $state<{ node: NodeId; index: number } | null>(null);
  /** A clicked entry stays explained while the run plays. */
  pinned = $state<{ node: NodeId; index: number } | null>(null);

  private pages = $state.raw<Map<NodeId, Page>>(new Map());
  private disks = $state.raw<Map<string, { from: number; entries: Entry[] }>>(new Map());
  private timeline = '';
  private lastT = 0;
  private fetching = new Set<string>();

  readonly snapshot: Snapshot | null = $derived.by(() => this.source());
  readonly cellW: number = $derived(CELL_W * this.scale);
  readonly cellH: number = $derived(CELL_H * this.scale);
  readonly rowH: number = $derived((TOP_LANE + CELL_H + MARK_LANE + ROW_GAP) * this.scale);
  readonly width: number = $derived(this.viewportPx > 0 ? this.viewportPx : FALLBACK_VIEWPORT_PX);

  readonly rows: LogRow[] = $derived.by(() => {
    const s = this.snapshot;
    if (!s) return [];
    return s.nodes.filter(isRaftNode).map((n, i) => {
      const v = raftView(n);
      const disk = this.diskOf(n.id, n.incarnation);
      return {
        id: n.id,
        status: n.status,
        incarnation: n.incarnation,
        view: v,
        role: v?.role ?? null,
        term: v?.term ?? null,
        leader: v?.leader ?? null,
        last: v ? v.logLength : disk.last,
        commit: v?.commitIndex ?? null,
        applied: v?.lastApplied ?? null,
        compacted: v ? (v.logBase ?? 0) : disk.from - 1,
        snapshot: v ? (v.snapshot ? { index: v.snapshot.index, term: v.snapshot.term } : null) : diskSnapshot(n.disk.data.snapshot),
        y: AXIS_H * this.scale + i * this.rowH,
      };
    });
  });

  readonly sources: Map<NodeId, LogSource> = $derived.by(() => {
    const count = this.snapshot?.eventCount ?? 0;
    const out = new Map<NodeId, LogSource>();
    for (const row of this.rows) {
      const page = this.pages.get(row.id);
      const disk = row.view ? null : this.diskOf(row.id, row.incarnation);
      const entryAt = (i: number): Entry | null | undefined => {
        if (i <= row.compacted || i > row.last) return undefined;
        const v = row.view;
        if (v && i >= v.logFrom) return v.log[i - v.logFrom] ?? null;
        if (disk) return i >= disk.from ? (disk.entries[i - disk.from] ?? null) : null;
        const hit = page?.stable.get(i) ?? (page && page.volatileAt === count ? page.volatile.get(i) : undefined);
        return hit ?? null;
      };
      out.set(row.id, { row, entryAt, termAt: (i) => (i === 0 ? 0 : entryAt(i) === undefined ? undefined : (entryAt(i)?.term ?? null)) });
    }
    return out;
  });

  /** The largest index any row shows. */
  readonly maxIndex: number = $derived(Math.max(0, ...this.rows.map((r) => r.last)));
  readonly contentW: number = $derived(Math.max(this.width, (this.maxIndex + 3) * this.cellW));
  readonly height: number = $derived(AXIS_H * this.scale + this.rows.length * this.rowH);
  /** The scroll position that shows the newest entries. */
  readonly tailScrollPx: number = $derived(Math.max(0, this.contentW - this.width));
  /** The scroll position shown: the tail while following. */
  readonly viewLeftPx: number = $derived(this.following ? this.tailScrollPx : Math.min(this.scrollLeftPx, this.tailScrollPx));

  /** Columns in view, 1-based, inclusive (empty when i1 < i0). */
  readonly range: { i0: number; i1: number } = $derived.by(() => {
    const left = this.viewLeftPx;
    const i0 = Math.max(1, Math.floor(left / this.cellW) + 1 - OVERSCAN);
    const i1 = Math.min(this.maxIndex, Math.ceil((left + this.width) / this.cellW) + OVERSCAN);
    return { i0, i1 };
  });

  /** Last frame's cells by key: an unchanged cell keeps its object, so the view does not touch its DOM. */
  private cellMemo = new Map<string, CellMark>();

  readonly cells: CellMark[] = $derived.by(() => {
    const { i0, i1 } = this.range;
    const out: CellMark[] = [];
    const memo = new Map<string, CellMark>();
    for (const row of this.rows) {
      const src = this.sources.get(row.id)!;
      const hi = Math.min(i1, row.last);
      const y = row.y + TOP_LANE * this.scale;
      for (let i = Math.max(i0, row.compacted + 1); i <= hi; i++) {
        const entry = src.entryAt(i) ?? null;
        const mark: CellMark = {
          key: `${row.id}:${i}`,
          node: row.id,
          index: i,
          x: (i - 1) * this.cellW,
          y,
          entry,
          fill: entry ? termColor(entry.term) : 'transparent',
          committed: row.commit !== null && i <= row.commit,
          disk: row.view === null,
        };
        const old = this.cellMemo.get(mark.key);
        const keep = old && sameCell(old, mark) ? old : mark;
        memo.set(mark.key, keep);
        out.push(keep);
      }
    }
    this.cellMemo = memo;
    return out;
  });

  /** The compacted prefixes in view, one band per replica that has one. */
  readonly compactions: CompactedBand[] = $derived.by(() => {
    const { i0, i1 } = this.range;
    const out: CompactedBand[] = [];
    for (const row of this.rows) {
      const hi = Math.min(i1, row.compacted);
      if (row.compacted === 0 || hi < i0) continue;
      const x = (i0 - 1) * this.cellW + 1;
      const width = (hi - i0 + 1) * this.cellW - 2;
      out.push({ key: `${row.id}:compacted`, node: row.id, index: row.compacted, x, y: row.y + TOP_LANE * this.scale, width, label: compactedLabel(row), labelX: Math.max(x, this.viewLeftPx) + 6 * this.scale });
    }
    return out;
  });

  /** Ranges the view needs but does not have, per replica (the component asks the Lab for them). */
  readonly missing: { node: NodeId; from: number; to: number }[] = $derived.by(() => {
    const out: { node: NodeId; from: number; to: number }[] = [];
    for (const row of this.rows) {
      if (!row.view) continue;
      let from = -1;
      let to = -1;
      for (const c of this.cells) {
        if (c.node !== row.id || c.entry) continue;
        if (from < 0) from = c.index;
        to = c.index;
      }
      if (from > 0) out.push({ node: row.id, from, to });
    }
    return out;
  });

  /** Crashed replicas whose disk log is not read yet. */
  readonly missingDisks: { node: NodeId; key: string }[] = $derived(
    this.rows.filter((r) => r.status === 'crashed' && !this.disks.has(`${r.id}@${r.incarnation}`)).map((r) => ({ node: r.id, key: `${r.id}@${r.incarnation}` })),
  );

  readonly leader: LogRow | null = $derived.by(() => {
    let best: LogRow | null = null;
    for (const r of this.rows) if (r.role === 'leader' && r.status === 'up' && (best === null || (r.term ?? 0) > (best.term ?? 0))) best = r;
    return best;
  });

  readonly pins: PinCluster[] = $derived.by(() => {
    const out: PinCluster[] = [];
    for (const row of this.rows) {
      const v = row.view;
      const bottom: Pin[] = [];
      if (v) {
        bottom.push({ kind: 'append', index: row.last, peers: [] }, { kind: 'commit', index: v.commitIndex, peers: [] }, { kind: 'applied', index: v.lastApplied, peers: [] });
      } else if (row.last > 0) {
        bottom.push({ kind: 'append', index: row.last, peers: [] });
      }
      out.push(...this.cluster(row, 'bottom', bottom));
      if (v && v.role === 'leader') {
        const byIndex = new Map<number, NodeId[]>();
        for (const p of v.group) {
          if (p === v.id) continue;
          const m = v.matchIndex[p] ?? 0;
          byIndex.set(m, [...(byIndex.get(m) ?? []), p]);
        }
        const top = [...byIndex.entries()].map(([index, peers]) => ({ kind: 'match' as const, index, peers }));
        out.push(...this.cluster(row, 'top', top));
      }
    }
    return out;
  });

  readonly focus: { node: NodeId; index: number } | null = $derived(this.pinned ?? this.hover);

  readonly explanation: Explanation | null = $derived.by(() => {
    const f = this.focus;
    if (!f) return null;
    return explainEntry([...this.sources.values()], f.node, f.index);
  });

  /** Index labels along the top: every 5 or 10 columns, depending on the cell width. */
  readonly ticks: { index: number; x: number }[] = $derived.by(() => {
    const every = this.cellW >= 34 ? 5 : 10;
    const { i0, i1 } = this.range;
    const out: { index: number; x: number }[] = [];
    for (let i = Math.max(1, Math.ceil(i0 / every) * every); i <= i1; i += every) out.push({ index: i, x: (i - 0.5) * this.cellW });
    if (i0 <= 1 && i1 >= 1 && out[0]?.index !== 1) out.unshift({ index: 1, x: 0.5 * this.cellW });
    return out;
  });

  constructor(
    private readonly source: () => Snapshot | null,
    private readonly port: LabPort | null = null,
  ) {}

  /**
   * A crashed replica's disk log: the whole of it once `inspect` has answered, until then the tail the snapshot's
   * bounded disk view carries.
   */
  private diskOf(node: NodeId, incarnation: number): { from: number; last: number; entries: Entry[] } {
    const full = this.disks.get(`${node}@${incarnation}`);
    if (full) return { from: full.from, last: full.from + full.entries.length - 1, entries: full.entries };
    const data = this.snapshot?.nodes.find((n) => n.id === node)?.disk.data;
    const first = diskLogBase(data?.logBase) + 1;
    const raw = data?.log;
    if (Array.isArray(raw)) return { from: first, last: first + raw.length - 1, entries: raw as Entry[] };
    if (raw && typeof raw === 'object' && 'length' in raw && 'tail' in raw && Array.isArray(raw.tail)) {
      const last = first + Number(raw.length) - 1;
      return { from: last - raw.tail.length + 1, last, entries: raw.tail as Entry[] };
    }
    return { from: first, last: first - 1, entries: [] };
  }

  /** Groups pins whose labels would collide; each group gets one label. */
  private cluster(row: LogRow, lane: 'top' | 'bottom', pins: Pin[]): PinCluster[] {
    const cw = this.cellW;
    const { i0, i1 } = this.range;
    const leftEdge = this.viewLeftPx + 4 * this.scale;
    const rightEdge = leftEdge + this.width - 8 * this.scale;
    const placed = pins.map((p) => ({ ...p, x: p.index <= 0 ? 2 * this.scale : (p.index - 0.5) * cw })).sort((a, b) => a.x - b.x || PIN_ORDER[a.kind] - PIN_ORDER[b.kind]);
    const groups: (Pin & { x: number })[][] = [];
    const gap = 150 * this.scale;
    for (const p of placed) {
      const g = groups[groups.length - 1];
      if (g && p.x - g[0].x < gap) g.push(p);
      else groups.push([p]);
    }
    const y = lane === 'top' ? row.y + TOP_LANE * this.scale - 2 * this.scale : row.y + (TOP_LANE + CELL_H) * this.scale + 2 * this.scale;
    return groups.map((g) => {
      const first = g[0];
      const last = g[g.length - 1];
      const offscreen = last.index < i0 - 1 && last.x < leftEdge ? 'left' : first.index > i1 + 1 && first.x > rightEdge ? 'right' : null;
      const label = pinLabel(g);
      // Labels end at the rightmost pin when that is near the tail, otherwise start at the leftmost pin.
      // About 6.6 px per character of the 0.72rem monospace label; a label never runs off the left edge.
      const labelW = label.length * 6.6 * this.scale;
      const nearTail = last.x > this.contentW - 6 * cw || offscreen === 'right';
      const anchor: 'start' | 'end' = nearTail && last.x + 5 * this.scale - labelW > leftEdge ? 'end' : 'start';
      let labelX = anchor === 'end' ? last.x + 5 * this.scale : Math.max(first.x - 5 * this.scale, leftEdge - 2 * this.scale);
      if (offscreen === 'left') labelX = leftEdge + 10 * this.scale;
      if (offscreen === 'right') labelX = rightEdge - 10 * this.scale;
      return { key: `${row.id}:${lane}:${g.map((p) => `${p.kind}${p.index}`).join(',')}`, node: row.id, lane, pins: g, label, labelX, anchor, y, offscreen };
    });
  }

  /** Follows the timeline: forgets pages and disk logs when the run moved back, forked or changed. */
  private checkTimeline(s: Snapshot): void {
    const key = timelineKey(s);
    if (key !== this.timeline || s.t < this.lastT) {
      this.pages = new Map();
      this.disks = new Map();
      this.fetching.clear();
    }
    this.timeline = key;
    this.lastT = s.t;
  }

  /** Reads the entries and disk logs the view is missing (one call per gap). Imperative: the component calls it. */
  async fetchMissing(): Promise<void> {
    const s = this.snapshot;
    if (!s || !this.port) return;
    this.checkTimeline(s);
    const port = this.port;
    const jobs: Promise<void>[] = [];
    for (const gap of this.missing) {
      const key = `${gap.node}:${gap.from}:${gap.to}:${s.eventCount}`;
      if (this.fetching.has(key)) continue;
      this.fetching.add(key);
      const row = this.rows.find((r) => r.id === gap.node);
      const commit = row?.commit ?? 0;
      // Read a little further back than the gap, so scrolling on does not ask again at once — never into the prefix
      // compacted into a snapshot.
      const from = Math.max(1 + (row?.compacted ?? 0), gap.to - PAGE_ENTRIES + 1, gap.from - PREFETCH_ENTRIES);
      jobs.push(
        port
          .logEntries(gap.node, from, gap.to - from + 1)
          .then((list) => this.store(gap.node, list as Entry[], commit, s.eventCount, key))
          .catch(() => void this.fetching.delete(key)),
      );
    }
    for (const d of this.missingDisks) {
      if (this.fetching.has(d.key)) continue;
      this.fetching.add(d.key);
      jobs.push(
        port
          .inspect(d.node)
          .then((r) => {
            const disk = r.disk as { log?: Entry[]; logBase?: unknown };
            const entry = { from: diskLogBase(disk.logBase) + 1, entries: disk.log ?? [] };
            if (this.snapshot && timelineKey(this.snapshot) === this.timeline) this.disks = new Map(this.disks).set(d.key, entry);
          })
          .catch(() => void this.fetching.delete(d.key)),
      );
    }
    await Promise.all(jobs);
  }

  private store(node: NodeId, list: Entry[], commit: number, count: number, key: string): void {
    const s = this.snapshot;
    if (!s || timelineKey(s) !== this.timeline) return;
    const old = this.pages.get(node);
    const page: Page = {
      stable: new Map(old?.stable ?? []),
      volatile: old && old.volatileAt === count ? new Map(old.volatile) : new Map(),
      volatileAt: count,
    };
    for (const e of list) (e.index <= commit ? page.stable : page.volatile).set(e.index, e);
    this.pages = new Map(this.pages).set(node, page);
    // Volatile pages are per snapshot: let the next snapshot ask again.
    if (list.some((e) => e.index > commit)) this.fetching.delete(key);
  }

  /** The user scrolled: stop following unless they are at the newest entries. */
  scrolled(leftPx: number): void {
    this.scrollLeftPx = Math.max(0, leftPx);
    this.following = leftPx >= this.tailScrollPx - 2;
  }

  follow(): void {
    this.following = true;
  }

  /** Where the row's column `index` is (for scrolling to it). */
  columnX(index: number): number {
    return (index - 1) * this.cellW;
  }

  setHover(node: NodeId | null, index = 0): void {
    this.hover = node === null ? null : { node, index };
  }

  /**
   * Keyboard: moves the pinned entry by `dIndex` columns and `dRow` replicas (starting from the newest entry of the
   * first replica), scrolling it into view when it leaves the columns shown.
   */
  moveFocus(dIndex: number, dRow: number): void {
    const rows = this.rows.filter((r) => r.last > 0);
    if (rows.length === 0) return;
    const cur = this.pinned ?? this.hover;
    let r = Math.max(0, rows.findIndex((x) => x.id === cur?.node));
    let index = cur ? cur.index : rows[r].last;
    if (cur) {
      r = Math.max(0, Math.min(rows.length - 1, r + dRow));
      index = Math.max(rows[r].compacted + 1, Math.min(rows[r].last, index + dIndex));
    }
    this.pinned = { node: rows[r].id, index };
    const x = this.columnX(index);
    if (x < this.viewLeftPx || x + this.cellW > this.viewLeftPx + this.width) {
      this.scrolled(Math.max(0, Math.min(this.tailScrollPx, x - this.width / 2)));
    }
  }

  togglePin(node: NodeId, index: number): void {
    this.pinned = this.pinned && this.pinned.node === node && this.pinned.index === index ? null : { node, index };
  }
}

/** The index a disk's log starts after (its `logBase`, written when the log was compacted), or 0. */
function diskLogBase(raw: unknown): number {
  return raw !== null && typeof raw === 'object' && 'index' in raw && Number.isInteger(raw.index) ? Number(raw.index) : 0;
}

/** The metadata of the snapshot on a crashed replica's disk (the snapshot view shows only that), or null. */
function diskSnapshot(raw: unknown): { index: number; term: number } | null {
  if (raw === null || typeof raw !== 'object' || !('index' in raw) || !('term' in raw)) return null;
  return Number.isInteger(raw.index) && Number.isInteger(raw.term) ? { index: Number(raw.index), term: Number(raw.term) } : null;
}

/** "entries 1..480 compacted into a snapshot (term 3)" — and the snapshot's own index when it reaches further. */
export function compactedLabel(row: Pick<LogRow, 'compacted' | 'snapshot'>): string {
  const s = row.snapshot;
  if (s === null) return `entries 1..${row.compacted} compacted into a snapshot`;
  const upTo = s.index > row.compacted ? ` up to ${s.index}` : '';
  return `entries 1..${row.compacted} compacted into a snapshot${upTo} (term ${s.term})`;
}

function sameCell(a: CellMark, b: CellMark): boolean {
  return (
    a.x === b.x &&
    a.y === b.y &&
    a.fill === b.fill &&
    a.committed === b.committed &&
    a.disk === b.disk &&
    (a.entry === b.entry || (a.entry !== null && b.entry !== null && a.entry.term === b.entry.term && a.entry.kind === b.entry.kind && a.entry.id === b.entry.id))
  );
}

const PIN_ORDER: Record<PinKind, number> = { append: 0, commit: 1, applied: 2, match: 3 };
const PIN_NAMES: Record<Exclude<PinKind, 'match'>, string> = { append: 'append', commit: 'commit', applied: 'applied' };

/** "append 320 · commit 319", "commit, applied 600", "r2 r3 320". */
export function pinLabel(pins: Pin[]): string {
  const byIndex = new Map<number, Pin[]>();
  for (const p of pins) byIndex.set(p.index, [...(byIndex.get(p.index) ?? []), p]);
  const parts = [...byIndex.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([index, ps]) => {
      if (ps[0].kind === 'match') return `${ps.flatMap((p) => p.peers).join(' ')} → ${index}`;
      return `${ps.map((p) => PIN_NAMES[p.kind as Exclude<PinKind, 'match'>]).join(', ')} ${index}`;
    });
  return (pins[0]?.kind === 'match' ? 'match ' : '') + parts.join(' · ');
}

/**
 * Why an entry is (not) committed, from what the snapshot shows of every replica. The rules, in the paper's terms:
 * an entry is committed once the leader that created it has stored it on a majority (§5.3); a leader counts replicas
 * only for entries of its own term, so an earlier-term entry commits only when an entry of the current term above it
 * does (§5.4.2, Figure 8); a follower learns the commit index from the leader's next AppendEntries; and an entry
 * the current leader does not have will be overwritten (Log Matching, §5.3).
 */
export function explainEntry(sources: LogSource[], node: NodeId, index: number): Explanation | null {
  const self = sources.find((s) => s.row.id === node);
  const entry = self?.entryAt(index);
  if (!self || !entry) return null;
  const T = entry.term;
  const groupSize = self.row.view?.group.length ?? sources.length;
  const q = quorum(groupSize);
  const leaders = sources.filter((s) => s.row.role === 'leader' && s.row.status === 'up').sort((a, b) => (b.row.term ?? 0) - (a.row.term ?? 0));
  const L = leaders[0] ?? null;
  const leaderHasIt = L !== null && L.termAt(index) === T;

  const holders: Holder[] = sources.map((s) => holder(s, self, index, T, L, leaderHasIt));
  const holding = holders.filter((h) => h.has === true).length;
  const base = { node, index, entry, holders, holding, groupSize, quorum: q };
  const countLine = `${holding} of ${groupSize} replicas hold it; a majority needs ${q}.`;
  const lines: string[] = [];

  const committedHere = self.row.commit !== null && index <= self.row.commit;
  if (committedHere) {
    const applied = self.row.applied ?? 0;
    lines.push(`Committed: ${node}’s commit index is ${self.row.commit}. A majority stored it, so every future leader has it (Leader Completeness, §5.4).`);
    lines.push(index <= applied ? `Applied to ${node}’s state machine (applied position ${applied}).` : `Not applied yet: ${node}’s applier is at ${applied}, ${plural(index - applied, 'entry', 'entries')} behind this one.`);
    return { ...base, verdict: 'committed', headline: 'Committed.', lines };
  }

  if (self.row.status === 'crashed') {
    const known = sources.find((s) => s.row.commit !== null && s.row.commit >= index && s.termAt(index) === T);
    lines.push(`${node} is down: its commit index was in memory and is lost; this entry is on its disk.`);
    if (known) lines.push(`${known.row.id}’s commit index (${known.row.commit}) covers this entry, so it is committed.`);
    lines.push(countLine);
    return { ...base, verdict: known ? 'committed' : 'unknown', headline: known ? 'Committed (by the others’ reckoning).' : 'Unknown: this replica is down.', lines };
  }

  if (self.row.role === 'follower' && self.row.leader && L && self.row.leader !== L.row.id) {
    lines.push(`${node} still follows ${self.row.leader} in term ${self.row.term}; ${L.row.id} leads the newer term ${L.row.term}, and ${node} has not heard from it yet.`);
  }
  const stale = self.row.role === 'leader' && L !== null && L.row.id !== node;
  if (stale) {
    const mine = 1 + Object.entries(self.row.view?.matchIndex ?? {}).filter(([, m]) => m >= index).length;
    lines.push(
      `${node} still believes it leads term ${self.row.term}, but ${L!.row.id} leads the newer term ${L!.row.term}: ${node} is a stale leader. It can count only the replicas it hears from — ${mine} of ${groupSize} by its matchIndex — and cannot reach a majority.`,
    );
  }

  if (!L) {
    lines.push('No leader right now: only a leader advances the commit index, so nothing commits until an election finishes.');
    lines.push('When a leader wins, it appends a no-op in its new term; once that commits, this entry commits with it — if the winner’s log holds it.');
    lines.push(countLine);
    return { ...base, verdict: 'no-leader', headline: 'No leader: nothing can commit until one is elected.', lines };
  }

  const Lid = L.row.id;
  if (!leaderHasIt) {
    const theirs = L.termAt(index);
    const what = theirs === undefined ? `no entry at ${index} (its log ends at ${L.row.last})` : theirs === null ? `an entry not loaded here` : `an entry of term ${theirs} at ${index}`;
    lines.push(`The leader ${Lid} (term ${L.row.term}) has ${what}. This entry never reached a majority, so when ${Lid}’s AppendEntries arrive, ${node} will truncate it and take the leader’s (Log Matching, §5.3).`);
    lines.push(countLine);
    return { ...base, verdict: 'will-be-replaced', headline: `Will be replaced: the leader ${Lid} does not have it.`, lines };
  }

  if (L.row.commit !== null && L.row.commit >= index && Lid !== node) {
    lines.push(
      `The leader ${Lid} has committed it (commit index ${L.row.commit}). ${node} learns that from the leaderCommit field of the next AppendEntries, so a follower’s commit index trails the leader’s by about one round trip.`,
    );
    return { ...base, verdict: 'committed-on-leader', headline: `Committed on the leader ${Lid}; ${node} has not heard yet.`, lines };
  }

  const knownByLeader = 1 + Object.entries(L.row.view?.matchIndex ?? {}).filter(([, m]) => m >= index).length;
  const leaderTerm = L.row.term ?? 0;
  if (T !== leaderTerm) {
    const v = L.row.view;
    let above = -1;
    if (v) for (const e of v.log) if (e.index > index && e.term === leaderTerm) { above = e.index; break; }
    const aboveText = above > 0 ? `the ${L.entryAt(above)?.kind === 'noop' ? 'no-op' : 'entry'} at index ${above}` : `an entry of term ${leaderTerm}`;
    lines.push(
      `Held back by the term rule (§5.4.2, Figure 8): ${Lid} leads term ${leaderTerm}, and a leader counts replicas only for entries of its own term. This term-${T} entry commits when ${aboveText} reaches a majority — even a majority holding it now would not be enough, because a future leader could still overwrite an old-term entry.`,
    );
    lines.push(countLine);
    lines.push(`The leader knows of ${knownByLeader} (its matchIndex, updated by AppendEntries replies).`);
    return { ...base, verdict: 'term-rule', headline: `Not committed: the term rule — ${Lid} needs an entry of term ${leaderTerm} above it to commit first.`, lines };
  }

  lines.push(countLine);
  if (knownByLeader >= q) lines.push(`${Lid} knows a majority holds it; it commits it as soon as it counts the acknowledgements.`);
  else if (holding >= q) lines.push(`A majority holds it, but ${Lid} knows of only ${knownByLeader}: the acknowledgements are still on their way.`);
  else {
    const waiting = holders.filter((h) => h.has !== true).map((h) => h.id);
    lines.push(`Waiting for ${plural(q - holding, 'more replica')} of: ${waiting.join(', ')}.`);
  }
  return { ...base, verdict: 'majority', headline: `Not committed yet: ${holding} of ${groupSize} hold it, a majority needs ${q}.`, lines };
}

function holder(s: LogSource, self: LogSource, index: number, T: number, L: LogSource | null, leaderHasIt: boolean): Holder {
  const id = s.row.id;
  if (index <= s.row.compacted && s !== self) {
    // Compacted entries were committed; the explained entry is the same one exactly when it is committed too.
    const committed = self.row.commit !== null && index <= self.row.commit;
    return { id, has: committed ? true : null, how: `compacted into its snapshot (entries 1..${s.row.compacted})` };
  }
  const t = s.termAt(index);
  const match = L && leaderHasIt && L.row.id !== id ? L.row.view?.matchIndex[id] : undefined;
  const matchText = match !== undefined ? `; the leader’s match for it is ${match}` : '';
  if (s === self) return { id, has: true, how: 'this entry' };
  if (s.row.status === 'crashed' && t === null) return { id, has: null, how: 'down; its disk log is not read yet' };
  if (t === null) return { id, has: null, how: 'not loaded here' };
  if (t === undefined) return { id, has: false, how: `its log ends at ${s.row.last}${matchText}` };
  if (t !== T) return { id, has: false, how: `has a term-${t} entry there (a conflict)${matchText}` };
  return { id, has: true, how: `${s.row.status === 'crashed' ? 'on its disk (down)' : `term ${T} at ${index}`}${matchText}` };
}

/** Details of an entry for the hover card's first line. */
export function entryLine(e: Entry): string {
  return `${entryText(e)} · term ${e.term} · appended at ${at(e.at)}`;
}
