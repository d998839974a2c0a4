import { assert, fail } from './assert.ts';
import type { Rng } from './rng.ts';
import type { Micros } from './time.ts';
import type { Fault, HostId, LinkSpec, NodeId, PartitionShape } from './types.ts';

/**
 * A random fault schedule in the style of TigerBeetle's VOPR: ONE rng stream draws everything — how busy this seed is,
 * how much it favours each fault kind, and every individual fault — so a failing seed names its whole schedule.
 *
 * The run has two phases.
 * - Fault phase, [0, healAt) with healAt ≈ 60% of the run: crashes (half of them power cuts that lose unsynced
 *   writes), restarts of crashed nodes (half within 0.1–1 s, the rest within 1–4 s), "flapping" nodes that crash
 *   again with a power cut 10 ms–1 s after a restart (the window in which recovery writes such as a boot epoch may
 *   not be synced yet), pauses and resumes, partitions of every shape (isolate, halves, majorities ring and bridge
 *   when there are three nodes or more; one-way a fifth of the time), link faults (loss, duplication, reordering,
 *   latency on one link, one node's links, or all links), and heals. Safety checkers must stay silent throughout.
 * - Heal phase, at healAt: the partition heals, link settings go back to the defaults, paused nodes resume and crashed
 *   nodes restart. After it the system must converge (liveness), with no fault left standing.
 *
 * Targets are hosts: the unit of failure and of network placement (`World.hostIds`, or `hostIdsOf(spec.nodes)`). A
 * crash, restart, pause or resume of a host acts on every node on it; partitions and link faults are drawn over host
 * ids. When no node names a host, host ids are node ids and the schedule is the one drawn before hosts existed: the
 * draws depend only on how many targets there are and their order, never on what they are called. (Passing node ids
 * of a topology with shared hosts still works — the world maps each to its host — but the schedule's bookkeeping of
 * who is down is then per node, so some of its faults turn into no-ops.)
 *
 * The schedule tracks host and network state while it draws, so every fault applies when it fires: a restart only
 * targets a host that is crashed at that time, a resume a paused one, a pause or crash an up one, and at most
 * `downMax` hosts are down (crashed or paused) at once — a minority by default, so a quorum can always form. Faults
 * written by the scenario itself are not known here; where they clash the world records them as no-ops.
 *
 * Times are integer microseconds, sorted; equal times keep the order in which they were drawn.
 */

export interface TimedFault {
  at: Micros;
  fault: Fault;
}

export interface RandomFaultOptions {
  /** The run's default link. Without it no link faults are drawn, because nothing could restore them. */
  defaultLink?: LinkSpec;
  /** Per-link settings of the topology (naming nodes or hosts), re-applied after the default link is restored in the heal phase. */
  restoreLinks?: readonly { from: NodeId | '*'; to: NodeId | '*'; set: Partial<LinkSpec>; symmetric: boolean }[];
  /** Fraction of the run that is the fault phase, in (0, 1]. Default 0.6. */
  faultFraction?: number;
  /** Most hosts down (crashed or paused) at once. Default: a minority, max(1, floor((n - 1) / 2)) of n hosts. */
  downMax?: number;
  /** Most faults drawn in the fault phase. Default 1000. */
  faultsMax?: number;
  /**
   * Roles the nodes announce (e.g. `leader`): when given, some crashes target `@leader` — Jepsen's "kill the
   * primary" — and come back soon as `@crashed`, so leadership flaps while logs are only partly replicated.
   */
  roles?: readonly string[];
}

export const FAULT_FRACTION_DEFAULT = 0.6;
export const RANDOM_FAULTS_MAX = 1000;
/** Below this gap between faults a schedule would be noise rather than a story; it also bounds the loop. */
const GAP_US_MIN = 1_000;
const MS = 1_000;
const S = 1_000_000;

type Kind = 'crash' | 'pause' | 'partition' | 'link' | 'heal' | 'crash-role';

