import { fail } from '../kernel/assert.ts';
import { ms } from '../kernel/time.ts';
import type { DiskView, Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { checkNodeConfig } from './config.ts';
import { COORDINATOR_DEFAULTS, type CoordinatorConfig, type MqRpc } from './types.ts';

/**
 * The control plane of the lecture: it knows every broker and, by asking every replica every `pollMs` (100 ms), which
 * one leads each partition and in which term. Producers get a lease from it — the leaders for the next `leaseMs`
 * (500 ms) and a producer id that makes their message ids unique — and come back when it runs out or a broker says
 * "not leader". It also runs consumer groups: members join and heartbeat; when one joins, leaves or goes silent for
 * `sessionMs`, the group's generation moves on and partitions are dealt out again (a rebalance).
 */
interface PartitionView {
  topic: string;
  replicas: NodeId[];
  leader: NodeId | null;
  term: number;
  /** When the leader last said so. */
  seenAt: number;
  ready: number;
  inflight: number;
  lagMs: number;
}

interface Group {
  topics: readonly string[];
  generation: number;
  members: Record<NodeId, number>;
  assignment: Record<NodeId, string[]>;
}

export interface CoordinatorState {
  cfg: CoordinatorConfig;
  partitions: Record<string, PartitionView>;
  groups: Record<string, Group>;
  /** The producer id last handed to each producer node (the counter is persisted, so ids never repeat). */
  producerIds: Record<NodeId, string>;
  nextProducerId: number;
  leaderChanges: number;
  /** Boot count (persisted) and a counter, ordering owner notices to partition leaders across coordinator restarts. */
  epoch: number;
  ownersSeq: number;
}

type Ctx = NodeContext;
const GENERATIONS_PER_EPOCH = 1_000_000;

export const mqCoordinator: NodeBehavior<CoordinatorState, Partial<CoordinatorConfig>> = {
  kind: 'mq-coordinator',
  boot(config, disk: DiskView, ctx) {
    checkNodeConfig('mq-coordinator', ctx.id, config);
    const cfg = { ...COORDINATOR_DEFAULTS, ...config } as CoordinatorConfig;
    if (!(cfg.partitions && Object.keys(cfg.partitions).length > 0)) fail('mq coordinator: no partitions');
    const partitions: Record<string, PartitionView> = {};
    for (const [name, p] of Object.entries(cfg.partitions)) {
      partitions[name] = { topic: p.topic, replicas: [...p.replicas], leader: null, term: 0, seenAt: -Infinity, ready: 0, inflight: 0, lagMs: 0 };
    }
    const next = (disk.producerIds as number | undefined) ?? 1;
    const epoch = ((disk.epoch as number | undefined) ?? 0) + 1;
    ctx.persist({ op: 'put', key: 'epoch', value: epoch }, true);
    ctx.setTimer('poll', 0);
    return { cfg, partitions, groups: {}, producerIds: {}, nextProducerId: next, leaderChanges: 0, epoch, ownersSeq: 0 };
  },
  view: (s) => ({
    partitions: s.partitions,
    groups: Object.fromEntries(Object.entries(s.groups).map(([g, x]) => [g, { topics: x.topics, generation: x.generation, members: Object.keys(x.members), assignment: x.assignment }])),
    producerIds: s.producerIds,
    leaderChanges: s.leaderChanges,
  }),
  headline: (s) => ({ role: 'coordinator', leaders: Object.values(s.partitions).filter((p) => p.leader !== null).length, groups: Object.keys(s.groups).length }),
  step(s, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'poll') fail(`mq coordinator has no timer ${input.name}`);
      return poll(s, ctx);
    }
    receive(s, input.msg, ctx);
  },
};

function poll(s: CoordinatorState, ctx: Ctx): void {
  // Every replica is a node of its own partition's group, so each is asked once.
  for (const [name, p] of Object.entries(s.partitions)) {
    for (const r of p.replicas) ctx.send(r, 'status?', { kind: 'status?' } satisfies MqRpc, 16);
    // A leader that stopped answering for three polls is no longer known.
    if (p.leader !== null && ctx.now - p.seenAt > 3 * ms(s.cfg.pollMs)) setLeader(s, ctx, name, null, p.term);
  }
  for (const [name, g] of Object.entries(s.groups)) {
    const dead = Object.entries(g.members).filter(([, seen]) => ctx.now - seen > ms(s.cfg.sessionMs)).map(([c]) => c);
    if (dead.length === 0) continue;
    for (const c of dead) delete g.members[c];
    ctx.note('member-expired', { group: name, consumers: dead });
    rebalance(s, ctx, name, g, `${dead.join(', ')} went silent`);
  }
  ctx.setTimer('poll', ms(s.cfg.pollMs));
}

function setLeader(s: CoordinatorState, ctx: Ctx, name: string, leader: NodeId | null, term: number): void {
  const p = s.partitions[name];
  const changed = leader !== p.leader;
  if (changed) {
    if (leader !== null) s.leaderChanges++;
    ctx.state(`leader:${name}`, leader);
  }
  p.leader = leader;
  p.term = term;
  if (changed && leader !== null) tellOwners(s, ctx, name);
}

