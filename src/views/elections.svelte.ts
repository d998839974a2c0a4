import type { Snapshot } from '../sim/lab.ts';
import type { Micros } from '../sim/kernel/time.ts';
import type { NodeId } from '../sim/kernel/types.ts';
import type { RaftConfig } from '../sim/raft/types.ts';
import { faultMarks, type FaultMark } from './fault-windows.ts';
import { at, isRaftNode, raftView, ROLE_COLOR, termColor, timeTicks, type Role } from './raft-format.ts';
import type { RaftTrace, StateRec, VoteRec } from './raft-trace.svelte.ts';
import { round1 } from './topology.svelte.ts';

/**
 * Geometry of the elections timeline: one lane per replica over virtual time, with role bands by term, campaigns,
 * votes granted and refused (with the reason), leader heartbeats, and each waiting replica's election-timeout window
 * at the cursor. The data comes from the Raft trace (state changes, vote notes, timer fires, AppendEntries
 * deliveries); the cursor and the replicas' timeout settings from the snapshot.
 *
 * Time runs left to right over either the whole run or a window that follows the cursor (the cursor sits at 75% of
 * it). All positions are pixels in an SVG as wide as the element, rounded to 0.1 for stable snapshots.
 */

export const AXIS_H = 24;
export const LANE_H = 40;
export const BAND_H: Record<Role | 'down', number> = { leader: 20, candidate: 14, follower: 6, down: 20 };
const TERM_STRIP_H = 4;
/** One row of fault labels above the lanes; overlapping labels take another row, up to `FAULT_ROWS_MAX`. */
export const FAULT_ROW_H = 14;
const FAULT_ROWS_MAX = 2;
const PAD_X = 14;
const FALLBACK_WIDTH_PX = 900;
/** Leader heartbeats are drawn only when they are at least this far apart. */
const HEARTBEAT_GAP_PX = 4;

export const ZOOMS = [
  { id: 'run', label: 'Whole run', us: 0 },
  { id: '2s', label: '2 s', us: 2_000_000 },
  { id: '500ms', label: '500 ms', us: 500_000 },
  { id: '100ms', label: '100 ms', us: 100_000 },
  { id: '20ms', label: '20 ms', us: 20_000 },
] as const;

export type ZoomId = (typeof ZOOMS)[number]['id'];


export interface Span {
  node: NodeId;
  state: Role | 'down';
  term: number;
  leader: NodeId | null;
  from: Micros;
  to: Micros;
  /** Still going at the cursor. */
  open: boolean;
}

export interface Campaign {
  node: NodeId;
  term: number;
  pre: boolean;
  start: Micros;
  end: Micros | null;
  outcome: 'won' | 'lost' | 'split' | 'crashed' | 'pending' | 'proceeded' | 'refused';
  votes: (VoteRec & { receivedAt: Micros | null })[];
}

export interface Lane {
  id: NodeId;
  y: number;
  mid: number;
  state: Role | 'down' | 'none';
  term: number;
  /** Election timer: the earliest and latest it can fire, in µs from the cursor (null for leaders and the down). */
  timer: { from: Micros; to: Micros; resetAt: Micros; why: string } | null;
}

export interface BandMark {
  key: string;
  node: NodeId;
  state: Role | 'down';
  term: number;
  x: number;
  y: number;
  w: number;
  h: number;
  color: string;
  label: string;
  title: string;
}

export interface TermMark {
  key: string;
  x: number;
  y: number;
  w: number;
  color: string;
  label: string;
}

export interface CampaignMark {
  key: string;
  node: NodeId;
  term: number;
  pre: boolean;
  x: number;
  y: number;
  outcome: Campaign['outcome'];
  title: string;
}

export interface VoteMark {
  key: string;
  voter: NodeId;
  candidate: NodeId;
  granted: boolean;
  pre: boolean;
  x: number;
  y: number;
  /** The reply's arrival on the candidate's lane, when it arrived. */
  x2: number | null;
  y2: number;
  title: string;
}

export interface TimerMark {
  node: NodeId;
  x0: number;
  x1: number;
  resetX: number;
  y: number;
  title: string;
}