interface Drawing {
  rng: Rng;
  /** The targets: host ids, in topology order. */
  nodes: readonly HostId[];
  status: Map<HostId, 'up' | 'crashed' | 'paused'>;
  downMax: number;
  /** Bumped by every partition and heal, so a scheduled heal of an older partition does not cut a newer one short. */
  partitionGen: number;
  partitioned: boolean;
  linksChanged: boolean;
  defaultLink: LinkSpec | undefined;
  roles: readonly string[];
  /** Hosts crashed through a role reference: which they are is only known when the fault applies. */
  roleDown: number;
  roleCrashes: number;
  out: TimedFault[];
  /** Follow-ups (restarts, resumes, heals, flaps) keyed by time; each re-checks state when it fires. */
  pending: { at: Micros; fire: (at: Micros) => void }[];
}

/** Draws a random fault schedule over `hostIds` (the world's host ids, in topology order; see above). */
export function randomFaults(hostIds: readonly HostId[], durationUs: Micros, rng: Rng, opts: RandomFaultOptions = {}): TimedFault[] {
  const fraction = opts.faultFraction ?? FAULT_FRACTION_DEFAULT;
  const faultsMax = opts.faultsMax ?? RANDOM_FAULTS_MAX;
  assert(hostIds.length >= 1 && new Set(hostIds).size === hostIds.length, 'randomFaults needs distinct host ids');
  if (!(Number.isInteger(durationUs) && durationUs > 0)) fail(`randomFaults: duration must be a positive integer, got ${durationUs}`);
  if (!(fraction > 0 && fraction <= 1)) fail(`randomFaults: faultFraction must be within (0, 1], got ${fraction}`);
  assert(Number.isInteger(faultsMax) && faultsMax >= 0, 'randomFaults: faultsMax must be a non-negative integer');
  const d: Drawing = {
    rng,
    nodes: hostIds,
    status: new Map(hostIds.map((n) => [n, 'up'])),
    downMax: opts.downMax ?? Math.max(1, Math.floor((hostIds.length - 1) / 2)),
    partitionGen: 0,
    partitioned: false,
    linksChanged: false,
    defaultLink: opts.defaultLink,
    roles: opts.roles ?? [],
    roleDown: 0,
    roleCrashes: 0,
    out: [],
    pending: [],
  };
  const healAt = Math.round(durationUs * fraction);
  const weights = drawWeights(d);
  // How busy this seed is: between 8 and 24 fault draws over the fault phase on average.
  const gapMeanUs = Math.max(GAP_US_MIN, Math.floor(healAt / rng.int(8, 24)));
  for (let t = rng.int(1, 2 * gapMeanUs); t < healAt && d.out.length < faultsMax; t += rng.int(1, 2 * gapMeanUs)) {
    firePending(d, t);
    drawOne(d, t, pickKind(d, weights));
  }
  firePending(d, healAt - 1);
  healAll(d, healAt, opts.restoreLinks ?? []);
  for (let i = 1; i < d.out.length; i++) assert(d.out[i - 1].at <= d.out[i].at, 'random fault times must be sorted');
  return d.out;
}

/** Per-seed appetite for each kind (VOPR draws its fault probabilities per seed, so seeds differ in character). */
function drawWeights(d: Drawing): Record<Kind, number> {
  const { rng } = d;
  const links = d.defaultLink !== undefined && d.nodes.length >= 2;
  return {
    crash: rng.int(2, 6),
    pause: rng.int(0, 3),
    partition: d.nodes.length >= 2 ? rng.int(1, 4) : 0,
    link: links ? rng.int(0, 3) : 0,
    heal: rng.int(1, 2),
    'crash-role': d.roles.length > 0 ? rng.int(0, 4) : 0,
  };
}

function pickKind(d: Drawing, weights: Record<Kind, number>): Kind {
  const kinds = Object.keys(weights) as Kind[];
  let total = 0;
  for (const k of kinds) total += weights[k];
  let x = d.rng.int(1, total);
  for (const k of kinds) {
    x -= weights[k];
    if (x <= 0) return k;
  }
  return 'heal';
}

