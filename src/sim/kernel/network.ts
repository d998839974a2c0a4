import { assert, fail } from './assert.ts';
import type { Rng } from './rng.ts';
import type { Micros } from './time.ts';
import type { HostId, LinkSpec, NodeId, PartitionShape } from './types.ts';

/**
 * The network between hosts: per-directed-link behaviour (latency = base + uniform jitter, loss, duplication, reordering, bandwidth)
 * and at most one partition at a time (a new partition replaces the old one; heal removes it — Jepsen's nemesis model).
 *
 * Fate rule for partitions: a message is dropped when its link is cut when it is sent *or* when it would be delivered.
 * Every fate is decided at delivery time, so views can animate a doomed message until it vanishes.
 *
 * Partition semantics: two hosts can talk iff some group holds both. Groups may overlap (a bridge host belongs to both
 * halves; a majorities ring lists each host's view). A host in no group is untouched by the partition.
 *
 * Everything here is keyed by host: links, partitions, per-link FIFO order and bandwidth (one connection per host
 * pair). When no node names a host, every node is its own host and the keys are node ids, exactly as before hosts
 * existed. Messages between two nodes of one host never touch this model (`transmitLocal`).
 */
export interface Partition {
  shape: PartitionShape;
  /** Groups of host ids. */
  groups: HostId[][];
  oneWay: boolean;
}

export interface NetState {
  defaults: LinkSpec;
  /** Per-link overrides keyed `from>to` (host ids). */
  overrides: Record<string, Partial<LinkSpec>>;
  /** Whether any link has an override: most runs have none, and then no send looks one up. */
  anyOverride: boolean;
  partition: Partition | null;
  /** Directed links the current partition cuts, keyed `from>to`. */
  cut: Record<string, true>;
  /** Latest delivery time per link, so messages on a link arrive in FIFO order unless reordered. */
  lastDeliverAt: Record<string, Micros>;
  /** When each link finishes transmitting what it already holds (bandwidth model). */
  busyUntil: Record<string, Micros>;
  /**
   * Latest delivery time per ordered pair of nodes on one host, keyed `from>to` (node ids): local messages keep FIFO
   * order even when a disk wait holds an earlier one longer than a later one. Empty when no host holds two nodes.
   */
  localLastDeliverAt: Record<string, Micros>;
  nextMsgId: number;
}

/**
 * Latency of a message between two nodes of the same host (threads of one process handing over a buffer): fixed,
 * never lost, duplicated, reordered or cut, FIFO per sender and receiver.
 */
export const LOCAL_LATENCY_US: Micros = 20;

/** Interned `from>to` keys: the hot path looks links up by the same few strings millions of times. */
const LINK_KEYS = new Map<NodeId, Map<NodeId, string>>();

export function linkKey(from: NodeId, to: NodeId): string {
  let row = LINK_KEYS.get(from);
  if (!row) LINK_KEYS.set(from, (row = new Map()));
  let k = row.get(to);
  if (k === undefined) row.set(to, (k = `${from}>${to}`));
  return k;
}

export function validateLinkSpec(spec: Partial<LinkSpec>, where: string): void {
  for (const p of ['loss', 'dup', 'reorder'] as const) {
    const v = spec[p];
    if (v !== undefined) { if (!(v >= 0 && v <= 1)) fail(`${where}: ${p} must be within [0, 1], got ${v}`); }
  }
  for (const p of ['latencyUs', 'jitterUs', 'bandwidthBytesPerS'] as const) {
    const v = spec[p];
    if (v !== undefined) { if (!(Number.isInteger(v) && v >= 0)) fail(`${where}: ${p} must be a non-negative integer, got ${v}`); }
  }
}

export function netCreate(defaults: LinkSpec): NetState {
  validateLinkSpec(defaults, 'default link');
  return { defaults, overrides: {}, anyOverride: false, partition: null, cut: {}, lastDeliverAt: {}, busyUntil: {}, localLastDeliverAt: {}, nextMsgId: 1 };
}

export function linkSpec(net: NetState, from: HostId, to: HostId): LinkSpec {
  const o = net.anyOverride ? net.overrides[linkKey(from, to)] : undefined;
  return o ? { ...net.defaults, ...o } : net.defaults;
}

/** Whether the current partition cuts the link between two hosts (never a host from itself). */
export function isCut(net: NetState, from: HostId, to: HostId): boolean {
  return net.partition !== null && net.cut[linkKey(from, to)] === true;
}

/** Sets link parameters between hosts; `'*'` on either side means every host. */
export function netSetLink(net: NetState, hosts: readonly HostId[], from: HostId | '*', to: HostId | '*', set: Partial<LinkSpec>, symmetric: boolean): void {
  validateLinkSpec(set, `link ${from}>${to}`);
  const froms = from === '*' ? hosts : [from];
  const tos = to === '*' ? hosts : [to];
  for (const a of froms) {
    for (const b of tos) {
      if (a === b) continue;
      net.anyOverride = true;
      const k = linkKey(a, b);
      net.overrides[k] = { ...net.overrides[k], ...set };
      if (symmetric) net.overrides[linkKey(b, a)] = { ...net.overrides[linkKey(b, a)], ...set };
    }
  }
}

/**
 * Builds the groups of a partition shape over `nodes` — the world passes host ids, in topology order. Random choices
 * come from `rng`.
 */
