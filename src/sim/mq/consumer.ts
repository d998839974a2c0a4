import { fail } from '../kernel/assert.ts';
import { ms } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { checkNodeConfig } from './config.ts';
import { CONSUMER_DEFAULTS, type ConsumerConfig, type Delivered, type MqRpc } from './types.ts';

/**
 * A consumer in a group. The coordinator assigns it partitions; it takes messages from each partition's leader by
 * pull (it asks when it has room: its CPU is protected) or push (the leader sends as messages arrive: the broker's
 * memory is protected, and a slow consumer is overrun — pushes beyond `bufferMax` are dropped). It processes each
 * message for `processMs`, writes the result to the sink, and acks by id in a separate RPC:
 * - at-most-once: ack on receipt, before processing (a crash loses what was buffered);
 * - at-least-once: ack after the sink confirmed (a crash or a slow ack means delivery again: duplicates);
 * - exactly-once: at-least-once plus an idempotent, deduplicating sink (and an idempotent producer).
 */
interface Part {
  leader: NodeId | null;
  fetching: boolean;
  /** Messages the outstanding fetch asked for: room already promised, so pull never asks beyond the buffer. */
  asked: number;
  fetchSentAt: number;
  subscribedAt: number;
}

export interface ConsumerState {
  cfg: ConsumerConfig;
  /** Outside the group: a standby waiting for `activate`, or told to `deactivate`. */
  idle: boolean;
  generation: number;
  parts: Record<string, Part>;
  buffer: Delivered[];
  head: number;
  /** Messages taken out of the buffer so far: buffer positions are counted from the first message the consumer got. */
  taken: number;
  /**
   * The latest delivery buffered whole — the broker's frozen array — and the position where it starts. A chunk that is
   * exactly that delivery goes to the sink as that same array, which the trace hash has seen already.
   */
  lastDelivery: { items: readonly Delivered[]; at: number } | null;
  working: boolean;
  nextWid: number;
  writes: Record<number, { at: number; items: readonly Delivered[] }>;
  counts: { received: number; processed: number; overrun: number; acked: number; rebalances: number };
}

type Ctx = NodeContext;
const COORDINATOR = 'ctl';

export const mqConsumer: NodeBehavior<ConsumerState, Partial<ConsumerConfig>> = {
  kind: 'mq-consumer',
  boot(config, _disk, ctx) {
    checkNodeConfig('mq-consumer', ctx.id, config);
    const cfg = { ...CONSUMER_DEFAULTS, ...config } as ConsumerConfig;
    if (!(cfg.topic && cfg.group)) fail('mq consumer: topic and group are required');
    if (!(cfg.processMs > 0)) fail('mq consumer: processMs must be positive');
    if (cfg.topics.length === 0) cfg.topics = [cfg.topic];
    const s: ConsumerState = {
      cfg, idle: cfg.startIdle, generation: 0, parts: {}, buffer: [], head: 0, taken: 0, lastDelivery: null, working: false, nextWid: 1, writes: {},
      counts: { received: 0, processed: 0, overrun: 0, acked: 0, rebalances: 0 },
    };
    if (!s.idle) join(s, ctx);
    ctx.setTimer('heartbeat', ms(cfg.heartbeatMs));
    return s;
  },
  view: (s) => ({
    cfg: s.cfg, generation: s.generation, parts: s.parts, buffered: s.buffer.length - s.head, working: s.working,
    next: s.buffer.slice(s.head, s.head + 10).map((d) => d.m.id), writes: Object.keys(s.writes).length, counts: s.counts,
  }),
  headline: (s) => ({ role: 'consumer', buffered: s.buffer.length - s.head, processed: s.counts.processed, partitions: Object.keys(s.parts).length }),
  step(s, input, ctx) {
    if (input.type === 'timer') {
      if (input.name === 'heartbeat') return heartbeat(s, ctx);
      if (input.name === 'work') return work(s, ctx);
      fail(`mq consumer has no timer ${input.name}`);
    }
    receive(s, input.msg, ctx);
  },
};

function join(s: ConsumerState, ctx: Ctx): void {
  ctx.note('joining', { group: s.cfg.group, semantics: s.cfg.semantics, mode: s.cfg.mode });
  ctx.send(COORDINATOR, 'join', { kind: 'join', consumer: ctx.id, group: s.cfg.group, topics: s.cfg.topics } satisfies MqRpc, 24 + 8 * s.cfg.topics.length);
}

/**
 * Autoscaling: `activate` joins the group (a rebalance gives this consumer partitions), `deactivate` leaves it. What
 * is buffered is still processed; its acks go nowhere once the partitions are gone, so those messages come back to
 * their new owner after the visibility timeout.
 */
function setIdle(s: ConsumerState, ctx: Ctx, idle: boolean): void {
  if (s.idle === idle) return;
  s.idle = idle;
  ctx.state('active', !idle);
  if (!idle) return join(s, ctx);
  ctx.send(COORDINATOR, 'leave', { kind: 'leave', consumer: ctx.id, group: s.cfg.group } satisfies MqRpc, 24);
  s.parts = {};
  s.generation = 0;
}