function drawOne(d: Drawing, t: Micros, kind: Kind): void {
  switch (kind) {
    case 'crash': {
      const up = upNodes(d);
      if (up.length > 0 && downCount(d) < d.downMax) crash(d, t, d.rng.pick(up), d.rng.chance(0.5));
      return;
    }
    case 'pause': {
      const up = upNodes(d);
      if (up.length > 0 && downCount(d) < d.downMax) pause(d, t, d.rng.pick(up));
      return;
    }
    case 'partition':
      return partition(d, t);
    case 'link':
      return link(d, t);
    case 'heal':
      if (d.partitioned) heal(d, t);
      return;
    case 'crash-role':
      if (downCount(d) < d.downMax) crashRole(d, t, d.rng.pick(d.roles));
      return;
  }
}

/** Crashes the host of whichever node holds `role` when the fault fires (a no-op if none does), and restarts it soon after. */
function crashRole(d: Drawing, at: Micros, role: string): void {
  const loseUnsynced = d.rng.chance(0.5);
  emit(d, at, { kind: 'crash', node: `@${role}`, ...(loseUnsynced ? { loseUnsynced: true } : {}) });
  d.roleDown++;
  d.roleCrashes++;
  later(d, at + d.rng.int(10 * MS, S), (t) => {
    emit(d, t, { kind: 'restart', node: '@crashed' });
    d.roleDown--;
  });
}

function emit(d: Drawing, at: Micros, fault: Fault): void {
  if (!(Number.isInteger(at) && at >= 0)) fail(`fault time must be a non-negative integer, got ${at}`);
  assert(d.out.length === 0 || d.out[d.out.length - 1].at <= at, 'faults must be drawn in time order');
  d.out.push({ at, fault });
}

function later(d: Drawing, at: Micros, fire: (at: Micros) => void): void {
  let i = d.pending.length;
  while (i > 0 && d.pending[i - 1].at > at) i--;
  d.pending.splice(i, 0, { at, fire });
}

/** Fires every follow-up due at or before `t`, in time order; a follow-up may schedule further ones. */
function firePending(d: Drawing, t: Micros): void {
  while (d.pending.length > 0 && d.pending[0].at <= t) {
    const p = d.pending.shift()!;
    p.fire(p.at);
  }
}

function crash(d: Drawing, at: Micros, node: HostId, loseUnsynced: boolean): void {
  if (!(d.status.get(node) === 'up')) fail(`crash: ${node} must be up`);
  emit(d, at, loseUnsynced ? { kind: 'crash', node, loseUnsynced: true } : { kind: 'crash', node });
  d.status.set(node, 'crashed');
  const soon = d.rng.chance(0.5);
  const restartAt = at + (soon ? d.rng.int(100 * MS, S) : d.rng.int(S, 4 * S));
  // A flapping node crashes again, with a power cut, shortly after it comes back: recovery is when a node writes
  // its new incarnation to disk, and a crash before that write is synced is what breaks generation clocks.
  const flapAt = d.rng.chance(0.35) ? restartAt + d.rng.int(10 * MS, S) : null;
  later(d, restartAt, (t) => {
    if (d.status.get(node) !== 'crashed') return;
    emit(d, t, { kind: 'restart', node });
    d.status.set(node, 'up');
  });
  if (flapAt !== null) {
    later(d, flapAt, (t) => {
      if (d.status.get(node) === 'up' && downCount(d) < d.downMax) crash(d, t, node, true);
    });
  }
}

function pause(d: Drawing, at: Micros, node: HostId): void {
  if (!(d.status.get(node) === 'up')) fail(`pause: ${node} must be up`);
  emit(d, at, { kind: 'pause', node });
  d.status.set(node, 'paused');
  if (!d.rng.chance(0.8)) return; // stays paused until the heal phase
  later(d, at + d.rng.int(50 * MS, 2 * S), (t) => {
    if (d.status.get(node) !== 'paused') return;
    emit(d, t, { kind: 'resume', node });
    d.status.set(node, 'up');
  });
}