/** Role spans of one replica from its state changes, up to `now`; equal neighbours merge. */
export function spansOf(node: NodeId, list: readonly StateRec[], now: Micros): Span[] {
  const out: Span[] = [];
  for (let k = 0; k < list.length; k++) {
    const rec = list[k];
    const to = k + 1 < list.length ? list[k + 1].t : now;
    const state: Role | 'down' = rec.up ? rec.role : 'down';
    const last = out[out.length - 1];
    if (last && last.state === state && last.term === rec.term && last.leader === rec.leader) {
      last.to = to;
      continue;
    }
    if (last && last.from === last.to) out.pop();
    out.push({ node, state, term: rec.term, leader: rec.leader, from: rec.t, to, open: false });
  }
  if (out.length) out[out.length - 1].open = true;
  return out.filter((s, i) => s.to > s.from || i === out.length - 1);
}

/** Campaigns (real and PreVote) with their votes, matched to the replies the candidates received. */
export function campaignsOf(trace: RaftTrace, nodes: NodeId[]): Campaign[] {
  const receipts = trace.receipts.map((r) => ({ ...r, used: false }));
  const votes = trace.votes.map((v) => {
    const r = receipts.find((x) => !x.used && x.candidate === v.candidate && x.voter === v.voter && x.pre === v.pre && x.seq > v.seq);
    if (r) r.used = true;
    return { ...v, receivedAt: r ? r.t : null };
  });
  const out: Campaign[] = [];
  for (const node of nodes) {
    const list = trace.states.get(node) ?? [];
    let open: Campaign | null = null;
    for (let k = 0; k < list.length; k++) {
      const rec = list[k];
      const prev = k > 0 ? list[k - 1] : null;
      const isCandidate = rec.up && rec.role === 'candidate';
      const started = isCandidate && (!prev || prev.role !== 'candidate' || !prev.up || rec.term > prev.term);
      if (open && (!isCandidate || started)) {
        open.end = rec.t;
        open.outcome = !rec.up ? 'crashed' : rec.role === 'leader' ? 'won' : started ? 'split' : 'lost';
        open = null;
      }
      if (started) {
        open = { node, term: rec.term, pre: false, start: rec.t, end: null, outcome: 'pending', votes: [] };
        out.push(open);
      }
    }
  }
  const pres = trace.preVotes.filter((p) => nodes.includes(p.node));
  for (const p of pres) {
    const real = out.find((c) => !c.pre && c.node === p.node && c.term === p.term && c.start >= p.t);
    const again = pres.find((q) => q.node === p.node && q.seq > p.seq);
    // A PreVote round ends in a real campaign, or — refused by a majority — in silence until the timer fires again.
    const end = real && (!again || real.start <= again.t) ? real.start : (again?.t ?? null);
    const outcome = end === null ? 'pending' : real && end === real.start ? 'proceeded' : 'refused';
    out.push({ node: p.node, term: p.term, pre: true, start: p.t, end, outcome, votes: [] });
  }
  for (const v of votes) {
    const c = out.find((x) => x.node === v.candidate && x.term === v.term && x.pre === v.pre && x.start <= v.t && (x.end === null || x.end >= v.t));
    c?.votes.push(v);
  }
  return out.sort((a, b) => a.start - b.start || a.node.localeCompare(b.node));
}

const OUTCOME_TEXT: Record<Campaign['outcome'], string> = {
  won: 'won',
  lost: 'lost: it heard from a leader or a higher term and stepped down',
  split: 'no majority before its timer fired again (a split vote): it campaigned again in the next term',
  crashed: 'it crashed while campaigning',
  pending: 'still counting votes',
  proceeded: 'a majority said it could win, so it started a real election',
  refused: 'not enough pre-votes, so it stayed a follower and kept its term',
};

export function campaignText(c: Campaign): string {
  const kind = c.pre ? `asked for pre-votes for term ${c.term}` : `campaigned for term ${c.term}`;
  const votes = c.votes.length
    ? c.votes.map((v) => `${v.voter} ${v.granted ? '✓' : `✗ (${v.reason})`}`).join(', ')
    : 'no replies yet';
  const took = c.end !== null ? ` at ${at(c.end)}, after ${at(c.end - c.start)}` : '';
  return `${c.node} ${kind} at ${at(c.start)} — its election timer fired. Votes: ${votes}. Outcome: ${OUTCOME_TEXT[c.outcome]}${took}.`;
}

export function voteText(v: VoteRec & { receivedAt: Micros | null }): string {
  const what = `${v.voter} ${v.granted ? 'granted' : 'refused'} its ${v.pre ? 'pre-vote' : 'vote'} to ${v.candidate} for term ${v.term} at ${at(v.t)}`;
  const why = v.granted ? '' : `: ${v.reason}`;
  const reply = v.receivedAt !== null ? `; ${v.candidate} got the reply at ${at(v.receivedAt)}` : `; the reply has not arrived (in flight or lost)`;
  return `${what}${why}${reply}.`;
}

