import { curveCatmullRomClosed, line, polygonHull, scaleOrdinal } from 'd3';
import type { NodeSnapshot, Snapshot } from '../sim/lab.ts';
import type { NodeId, NodeStatus } from '../sim/kernel/types.ts';
import type { Micros } from '../sim/kernel/time.ts';

/**
 * Geometry of the topology view, derived from a snapshot: nodes on a circle, links between every pair (cut ones
 * marked), partition groups as padded hulls, and messages in flight placed along their link at
 * `(t - sentAt) / (deliverAt - sentAt)`. All numbers are in the SVG's fixed viewBox units and rounded to 0.1, so
 * the markup is stable for snapshot tests. d3 does the math (hulls, curves, colour scales); Svelte draws.
 */

export const VIEW_W = 700;
export const VIEW_H = 520;
const CENTER_X = VIEW_W / 2;
const CENTER_Y = VIEW_H / 2 - 6;
const RING_R = 188;
/** Each direction of a link runs this far to its right, so a ping and its pong never overlap. */
const LANE_OFFSET = 6;
const HULL_PAD = 15;

/** Okabe–Ito colours (colour-blind safe), by node status. Shapes and labels carry the same information. */
export const STATUS_COLOR: Record<NodeStatus, string> = {
  up: '#009E73',
  crashed: '#D55E00',
  paused: '#E69F00',
};

/** Message kinds get Okabe–Ito colours that are not already used by node status. */
const MESSAGE_PALETTE = ['#0072B2', '#CC79A7', '#56B4E9', '#F0E442', '#999999'];

export function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

export interface NodeMark {
  id: NodeId;
  x: number;
  y: number;
  status: NodeStatus;
  color: string;
  /** Where the status label goes: outside the ring, along the node's radius. */
  labelX: number;
  labelY: number;
  labelAnchor: 'start' | 'middle' | 'end';
  /** A role the node's memory announces (`leader`, `follower`, `candidate`…), shown beside its status. */
  role: string | null;
  node: NodeSnapshot;
}

/** The `role` headline field when the node kind has one (Raft replicas: leader, follower, candidate). */
export function nodeRole(node: NodeSnapshot): string | null {
  const role = node.headline.role;
  return typeof role === 'string' ? role : null;
}

export interface LinkMark {
  key: string;
  a: NodeId;
  b: NodeId;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Either direction of the link is cut by the current partition. */
  cut: boolean;
  /** Only one direction is cut (a one-way partition). */
  oneWay: boolean;
  midX: number;
  midY: number;
}

export interface MessageMark {
  key: string;
  id: number;
  kind: string;
  from: NodeId;
  to: NodeId;
  x: number;
  y: number;
  /** Fraction of the trip done, 0..1. */
  progress: number;
  doomed: boolean;
  color: string;
}

export interface HullMark {
  index: number;
  path: string;
  members: NodeId[];
}

export function nodeRadius(n: number): number {
  return round1(Math.max(10, Math.min(30, ((2 * Math.PI * RING_R) / Math.max(n, 1)) * 0.22)));
}

/** Fraction of a message's trip done at time t, clamped to 0..1 (a zero-latency message is at its end). */
export function tripProgress(t: Micros, sentAt: Micros, deliverAt: Micros): number {
  if (deliverAt <= sentAt) return 1;
  return Math.max(0, Math.min(1, (t - sentAt) / (deliverAt - sentAt)));
}

export class TopologyModel {
  readonly snapshot: Snapshot | null = $derived.by(() => this.source());
  readonly radius: number = $derived(nodeRadius(this.snapshot?.nodes.length ?? 0));

  readonly nodes: NodeMark[] = $derived.by(() => {
    const nodes = this.snapshot?.nodes ?? [];
    const n = nodes.length;
    return nodes.map((node, i) => {
      // Start at the top and go clockwise, like a clock face.
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(n, 1);
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      // Labels sit just outside the partition hulls, which pad each node by HULL_PAD.
      const out = this.radius + HULL_PAD + 9;
      const anchor: NodeMark['labelAnchor'] = Math.abs(cos) < 0.3 ? 'middle' : cos > 0 ? 'start' : 'end';
      return {
        id: node.id,
        x: round1(CENTER_X + RING_R * cos),
        y: round1(CENTER_Y + RING_R * sin),
        status: node.status,
        color: STATUS_COLOR[node.status],
        labelX: round1(CENTER_X + RING_R * cos + out * cos),
        labelY: round1(CENTER_Y + RING_R * sin + out * sin + (Math.abs(cos) < 0.3 ? (sin > 0 ? 8 : -2) : 5)),
        labelAnchor: anchor,
        role: nodeRole(node),
        node,
      };
    });
  });

  readonly positions: Map<NodeId, { x: number; y: number }> = $derived(new Map(this.nodes.map((m) => [m.id, { x: m.x, y: m.y }])));

  /** Each node's host (the network cuts and partitions hosts); a node without a declared host is its own. */
  readonly hostOf: Map<NodeId, string> = $derived(new Map((this.snapshot?.hosts ?? []).flatMap((h) => h.nodes.map((n) => [n, h.id] as [NodeId, string]))));