function partition(d: Drawing, at: Micros): void {
  const shapes: PartitionShape[] = d.nodes.length >= 3 ? ['isolate', 'halves', 'ring', 'bridge'] : ['isolate', 'halves'];
  const shape = d.rng.pick(shapes);
  const oneWay = d.rng.chance(0.2);
  const node = shape === 'isolate' || shape === 'bridge' ? d.rng.pick(d.nodes) : undefined;
  emit(d, at, { kind: 'partition', shape, ...(node !== undefined ? { node } : {}), ...(oneWay ? { oneWay: true } : {}) });
  const gen = ++d.partitionGen;
  d.partitioned = true;
  if (!d.rng.chance(0.7)) return; // lasts until replaced, healed by a drawn heal, or the heal phase
  later(d, at + d.rng.int(200 * MS, 3 * S), (t) => {
    if (d.partitioned && d.partitionGen === gen) heal(d, t);
  });
}

function heal(d: Drawing, at: Micros): void {
  emit(d, at, { kind: 'heal' });
  d.partitioned = false;
  d.partitionGen++;
}

/** One link fault on one directed link between hosts (sometimes both ways), one host's outgoing links, or every link. */
function link(d: Drawing, at: Micros): void {
  const defaults = d.defaultLink;
  assert(defaults !== undefined && d.nodes.length >= 2, 'link faults need a default link and two nodes');
  const { rng } = d;
  const target = rng.int(0, 2);
  const from = target === 2 ? '*' : rng.pick(d.nodes);
  const to = target === 0 ? rng.pick(d.nodes.filter((n) => n !== from)) : '*';
  const symmetric = target === 0 && rng.chance(0.5);
  const set = drawLinkSet(rng, defaults);
  emit(d, at, { kind: 'link', from, to, set, ...(symmetric ? { symmetric: true } : {}) });
  d.linksChanged = true;
  if (!rng.chance(0.5)) return; // left degraded until the heal phase
  const restore: Partial<LinkSpec> = {};
  for (const k of Object.keys(set) as (keyof LinkSpec)[]) restore[k] = defaults[k];
  later(d, at + rng.int(200 * MS, 3 * S), (t) => emit(d, t, { kind: 'link', from, to, set: restore, ...(symmetric ? { symmetric: true } : {}) }));
}

function drawLinkSet(rng: Rng, defaults: LinkSpec): Partial<LinkSpec> {
  switch (rng.int(0, 3)) {
    case 0:
      return { loss: rng.int(5, 50) / 100 };
    case 1:
      return { dup: rng.int(5, 30) / 100 };
    case 2:
      return { reorder: rng.int(10, 60) / 100 };
    default: {
      const latencyUs = Math.max(defaults.latencyUs * rng.int(2, 20), rng.int(10 * MS, 200 * MS));
      return { latencyUs, jitterUs: rng.int(0, Math.floor(latencyUs / 2)) };
    }
  }
}

/** The heal phase: everything back to normal at `at`, in a fixed order (network first, then hosts by topology). */
function healAll(d: Drawing, at: Micros, restoreLinks: NonNullable<RandomFaultOptions['restoreLinks']>): void {
  emit(d, at, { kind: 'heal' });
  d.partitioned = false;
  if (d.linksChanged && d.defaultLink !== undefined) {
    emit(d, at, { kind: 'link', from: '*', to: '*', set: { ...d.defaultLink } });
    for (const l of restoreLinks) emit(d, at, { kind: 'link', from: l.from, to: l.to, set: { ...l.set }, ...(l.symmetric ? { symmetric: true } : {}) });
    d.linksChanged = false;
  }
  for (const node of d.nodes) {
    const s = d.status.get(node);
    if (s === 'paused') emit(d, at, { kind: 'resume', node });
    if (s === 'crashed') emit(d, at, { kind: 'restart', node });
    d.status.set(node, 'up');
  }
  // Hosts crashed by role are known only by the world: restart whatever is still crashed, once per such crash.
  for (let i = 0; i < Math.min(d.roleCrashes, d.nodes.length); i++) emit(d, at, { kind: 'restart', node: '@crashed' });
  d.roleDown = 0;
  d.pending = [];
}

function upNodes(d: Drawing): HostId[] {
  return d.nodes.filter((n) => d.status.get(n) === 'up');
}

function downCount(d: Drawing): number {
  let n = d.roleDown;
  for (const s of d.status.values()) if (s !== 'up') n++;
  return n;
}