const STATE_TEXT: Record<Role | 'down', string> = { leader: 'leader', candidate: 'candidate', follower: 'follower', down: 'down (crashed)' };

export class ElectionsModel {
  zoom = $state<ZoomId>('run');
  widthPx = $state(0);
  scale = $state(1);

  readonly snapshot: Snapshot | null = $derived.by(() => this.source());
  /** The cursor: the snapshot's time, or the trace's last event while it catches up. */
  readonly now: Micros = $derived.by(() => (this.snapshot ? this.trace.horizon(this.snapshot) : 0));
  readonly durationUs: Micros = $derived(Math.max(1, this.snapshot?.durationUs ?? 1));
  readonly width: number = $derived(this.widthPx > 0 ? this.widthPx : FALLBACK_WIDTH_PX);
  readonly laneH: number = $derived(LANE_H * this.scale);
  readonly axisH: number = $derived(AXIS_H * this.scale);
  readonly ids: NodeId[] = $derived(this.snapshot?.nodes.filter(isRaftNode).map((n) => n.id) ?? []);
  /** Each replica's Raft settings (timeouts, heartbeat), from its memory; kept from the last snapshot it was up in. */
  readonly configs: Map<NodeId, RaftConfig> = $derived.by(() => {
    const out = new Map<NodeId, RaftConfig>();
    for (const n of this.snapshot?.nodes ?? []) {
      const v = raftView(n);
      if (v) out.set(n.id, v.cfg);
    }
    return out;
  });

  /** The time window shown: the whole run, or a window following the cursor. */
  readonly domain: [Micros, Micros] = $derived.by(() => {
    const z = ZOOMS.find((x) => x.id === this.zoom)!;
    if (z.us === 0 || z.us >= this.durationUs) return [0, this.durationUs];
    let t0 = this.now - 0.75 * z.us;
    t0 = Math.max(0, Math.min(t0, this.durationUs - z.us));
    return [Math.round(t0), Math.round(t0 + z.us)];
  });

  /** Room at both ends so the first and last tick labels and marks are not cut. */
  readonly padX: number = $derived(PAD_X * this.scale);
  readonly pxPerUs: number = $derived((this.width - 2 * this.padX) / Math.max(1, this.domain[1] - this.domain[0]));

  x(t: Micros): number {
    return round1(this.padX + (t - this.domain[0]) * this.pxPerUs);
  }

  /** The time at x pixels from the left of the lanes, clamped to the run. */
  timeAt(px: number): Micros {
    const t = this.domain[0] + (px - this.padX) / this.pxPerUs;
    return Math.round(Math.max(0, Math.min(this.durationUs, t)));
  }

  /**
   * Fault windows in view, shaded across every lane as on the charts (the same bands, labels and tooltips): a crash
   * here explains a lane going down, a partition the elections that follow it.
   */
  readonly faultMarks: FaultMark[] = $derived.by(() => {
    void this.trace.revision;
    const [t0, t1] = this.domain;
    return faultMarks(this.trace.faults.list, {
      now: this.now,
      t0,
      t1,
      x: (t) => this.x(t),
      hosts: this.snapshot?.hosts ?? [],
      labelPx: (label) => (label.length * 6.4 + 10) * this.scale,
      rowsMax: FAULT_ROWS_MAX,
    });
  });

  /** The strip above the lanes for fault labels: as many rows as the labels in view need, none without faults. */
  readonly faultRowH: number = $derived(round1(FAULT_ROW_H * this.scale));
  readonly faultH: number = $derived(round1(Math.max(0, ...this.faultMarks.map((f) => f.row + 1)) * this.faultRowH));
  /** Where the first lane starts. */
  readonly lanesTop: number = $derived(this.axisH + this.faultH);
  readonly height: number = $derived(this.lanesTop + this.ids.length * this.laneH + 6 * this.scale);

  /** Recomputed once per trace batch. */
  readonly spans: Map<NodeId, Span[]> = $derived.by(() => {
    void this.trace.revision;
    const out = new Map<NodeId, Span[]>();
    for (const id of this.ids) out.set(id, spansOf(id, this.trace.states.get(id) ?? [], this.now));
    return out;
  });

  readonly campaigns: Campaign[] = $derived.by(() => {
    void this.trace.revision;
    return campaignsOf(this.trace, this.ids);
  });