  readonly links: LinkMark[] = $derived.by(() => {
    const cut = new Set((this.snapshot?.network.cut ?? []).map(([a, b]) => `${a}>${b}`));
    const host = (id: NodeId) => this.hostOf.get(id) ?? id;
    const out: LinkMark[] = [];
    for (let i = 0; i < this.nodes.length; i++) {
      for (let j = i + 1; j < this.nodes.length; j++) {
        const a = this.nodes[i];
        const b = this.nodes[j];
        const ab = cut.has(`${host(a.id)}>${host(b.id)}`);
        const ba = cut.has(`${host(b.id)}>${host(a.id)}`);
        out.push({
          key: `${a.id}-${b.id}`,
          a: a.id,
          b: b.id,
          x1: a.x,
          y1: a.y,
          x2: b.x,
          y2: b.y,
          cut: ab || ba,
          oneWay: ab !== ba,
          midX: round1((a.x + b.x) / 2),
          midY: round1((a.y + b.y) / 2),
        });
      }
    }
    return out;
  });

  readonly cutLinks: LinkMark[] = $derived(this.links.filter((l) => l.cut));

  readonly messageColor = $derived.by(() => {
    const kinds = [...new Set((this.snapshot?.inFlight ?? []).map((m) => m.kind))].sort();
    return scaleOrdinal<string, string>().domain(kinds).range(MESSAGE_PALETTE);
  });

  readonly messages: MessageMark[] = $derived.by(() => {
    const s = this.snapshot;
    if (!s) return [];
    const out: MessageMark[] = [];
    for (const m of s.inFlight) {
      const a = this.positions.get(m.from);
      const b = this.positions.get(m.to);
      if (!a || !b) continue;
      const dx = b.x - a.x;
      const dy = b.y - a.y;
      const len = Math.hypot(dx, dy) || 1;
      const ux = dx / len;
      const uy = dy / len;
      // Right-hand normal of the direction of travel: each direction gets its own lane.
      const nx = -uy * LANE_OFFSET;
      const ny = ux * LANE_OFFSET;
      const r = this.radius + 4;
      const x0 = a.x + ux * r + nx;
      const y0 = a.y + uy * r + ny;
      const x1 = b.x - ux * r + nx;
      const y1 = b.y - uy * r + ny;
      const p = tripProgress(s.t, m.sentAt, m.deliverAt);
      out.push({
        key: `${m.id}.${m.copy}`,
        id: m.id,
        kind: m.kind,
        from: m.from,
        to: m.to,
        x: round1(x0 + (x1 - x0) * p),
        y: round1(y0 + (y1 - y0) * p),
        progress: Math.round(p * 1000) / 1000,
        doomed: m.doomed,
        color: this.messageColor(m.kind),
      });
    }
    return out;
  });

  readonly messageKinds: { kind: string; color: string }[] = $derived(
    this.messageColor.domain().map((kind) => ({ kind, color: this.messageColor(kind) })),
  );

  /** Partition groups as padded, rounded hulls (only while a partition is in force). */
  readonly hulls: HullMark[] = $derived.by(() => {
    const p = this.snapshot?.network.partition;
    if (!p) return [];
    const curve = line().curve(curveCatmullRomClosed.alpha(0.5));
    const pad = this.radius + HULL_PAD;
    // Groups name hosts; a hull wraps every node on them.
    const onHost = new Map<string, NodeId[]>();
    for (const [node, h] of this.hostOf) onHost.set(h, [...(onHost.get(h) ?? []), node]);
    return p.groups.map((hosts, index) => {
      const members = hosts.flatMap((h) => onHost.get(h) ?? [h]);
      const points: [number, number][] = [];
      for (const id of members) {
        const c = this.positions.get(id);
        if (!c) continue;
        for (let k = 0; k < 12; k++) {
          const a = (2 * Math.PI * k) / 12;
          points.push([c.x + pad * Math.cos(a), c.y + pad * Math.sin(a)]);
        }
      }
      const hull = polygonHull(points) ?? points;
      const path = curve(hull.map(([x, y]) => [round1(x), round1(y)] as [number, number])) ?? '';
      return { index, path: path.replace(/(\d+\.\d{2,})/g, (d) => String(round1(Number(d)))), members };
    });
  });

  readonly summary: string = $derived.by(() => {
    const s = this.snapshot;
    if (!s) return 'No run loaded.';
    const up = s.nodes.filter((n) => n.status === 'up').length;
    const parts = [`${s.nodes.length} nodes, ${up} up`];
    const crashed = s.nodes.filter((n) => n.status === 'crashed').map((n) => n.id);
    const paused = s.nodes.filter((n) => n.status === 'paused').map((n) => n.id);
    if (crashed.length) parts.push(`crashed: ${crashed.join(', ')}`);
    if (paused.length) parts.push(`paused: ${paused.join(', ')}`);
    if (s.network.partition) parts.push(`partition: ${s.network.partition.groups.map((g) => `{${g.join(' ')}}`).join(' | ')}`);
    parts.push(`${s.inFlightTotal} message${s.inFlightTotal === 1 ? '' : 's'} in flight`);
    return parts.join('; ');
  });

  constructor(private readonly source: () => Snapshot | null) {}
}