function buffered(s: ConsumerState): number {
  return s.buffer.length - s.head;
}

function heartbeat(s: ConsumerState, ctx: Ctx): void {
  ctx.setTimer('heartbeat', ms(s.cfg.heartbeatMs));
  if (!s.idle) ctx.send(COORDINATOR, 'heartbeat', { kind: 'heartbeat', consumer: ctx.id, group: s.cfg.group, generation: s.generation } satisfies MqRpc, 24);
  const stale = ms(s.cfg.heartbeatMs) * 5;
  for (const [p, part] of Object.entries(s.parts)) {
    if (part.fetching && ctx.now - part.fetchSentAt > stale) part.fetching = false; // the fetch or its answer was lost
    if (s.cfg.mode === 'push' && part.leader) subscribe(s, ctx, p, part);
  }
  // Writes are numbered in the order they were made, and integer keys iterate in ascending order: the expired ones
  // are a prefix (an APM aggregator holds thousands of writes open for a minute-long window).
  for (const wid in s.writes) {
    const w = s.writes[wid];
    if (ctx.now - w.at <= ms(s.cfg.writeTimeoutMs)) break;
    delete s.writes[wid];
    ctx.note('write-timeout', { wid: Number(wid), n: w.items.length });
  }
  pull(s, ctx);
}

function subscribe(s: ConsumerState, ctx: Ctx, p: string, part: Part): void {
  part.subscribedAt = ctx.now;
  ctx.send(part.leader!, 'subscribe', { kind: 'subscribe', consumer: ctx.id, partition: p, window: s.cfg.pushWindow, laneFilter: s.cfg.laneFilter, keyPrefix: s.cfg.keyPrefix } satisfies MqRpc, 32);
}

/** Pull: one outstanding fetch per partition, asking for no more than the buffer has room for. */
function pull(s: ConsumerState, ctx: Ctx): void {
  if (s.cfg.mode !== 'pull') return;
  let room = s.cfg.bufferMax - buffered(s);
  for (const part of Object.values(s.parts)) if (part.fetching) room -= part.asked;
  for (const [p, part] of Object.entries(s.parts)) {
    if (room <= 0) return;
    if (part.fetching || !part.leader) continue;
    const max = Math.min(s.cfg.fetchMax, room);
    room -= max;
    part.asked = max;
    part.fetching = true;
    part.fetchSentAt = ctx.now;
    ctx.send(part.leader, 'fetch', { kind: 'fetch', consumer: ctx.id, partition: p, max, laneFilter: s.cfg.laneFilter, keyPrefix: s.cfg.keyPrefix } satisfies MqRpc, 32);
  }
}

function receive(s: ConsumerState, msg: Message, ctx: Ctx): void {
  const body = msg.body as MqRpc;
  switch (body.kind) {
    case 'assignment':
      return assigned(s, ctx, body);
    case 'deliver':
      return delivered(s, ctx, msg.from, body);
    case 'written': {
      const w = s.writes[body.wid];
      if (!w) return;
      delete s.writes[body.wid];
      if (s.cfg.semantics !== 'at-most-once') ack(s, ctx, w.items);
      return;
    }
    case 'activate':
    case 'deactivate':
      if (msg.from !== s.cfg.sink) fail(`mq consumer ${ctx.id}: ${body.kind} from ${msg.from}, which is not its sink`);
      return setIdle(s, ctx, body.kind === 'deactivate');
    default:
      fail(`mq consumer got ${body.kind} from ${msg.from}`);
  }
}

function assigned(s: ConsumerState, ctx: Ctx, a: Extract<MqRpc, { kind: 'assignment' }>): void {
  if (a.generation === -1) {
    if (s.idle) return;
    ctx.note('rejoin', { group: s.cfg.group });
    s.generation = 0;
    ctx.send(COORDINATOR, 'join', { kind: 'join', consumer: ctx.id, group: s.cfg.group, topics: s.cfg.topics } satisfies MqRpc, 24 + 8 * s.cfg.topics.length);
    return;
  }
  if (a.generation < s.generation || s.idle) return;
  if (a.generation > s.generation) {
    s.counts.rebalances++;
    ctx.note('assigned', { generation: a.generation, partitions: Object.keys(a.partitions) });
    ctx.state('partitions', Object.keys(a.partitions).join(' '));
    const next: Record<string, Part> = {};
    for (const p of Object.keys(a.partitions)) next[p] = s.parts[p] ?? { leader: null, fetching: false, asked: 0, fetchSentAt: 0, subscribedAt: -Infinity };
    const revoked = Object.keys(s.parts).filter((p) => next[p] === undefined);
    s.parts = next;
    s.generation = a.generation;
    if (s.cfg.revokeNotice) {
      if (revoked.length > 0) ctx.send(s.cfg.sink, 'revoked', { kind: 'revoked', partitions: Object.freeze(revoked) } satisfies MqRpc, 16 + 8 * revoked.length);
      ctx.send(s.cfg.sink, 'assigned', { kind: 'assigned', generation: a.generation, partitions: Object.freeze(Object.keys(next)) } satisfies MqRpc, 16 + 8 * Object.keys(next).length);
    }
  }
  for (const [p, leader] of Object.entries(a.partitions)) {
    const part = s.parts[p];
    if (!part || !leader || leader === part.leader) continue;
    part.leader = leader;
    part.fetching = false;
    if (s.cfg.mode === 'push') subscribe(s, ctx, p, part);
  }
  pull(s, ctx);
}