  readonly lanes: Lane[] = $derived.by(() => {
    const s = this.snapshot;
    return this.ids.map((id, i) => {
      const y = this.lanesTop + i * this.laneH;
      const list = this.spans.get(id) ?? [];
      const last = list[list.length - 1];
      return { id, y, mid: round1(y + this.laneH / 2 - 2 * this.scale), state: last?.state ?? 'none', term: last?.term ?? 0, timer: s ? this.timerOf(s, id) : null };
    });
  });

  private laneOf(id: NodeId): Lane | undefined {
    return this.lanes.find((l) => l.id === id);
  }

  readonly bands: BandMark[] = $derived.by(() => {
    const [t0, t1] = this.domain;
    const out: BandMark[] = [];
    for (const lane of this.lanes) {
      for (const s of this.spans.get(lane.id) ?? []) {
        if (s.to < t0 || s.from > t1) continue;
        const x0 = this.x(Math.max(s.from, t0));
        const x1 = this.x(Math.min(s.to, t1));
        const min = s.state === 'follower' ? 0 : 2.5;
        const w = round1(Math.max(min, x1 - x0));
        const h = BAND_H[s.state] * this.scale;
        const roleLabel = s.state === 'leader' ? `leader T${s.term}` : s.state === 'candidate' ? `T${s.term}` : s.state === 'down' ? 'down' : '';
        const label = w > roleLabel.length * 7.5 * this.scale ? roleLabel : w > 24 * this.scale && s.state === 'leader' ? `T${s.term}` : '';
        const follows = s.state === 'follower' && s.leader ? `, following ${s.leader}` : '';
        out.push({
          key: `${lane.id}:${s.from}:${s.state}:${s.term}`,
          node: lane.id,
          state: s.state,
          term: s.term,
          x: x0,
          y: round1(lane.mid - h / 2),
          w,
          h,
          color: ROLE_COLOR[s.state],
          label,
          title: `${lane.id}: ${STATE_TEXT[s.state]} in term ${s.term}${follows}, from ${at(s.from)} ${s.open ? 'until now' : `to ${at(s.to)}`} (${at(s.to - s.from)}).`,
        });
      }
    }
    return out;
  });

  /** A thin strip under each lane in the term's colour (the same colours as the replica logs). */
  readonly termStrips: TermMark[] = $derived.by(() => {
    const [t0, t1] = this.domain;
    const out: TermMark[] = [];
    for (const lane of this.lanes) {
      let cur: { term: number; from: Micros; to: Micros } | null = null;
      const flush = () => {
        if (!cur || cur.to < t0 || cur.from > t1 || cur.term === 0) return;
        const x0 = this.x(Math.max(cur.from, t0));
        const w = round1(Math.max(0, this.x(Math.min(cur.to, t1)) - x0));
        out.push({ key: `${lane.id}:${cur.from}`, x: x0, y: round1(lane.mid + BAND_H.leader * this.scale * 0.5 + 3 * this.scale), w, color: termColor(cur.term), label: w > 30 * this.scale ? `T${cur.term}` : '' });
      };
      for (const s of this.spans.get(lane.id) ?? []) {
        if (cur && cur.term === s.term) cur.to = s.to;
        else {
          flush();
          cur = { term: s.term, from: s.from, to: s.to };
        }
      }
      flush();
    }
    return out;
  });

  readonly termStripH: number = $derived(TERM_STRIP_H * this.scale);

  readonly campaignMarks: CampaignMark[] = $derived.by(() => {
    const [t0, t1] = this.domain;
    const out: CampaignMark[] = [];
    for (const c of this.campaigns) {
      if (c.start < t0 || c.start > t1) continue;
      const lane = this.laneOf(c.node);
      if (!lane) continue;
      out.push({ key: `${c.node}:${c.pre ? 'pre' : ''}${c.term}:${c.start}`, node: c.node, term: c.term, pre: c.pre, x: this.x(c.start), y: lane.mid, outcome: c.outcome, title: campaignText(c) });
    }
    return out;
  });

  readonly voteMarks: VoteMark[] = $derived.by(() => {
    const [t0, t1] = this.domain;
    const out: VoteMark[] = [];
    for (const c of this.campaigns) {
      const target = this.laneOf(c.node);
      if (!target) continue;
      for (const v of c.votes) {
        if (v.t < t0 || v.t > t1) continue;
        const lane = this.laneOf(v.voter);
        if (!lane) continue;
        out.push({
          key: `${v.seq}`,
          voter: v.voter,
          candidate: v.candidate,
          granted: v.granted,
          pre: v.pre,
          x: this.x(v.t),
          y: lane.mid,
          x2: v.receivedAt !== null && v.receivedAt <= t1 ? this.x(v.receivedAt) : null,
          y2: target.mid,
          title: voteText(v),
        });
      }
    }
    return out;
  });

