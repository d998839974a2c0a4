import { assert, fail } from '../kernel/assert.ts';
import { ms, type Micros } from '../kernel/time.ts';
import type { Message, NodeBehavior, NodeContext, NodeId } from '../kernel/types.ts';
import { bytesOf, ConfigCheck, RECORDS_PER_MESSAGE_MAX, type LessonMessage, type Rec } from './types.ts';

/**
 * A smart broker in the style of RabbitMQ or a JMS server — how "stream processing" was done before 2010 (smart
 * broker, dumb clients). A consumer subscribes and the broker declares a queue for it, bound to the source's
 * exchange (fanout: every queue gets a copy of every order published after it was declared — nothing from before).
 * The broker pushes each queue's messages to its consumer, at most `prefetch` unacknowledged at a time, tracks every
 * message until the consumer acknowledges it, and then deletes it: once acknowledged, a message exists nowhere, so
 * there is nothing to replay. Queues live in memory and are bounded (`queueMax` ready messages, as RabbitMQ's
 * max-length); when one is full the broker either drops the oldest ready message (`drop-head`, RabbitMQ's default) or
 * refuses the publish (`reject-publish`), pushing back on the source, which must then buffer or drop.
 *
 * A message not acknowledged within `redeliverAfterMs` goes back to the head of its queue. Every `statusMs` the broker
 * observes each queue's depth (`backlogRecords:<consumer>`: ready + unacknowledged) and the deepest (`backlogRecords`),
 * and announces them all as state `backlog` ({consumer: depth}) when one changes.
 */
export interface BrokerConfig {
  queueMax: number;
  overflow: 'drop-head' | 'reject-publish';
  /** The most a consumer may ask to have unacknowledged. */
  prefetchMax: number;
  redeliverAfterMs: number;
  statusMs: number;
}

export const BROKER_DEFAULTS: BrokerConfig = { queueMax: 1_000, overflow: 'drop-head', prefetchMax: 1_000, redeliverAfterMs: 30_000, statusMs: 500 };
export const BROKER_QUEUE_MAX = 100_000;
export const BROKER_QUEUES_MAX = 64;
export const OVERFLOWS = ['drop-head', 'reject-publish'] as const;

interface Queue {
  consumer: NodeId;
  prefetch: number;
  /** Ready messages, oldest first. */
  ready: Rec[];
  /** Pushed and not yet acknowledged, by order id, with when each was pushed. */
  unacked: Record<string, { rec: Rec; at: Micros }>;
  unackedCount: number;
  counts: { delivered: number; acked: number; dropped: number; redelivered: number };
}

export interface BrokerMemory {
  cfg: BrokerConfig;
  /** One queue per subscribed consumer, in order of subscription. */
  queues: Queue[];
  announced: Record<NodeId, number>;
  counts: { published: number; refused: number; dropped: number; unroutable: number };
}

type Ctx = NodeContext;

export const lessonBroker: NodeBehavior<BrokerMemory, Partial<BrokerConfig>> = {
  kind: 'lesson-broker',
  headline: (m) => ({ queues: m.queues.length, depth: Math.max(0, ...m.queues.map(depth)), dropped: m.counts.dropped }),
  view: (m) => ({
    cfg: m.cfg,
    queues: m.queues.map((q) => ({ consumer: q.consumer, prefetch: q.prefetch, ready: q.ready.length, unacked: q.unackedCount, head: q.ready.slice(0, 10), counts: q.counts })),
    counts: m.counts,
  }),
  boot(config, _disk, ctx) {
    const c = new ConfigCheck('lesson-broker', ctx);
    const cfg = c.merge(BROKER_DEFAULTS, config);
    c.int('queueMax', cfg.queueMax, 1, BROKER_QUEUE_MAX);
    c.oneOf('overflow', cfg.overflow, OVERFLOWS);
    c.int('prefetchMax', cfg.prefetchMax, 1, RECORDS_PER_MESSAGE_MAX);
    c.num('redeliverAfterMs', cfg.redeliverAfterMs, 1, 86_400_000);
    c.num('statusMs', cfg.statusMs, 10, 600_000);
    // Queues are in memory only: a restarted broker has none, and its consumers must subscribe again.
    ctx.count('brokerDropped', 0);
    ctx.setTimer('status', ms(cfg.statusMs));
    return { cfg, queues: [], announced: {}, counts: { published: 0, refused: 0, dropped: 0, unroutable: 0 } };
  },
  step(m, input, ctx) {
    if (input.type === 'timer') {
      if (input.name !== 'status') fail(`lesson-broker has no timer ${input.name}`);
      redeliver(m, ctx);
      status(m, ctx);
      ctx.setTimer('status', ms(m.cfg.statusMs));
      return;
    }
    return receive(m, input.msg, ctx);
  },
};

function depth(q: Queue): number {
  return q.ready.length + q.unackedCount;
}

function receive(m: BrokerMemory, msg: Message, ctx: Ctx): void {
  const body = msg.body as LessonMessage;
  switch (body.kind) {
    case 'events':
      return publish(m, msg.from, body, ctx);
    case 'subscribe':
      return subscribe(m, msg.from, body.prefetch, ctx);
    case 'ack': {
      const q = m.queues.find((x) => x.consumer === msg.from);
      if (!q) return; // the broker restarted and forgot the queue: the ack has nothing to delete
      for (const id of body.ids) {
        if (!q.unacked[id]) continue; // redelivered meanwhile, or acknowledged twice
        delete q.unacked[id];
        q.unackedCount--;
        q.counts.acked++;
      }
      ctx.count('brokerAcked', body.ids.length);
      return push(m, q, ctx);
    }
    default:
      fail(`lesson-broker got ${body.kind} from ${msg.from}`);
  }
}