function receive(s: CoordinatorState, msg: Message, ctx: Ctx): void {
  const body = msg.body as MqRpc;
  switch (body.kind) {
    case 'status': {
      const p = s.partitions[body.partition];
      if (!p) return;
      if (body.role === 'leader' && body.term >= p.term) {
        setLeader(s, ctx, body.partition, msg.from, body.term);
        p.seenAt = ctx.now;
        p.ready = body.ready;
        p.inflight = body.inflight;
        p.lagMs = body.lagMs;
      } else if (body.term > p.term && p.leader !== null) {
        setLeader(s, ctx, body.partition, body.leader, body.term); // a newer term: the old leader is gone, the new one may be known
      }
      return;
    }
    case 'lease?': {
      // A producer without an id (new, or restarted and so with its sequence back at 0) gets a fresh one, so message
      // ids never repeat; one that has an id keeps it.
      let id = body.producerId ?? undefined;
      if (id === undefined) {
        id = `P${s.nextProducerId++}`;
        s.producerIds[body.producer] = id;
        ctx.persist({ op: 'put', key: 'producerIds', value: s.nextProducerId }, true);
        ctx.note('producer-id', { producer: body.producer, id });
      }
      const leaders: Record<string, NodeId | null> = {};
      const topicOf: Record<string, string> = {};
      const load: Record<string, number> = {};
      for (const [name, p] of Object.entries(s.partitions)) {
        if (!body.topics.includes(p.topic)) continue;
        leaders[name] = p.leader;
        topicOf[name] = p.topic;
        load[name] = p.ready + p.inflight;
      }
      const until = ctx.now + ms(s.cfg.leaseMs);
      ctx.send(msg.from, 'lease', { kind: 'lease', producerId: id, nonce: body.nonce, leaders, topicOf, load, until } satisfies MqRpc, 32 + 24 * Object.keys(leaders).length);
      return;
    }
    case 'lag?': {
      const partitions: Extract<MqRpc, { kind: 'lag' }>['partitions'] = {};
      for (const [name, p] of Object.entries(s.partitions)) {
        if (body.topics.includes(p.topic)) partitions[name] = { ready: p.ready, inflight: p.inflight, lagMs: p.lagMs, leader: p.leader };
      }
      ctx.send(msg.from, 'lag', { kind: 'lag', partitions } satisfies MqRpc, 16 + 24 * Object.keys(partitions).length);
      return;
    }
    case 'join': {
      // Generations start above every generation of the coordinator's earlier lives (its epoch is persisted), so a
      // sink fencing writes by generation never sees one go backwards after a coordinator restart.
      const g = (s.groups[body.group] ??= { topics: [...body.topics], generation: s.epoch * GENERATIONS_PER_EPOCH, members: {}, assignment: {} });
      const isNew = g.members[body.consumer] === undefined;
      g.members[body.consumer] = ctx.now;
      if (isNew) rebalance(s, ctx, body.group, g, `${body.consumer} joined`);
      else sendAssignment(s, ctx, body.group, g, body.consumer);
      return;
    }
    case 'leave': {
      const g = s.groups[body.group];
      if (!g || g.members[body.consumer] === undefined) return;
      delete g.members[body.consumer];
      rebalance(s, ctx, body.group, g, `${body.consumer} left`);
      return;
    }
    case 'heartbeat': {
      const g = s.groups[body.group];
      if (!g || g.members[body.consumer] === undefined) {
        // Unknown member (expired, or the coordinator restarted): it must join again.
        ctx.send(msg.from, 'assignment', { kind: 'assignment', group: body.group, generation: -1, partitions: {} } satisfies MqRpc, 24);
        return;
      }
      g.members[body.consumer] = ctx.now;
      sendAssignment(s, ctx, body.group, g, body.consumer);
      return;
    }
    default:
      fail(`mq coordinator got ${body.kind} from ${msg.from}`);
  }
}

/** Deals the group's topics' partitions round-robin over the members in name order, and tells every member. */
function rebalance(s: CoordinatorState, ctx: Ctx, name: string, g: Group, why: string): void {
  g.generation++;
  const members = Object.keys(g.members).sort();
  const parts = Object.keys(s.partitions).filter((p) => g.topics.includes(s.partitions[p].topic));
  g.assignment = {};
  for (const c of members) g.assignment[c] = [];
  if (members.length > 0) parts.forEach((p, i) => g.assignment[members[i % members.length]].push(p));
  ctx.note('rebalance', { group: name, generation: g.generation, why, assignment: g.assignment });
  for (const p of parts) tellOwners(s, ctx, p);
  for (const c of members) sendAssignment(s, ctx, name, g, c);
}

/** Tells the partition's leader (when known) which consumers of any group own it now. */
function tellOwners(s: CoordinatorState, ctx: Ctx, partition: string): void {
  const leader = s.partitions[partition].leader;
  const owners: NodeId[] = [];
  for (const g of Object.values(s.groups)) {
    for (const [c, parts] of Object.entries(g.assignment)) if (parts.includes(partition)) owners.push(c);
  }
  if (leader === null || (owners.length === 0 && !Object.values(s.groups).some((g) => g.topics.includes(s.partitions[partition].topic)))) return;
  const seq = ++s.ownersSeq;
  ctx.send(leader, 'owners', { kind: 'owners', partition, owners: Object.freeze(owners.sort()), epoch: s.epoch, seq } satisfies MqRpc, 24 + 8 * owners.length);
}

function sendAssignment(s: CoordinatorState, ctx: Ctx, name: string, g: Group, consumer: NodeId): void {
  const partitions: Record<string, NodeId | null> = {};
  for (const p of g.assignment[consumer] ?? []) partitions[p] = s.partitions[p].leader;
  ctx.send(consumer, 'assignment', { kind: 'assignment', group: name, generation: g.generation, partitions } satisfies MqRpc, 24 + 24 * Object.keys(partitions).length);
}