  /** Leader heartbeat timer fires, as ticks, when the zoom leaves room for them. */
  readonly heartbeatTicks: { key: string; x: number; y: number }[] = $derived.by(() => {
    void this.trace.revision;
    const [t0, t1] = this.domain;
    const out: { key: string; x: number; y: number }[] = [];
    for (const lane of this.lanes) {
      const hb = this.trace.heartbeats.get(lane.id);
      if (!hb || hb.t.length === 0) continue;
      const every = (this.configs.get(lane.id)?.heartbeatMs ?? 50) * 1000;
      if (every * this.pxPerUs < HEARTBEAT_GAP_PX * this.scale) continue;
      for (let k = 0; k < hb.t.length; k++) {
        const t = hb.t[k];
        if (t < t0 || t > t1) continue;
        out.push({ key: `${lane.id}:${hb.seq[k]}`, x: this.x(t), y: lane.mid - (BAND_H.leader / 2 + 6) * this.scale });
      }
    }
    return out;
  });

  readonly timers: TimerMark[] = $derived.by(() => {
    const out: TimerMark[] = [];
    for (const lane of this.lanes) {
      const tm = lane.timer;
      if (!tm) continue;
      const a = this.now + tm.from;
      const b = this.now + tm.to;
      const [t0, t1] = this.domain;
      if (b < t0 || a > t1) continue;
      out.push({
        node: lane.id,
        x0: this.x(Math.max(a, t0)),
        x1: this.x(Math.min(b, t1)),
        resetX: this.x(Math.max(tm.resetAt, t0)),
        y: lane.mid,
        title: timerText(lane.id, tm, this.now),
      });
    }
    return out;
  });

  readonly cursorX: number = $derived(this.x(Math.min(Math.max(this.now, this.domain[0]), this.domain[1])));
  readonly futureX: number = $derived(this.x(Math.max(this.domain[0], Math.min(this.now, this.domain[1]))));

  readonly ticks: { x: number; label: string }[] = $derived(
    timeTicks(this.domain[0], this.domain[1], Math.max(3, Math.floor(this.width / (95 * this.scale)))).map((k) => ({ x: this.x(k.t), label: k.label }))
      .filter((k) => k.x >= 18 * this.scale && k.x <= this.width - 18 * this.scale),
  );

  readonly summary: string = $derived.by(() => {
    const real = this.campaigns.filter((c) => !c.pre);
    const won = real.filter((c) => c.outcome === 'won');
    const leader = this.lanes.filter((l) => l.state === 'leader').sort((a, b) => b.term - a.term)[0];
    const parts = [`${real.length} campaign${real.length === 1 ? '' : 's'}`, `${won.length} won`];
    const maxTerm = Math.max(0, ...this.lanes.map((l) => l.term));
    parts.unshift(`term ${maxTerm}`);
    parts.push(leader ? `leader ${leader.id}` : 'no leader');
    return parts.join(' · ');
  });

  constructor(
    private readonly source: () => Snapshot | null,
    private readonly trace: RaftTrace,
  ) {}

  /** The window in which a waiting replica's election timer can fire, relative to the cursor. */
  private timerOf(s: Snapshot, id: NodeId): Lane['timer'] {
    void this.trace.revision;
    const node = s.nodes.find((n) => n.id === id);
    const v = node ? raftView(node) : null;
    if (!node || !v || node.status !== 'up' || v.role === 'leader') return null;
    const resets = this.trace.resets.get(id);
    const k = resets ? resets.t.length - 1 : -1;
    if (!resets || k < 0) return null;
    const resetAt = resets.t[k];
    const from = resetAt + v.cfg.electionMinMs * 1000 - this.now;
    const to = resetAt + v.cfg.electionMaxMs * 1000 - this.now;
    if (to < 0) return null;
    return { from, to, resetAt, why: resets.why[k] };
  }
}

export function timerText(id: NodeId, tm: NonNullable<Lane['timer']>, now: Micros): string {
  const lo = Math.max(0, tm.from);
  const when = tm.from > 0 ? `in ${at(lo)} to ${at(tm.to)}` : `any moment now (within ${at(tm.to)})`;
  return `${id}’s election timer was last reset at ${at(tm.resetAt)} (${tm.why}). Unless it hears from a leader again, it fires ${when}, at a random point between ${at(now + tm.from)} and ${at(now + tm.to)}.`;
}