function subscribe(m: BrokerMemory, consumer: NodeId, prefetch: number, ctx: Ctx): void {
  if (!(Number.isInteger(prefetch) && prefetch >= 1)) fail(`lesson-broker: ${consumer} asked for prefetch ${prefetch}`);
  let q = m.queues.find((x) => x.consumer === consumer);
  if (!q) {
    if (!(m.queues.length < BROKER_QUEUES_MAX)) fail(`lesson-broker ${ctx.id}: more than ${BROKER_QUEUES_MAX} queues`);
    q = { consumer, prefetch: 1, ready: [], unacked: {}, unackedCount: 0, counts: { delivered: 0, acked: 0, dropped: 0, redelivered: 0 } };
    m.queues.push(q);
    ctx.note('queue-declared', { consumer });
  } else {
    // A consumer that subscribes again has restarted: what it held unacknowledged goes back to the head, in order.
    requeue(q, Object.keys(q.unacked), ctx);
  }
  q.prefetch = Math.min(prefetch, m.cfg.prefetchMax);
  push(m, q, ctx);
}

/**
 * Fanout: every queue gets the batch; what its consumer has prefetch room for goes straight out, the rest waits as
 * ready messages, at most `queueMax` of them (RabbitMQ's max-length counts ready messages only). With
 * `reject-publish` the broker takes only as many orders as the fullest queue has room for and refuses the rest (the
 * source keeps them and retries); with `drop-head` it takes everything and drops the oldest ready messages.
 */
function publish(m: BrokerMemory, from: NodeId, body: Extract<LessonMessage, { kind: 'events' }>, ctx: Ctx): void {
  let accepted = body.records.length;
  if (m.cfg.overflow === 'reject-publish') for (const q of m.queues) accepted = Math.min(accepted, roomIn(m, q));
  const taken = body.records.slice(0, accepted);
  if (m.queues.length === 0 && taken.length > 0) {
    m.counts.unroutable += taken.length;
    ctx.count('brokerUnroutable', taken.length);
  }
  for (const q of m.queues) {
    for (const rec of taken) q.ready.push(rec);
    push(m, q, ctx);
    const over = q.ready.length - m.cfg.queueMax;
    if (over > 0) {
      const gone = q.ready.splice(0, over);
      q.counts.dropped += over;
      m.counts.dropped += over;
      ctx.count('brokerDropped', over);
      ctx.note('dropped', { queue: q.consumer, n: over, from: gone[0].id, to: gone[gone.length - 1].id });
    }
    assert(q.ready.length <= m.cfg.queueMax, 'lesson-broker: a queue holds at most queueMax ready messages');
  }
  m.counts.published += taken.length;
  ctx.count('brokerPublished', taken.length);
  const rejected = body.records.length - accepted;
  if (rejected > 0) {
    m.counts.refused += rejected;
    ctx.count('brokerRefused', rejected);
  }
  ctx.send(from, 'events-reply', { kind: 'events-reply', batch: body.batch, accepted, rejected } satisfies LessonMessage, 32);
}

/** What a queue can take now: its consumer's free prefetch slots (when nothing is ready) plus free ready places. */
function roomIn(m: BrokerMemory, q: Queue): number {
  const free = q.ready.length === 0 ? Math.max(0, q.prefetch - q.unackedCount) : 0;
  return free + Math.max(0, m.cfg.queueMax - q.ready.length);
}

/** Pushes ready messages while the consumer has room under its prefetch: one `deliver` per call. */
function push(m: BrokerMemory, q: Queue, ctx: Ctx): void {
  const room = q.prefetch - q.unackedCount;
  if (room <= 0 || q.ready.length === 0) return;
  const records = q.ready.splice(0, room);
  for (const rec of records) q.unacked[rec.id] = { rec, at: ctx.now };
  q.unackedCount += records.length;
  q.counts.delivered += records.length;
  assert(q.unackedCount <= q.prefetch, 'lesson-broker: never more than prefetch unacknowledged');
  ctx.send(q.consumer, 'deliver', { kind: 'deliver', records } satisfies LessonMessage, bytesOf(records.length));
}

function requeue(q: Queue, ids: string[], ctx: Ctx): void {
  if (ids.length === 0) return;
  const back = ids.map((id) => q.unacked[id].rec).sort((a, b) => a.id - b.id);
  for (const id of ids) delete q.unacked[id];
  q.unackedCount -= ids.length;
  q.ready.unshift(...back);
  q.counts.redelivered += back.length;
  ctx.count('brokerRedelivered', back.length);
  ctx.note('requeued', { queue: q.consumer, n: back.length });
}

function redeliver(m: BrokerMemory, ctx: Ctx): void {
  const cutoff = ctx.now - ms(m.cfg.redeliverAfterMs);
  for (const q of m.queues) {
    const late = Object.keys(q.unacked).filter((id) => q.unacked[id].at <= cutoff);
    if (late.length === 0) continue;
    requeue(q, late, ctx);
    push(m, q, ctx);
  }
}

function status(m: BrokerMemory, ctx: Ctx): void {
  if (m.queues.length === 0) return;
  let worst = 0;
  let changed = false;
  for (const q of m.queues) {
    const d = depth(q);
    worst = Math.max(worst, d);
    ctx.observe(`backlogRecords:${q.consumer}`, d);
    if (m.announced[q.consumer] !== d) {
      m.announced[q.consumer] = d;
      changed = true;
    }
  }
  if (changed) ctx.state('backlog', { ...m.announced });
  ctx.observe('backlogRecords', worst);
}