export function partitionGroups(shape: PartitionShape, nodes: readonly NodeId[], rng: Rng, node?: NodeId, groups?: NodeId[][]): NodeId[][] {
  assert(nodes.length >= 2, 'a partition needs at least two nodes');
  switch (shape) {
    case 'isolate': {
      const x = node ?? rng.pick(nodes);
      return [[x], nodes.filter((n) => n !== x)];
    }
    case 'halves': {
      const shuffled = shuffle(nodes, rng);
      const k = Math.floor(nodes.length / 2);
      return [shuffled.slice(0, k).sort(byTopology(nodes)), shuffled.slice(k).sort(byTopology(nodes))];
    }
    case 'ring': {
      // Each node sees itself and its nearest neighbours on a ring, enough to make a majority of its own, yet no two
      // neighbouring nodes see the same majority (Jepsen's "majorities ring").
      const n = nodes.length;
      const reach = Math.ceil(Math.floor(n / 2) / 2);
      const order = shuffle(nodes, rng);
      return order.map((_, i) => {
        const view: NodeId[] = [];
        for (let d = -reach; d <= reach; d++) view.push(order[(i + d + n) % n]);
        return [...new Set(view)].sort(byTopology(nodes));
      });
    }
    case 'bridge': {
      assert(nodes.length >= 3, 'a bridge partition needs at least three nodes');
      const mid = node ?? rng.pick(nodes);
      const rest = shuffle(nodes.filter((n) => n !== mid), rng);
      const k = Math.floor(rest.length / 2);
      return [[...rest.slice(0, k), mid].sort(byTopology(nodes)), [...rest.slice(k), mid].sort(byTopology(nodes))];
    }
    case 'groups': {
      assert(groups !== undefined && groups.length >= 2, 'a groups partition needs at least two groups');
      return groups.map((g) => [...g]);
    }
  }
}

/** Cuts every link between hosts that share no group (`nodes` and `groups` hold host ids). */
export function netPartition(net: NetState, nodes: readonly HostId[], shape: PartitionShape, groups: HostId[][], oneWay: boolean): void {
  const member = new Map<NodeId, Set<number>>();
  groups.forEach((g, i) => g.forEach((n) => {
    if (!member.has(n)) member.set(n, new Set());
    member.get(n)!.add(i);
  }));
  const cut: Record<string, true> = {};
  for (const a of nodes) {
    const ga = member.get(a);
    if (!ga) continue;
    if (oneWay && !groups[0].includes(a)) continue;
    for (const b of nodes) {
      const gb = member.get(b);
      if (a === b || !gb) continue;
      let shared = false;
      for (const i of ga) if (gb.has(i)) shared = true;
      if (!shared) cut[linkKey(a, b)] = true;
    }
  }
  net.partition = { shape, groups, oneWay };
  net.cut = cut;
}

export function netHeal(net: NetState): void {
  net.partition = null;
  net.cut = {};
}

export interface Transmission {
  deliverAt: Micros;
  lost: boolean;
  dupDeliverAt: Micros | null;
}

/**
 * Decides when (and whether) one message crosses the link between two hosts. `now` is when it leaves the sending
 * host (after any disk and NIC wait). Draws only from the `net` stream.
 */
export function transmit(net: NetState, from: HostId, to: HostId, size: number, now: Micros, rng: Rng): Transmission {
  const key = linkKey(from, to);
  const o = net.anyOverride ? net.overrides[key] : undefined;
  const spec = o ? { ...net.defaults, ...o } : net.defaults;
  let start = now;
  if (spec.bandwidthBytesPerS > 0) {
    const txUs = Math.ceil((size * 1_000_000) / spec.bandwidthBytesPerS);
    start = Math.max(now, net.busyUntil[key] ?? 0) + txUs;
    net.busyUntil[key] = start;
  }
  const base = start + spec.latencyUs;
  let deliverAt = base + (spec.jitterUs > 0 ? rng.int(0, spec.jitterUs) : 0);
  if (spec.reorder > 0 && rng.chance(spec.reorder)) {
    deliverAt += rng.int(0, 2 * Math.max(spec.latencyUs, 1));
  } else {
    deliverAt = Math.max(deliverAt, net.lastDeliverAt[key] ?? 0);
    net.lastDeliverAt[key] = deliverAt;
  }
  const lost = spec.loss > 0 && rng.chance(spec.loss);
  const dupDeliverAt = spec.dup > 0 && rng.chance(spec.dup) ? base + (spec.jitterUs > 0 ? rng.int(0, spec.jitterUs) : 0) : null;
  return { deliverAt, lost, dupDeliverAt };
}

/**
 * When a message between two nodes of one host arrives: `LOCAL_LATENCY_US` after it is ready to leave, and never
 * before an earlier message of the same sender to the same receiver. Draws nothing.
 */
export function transmitLocal(net: NetState, from: NodeId, to: NodeId, ready: Micros): Micros {
  assert(from !== to, 'a local message goes to another node');
  const key = linkKey(from, to);
  const deliverAt = Math.max(ready + LOCAL_LATENCY_US, net.localLastDeliverAt[key] ?? 0);
  net.localLastDeliverAt[key] = deliverAt;
  return deliverAt;
}

function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function byTopology(nodes: readonly NodeId[]): (a: NodeId, b: NodeId) => number {
  return (a, b) => nodes.indexOf(a) - nodes.indexOf(b);
}