function delivered(s: ConsumerState, ctx: Ctx, from: NodeId, d: Extract<MqRpc, { kind: 'deliver' }>): void {
  const part = s.parts[d.partition];
  if (part && part.leader === from) part.fetching = false;
  if (!d.ok) {
    if (part && part.leader === from) part.leader = d.leaderHint !== from ? d.leaderHint : null;
    if (part && part.leader && s.cfg.mode === 'push') subscribe(s, ctx, d.partition, part);
    return pull(s, ctx);
  }
  if (d.msgs.length > 0) {
    const room = s.cfg.bufferMax - buffered(s);
    const kept = d.msgs.length <= room ? d.msgs : d.msgs.slice(0, Math.max(0, room));
    if (kept.length < d.msgs.length) {
      s.counts.overrun += d.msgs.length - kept.length;
      ctx.note('overrun', { partition: d.partition, dropped: d.msgs.length - kept.length, buffered: buffered(s) });
      ctx.count('mq.overrun', d.msgs.length - kept.length);
    }
    s.counts.received += kept.length;
    s.lastDelivery = kept === d.msgs && Object.isFrozen(kept) ? { items: kept, at: s.taken + buffered(s) } : null;
    for (const x of kept) s.buffer.push(x);
    if (s.cfg.semantics === 'at-most-once') ack(s, ctx, kept);
    if (!s.working) startWork(s, ctx);
  }
  pull(s, ctx);
}

/**
 * Messages in the next chunk: as many buffered ones as `chunkMs` of work holds, at least one. A chunk is processed,
 * written to the sink and acknowledged together — as a Kafka consumer processes what one poll returned, then commits.
 */
function chunkOf(s: ConsumerState): number {
  return Math.min(buffered(s), Math.max(1, Math.floor(s.cfg.chunkMs / s.cfg.processMs)));
}

function startWork(s: ConsumerState, ctx: Ctx): void {
  const n = chunkOf(s);
  if (n === 0) return;
  s.working = true;
  ctx.setTimer('work', Math.max(1, Math.round(ms(s.cfg.processMs) * n)));
}

/** Finishes a chunk of messages (processing takes `processMs` each) and hands the results to the sink. */
function work(s: ConsumerState, ctx: Ctx): void {
  s.working = false;
  const n = chunkOf(s);
  const whole = s.lastDelivery !== null && s.lastDelivery.at === s.taken && s.lastDelivery.items.length === n ? s.lastDelivery.items : null;
  let items: readonly Delivered[] = whole ?? Object.freeze(s.buffer.slice(s.head, s.head + n));
  if (whole !== null) s.lastDelivery = null;
  s.head += n;
  s.taken += n;
  if (s.head > 4096 && s.head * 2 > s.buffer.length) {
    s.buffer = s.buffer.slice(s.head);
    s.head = 0;
  }
  if (s.cfg.failKey !== '' && items.some((d) => d.m.key === s.cfg.failKey)) {
    const failed = items.filter((d) => d.m.key === s.cfg.failKey);
    ctx.note('processing-failed', { ids: failed.map((d) => d.m.id), deliveries: failed.map((d) => d.deliveries) });
    items = Object.freeze(items.filter((d) => d.m.key !== s.cfg.failKey));
  }
  if (items.length > 0) {
    s.counts.processed += items.length;
    const wid = s.nextWid++;
    s.writes[wid] = { at: ctx.now, items };
    let bytes = 32;
    for (const d of items) bytes += d.m.bytes;
    ctx.send(s.cfg.sink, 'write', { kind: 'write', consumer: ctx.id, wid, items } satisfies MqRpc, bytes);
  }
  if (buffered(s) > 0) startWork(s, ctx);
  pull(s, ctx);
}

function ack(s: ConsumerState, ctx: Ctx, items: readonly Delivered[]): void {
  const byPartition: Record<string, string[]> = {};
  for (const d of items) (byPartition[d.partition] ??= []).push(d.m.id);
  for (const [p, ids] of Object.entries(byPartition)) {
    const leader = s.parts[p]?.leader;
    if (!leader) continue; // no longer ours or leader unknown: the message comes back after its visibility timeout
    s.counts.acked += ids.length;
    ctx.send(leader, 'ack', { kind: 'ack', consumer: ctx.id, partition: p, ids: Object.freeze(ids) } satisfies MqRpc, 16 + 12 * ids.length);
  }
}
